"""Uploads waiting for confirmation. The file is read and checked once; what waits is
its checked rows (as JSON), in a private folder in the data directory under a random
token. The token is kept in the uploader's session and the folder names its owner, so
nobody else can confirm it; it expires, so an old check cannot be recorded long after."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from flask import current_app, session
from werkzeug.datastructures import FileStorage

from ledger.transfer.importing import Prepared
from ledger.transfer.read import kind_of
from web.transfer.common import private_folder

META = "upload.json"
CHECKED = "checked.json"
SESSION_KEY = "transfer_upload"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Upload:
    token: str
    folder: Path
    owner: str
    name: str  # the file's name as its owner knows it: shown, never used as a path
    stored: str  # the name it is stored and read under
    created: float

    @property
    def path(self) -> Path:
        return self.folder / self.stored


def _ttl() -> float:
    return current_app.config["IMPORT_UPLOAD_TTL"].total_seconds()


def display_name(filename: str | None) -> str:
    # Some browsers send the whole path; only the last part means anything to the user.
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    return name[:200] or "the file"


def stored_name(name: str) -> str:
    """A fixed name the importer understands: a CSV's kind decides what it holds. An
    unrecognised CSV becomes upload.csv, which the importer refuses with its own advice."""
    if name.lower().endswith(".xlsx"):
        return "upload.xlsx"
    return f"{kind_of(name.rsplit('.', 1)[0]) or 'upload'}.csv"


def receive(file: FileStorage, owner: str) -> Upload:
    """Store an uploaded file, under a new token, for reading."""
    token = secrets.token_urlsafe(32)
    folder = private_folder() / token
    folder.mkdir(mode=0o700)
    name = display_name(file.filename)
    upload = Upload(token, folder, owner, name, stored_name(name), time.time())
    file.save(upload.path)
    return upload


def keep(upload: Upload, prepared: Prepared) -> None:
    """Keep the checked rows for confirmation, in place of the file, in this session."""
    meta = {"owner": upload.owner, "name": upload.name, "stored": upload.stored, "created": upload.created}
    (upload.folder / CHECKED).write_text(json.dumps(prepared.to_json()), encoding="utf-8")
    (upload.folder / META).write_text(json.dumps(meta), encoding="utf-8")
    upload.path.unlink(missing_ok=True)  # read once: the rows are what is recorded
    session[SESSION_KEY] = upload.token


def claim(token: str, owner: str) -> tuple[Upload, Prepared] | None:
    """The checked rows `token` names, taken out of waiting, if they are this session's,
    `owner`'s and not expired. Taken by renaming the folder, so a double click records once."""
    if not TOKEN.match(token) or session.get(SESSION_KEY) != token:
        return None
    waiting = private_folder() / token
    claimed = waiting.with_name(f"{token}.claimed")
    try:
        meta: dict[str, Any] = json.loads((waiting / META).read_text(encoding="utf-8"))
        if meta["owner"] != owner:
            return None
        waiting.rename(claimed)  # fails for the second of two clicks
        os.utime(claimed)  # recording may take a while: not one for sweep meanwhile
    except (OSError, ValueError, KeyError):
        return None
    try:
        upload = Upload(token, claimed, owner, meta["name"], meta["stored"], meta["created"])
        if time.time() - upload.created > _ttl():
            return None
        return upload, Prepared.from_json(json.loads((claimed / CHECKED).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    finally:
        discard(claimed)  # claimed once: recorded now, or never


def discard(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def discard_pending() -> None:
    """Forget this session's upload waiting for confirmation, if any."""
    token = session.pop(SESSION_KEY, None)
    if isinstance(token, str) and TOKEN.match(token):
        discard(private_folder() / token)


def sweep() -> None:
    """Remove uploads never confirmed and exports a crash left behind."""
    cutoff = time.time() - _ttl()
    for entry in private_folder().iterdir():
        try:
            if entry.stat().st_mtime >= cutoff:
                continue
            if entry.is_dir():
                discard(entry)
            else:
                entry.unlink()
        except OSError:
            continue
