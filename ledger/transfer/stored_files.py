"""Files for background jobs (an upload over the size threshold, a rebuild or report
request, a built report waiting to be downloaded), kept safe in
the data directory: content-addressed (a folder named by the file's SHA-256), readable by
the service's own user only, and checked against that hash before a worker reads them.

The job's events record only the SHA-256, the name and the size; never the file."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ledger.errors import LedgerError

FOLDER = "job-files"
CHUNK = 1 << 20
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# The importer's and the job worker's own names, never the user's.
STORED_NAME = re.compile(r"^[a-z_]+\.(csv|xlsx|docx|json)$")


class StoredFileMissing(LedgerError):
    """The job's file is gone or no longer what was uploaded."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: Path


def _folder(data_dir: str | os.PathLike[str]) -> Path:
    folder = Path(data_dir) / FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def store(data_dir: str | os.PathLike[str], stream: BinaryIO, stored_name: str) -> StoredFile:
    """Copy `stream` in under its SHA-256, owner-only; the same bytes are kept once."""
    if not STORED_NAME.match(stored_name):
        raise ValueError(f"not a name the importer gives files: {stored_name!r}")
    root = _folder(data_dir)
    digest = hashlib.sha256()
    size = 0
    fd, temp = tempfile.mkstemp(dir=root, prefix=".upload-")  # created 0600
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        folder = root / digest.hexdigest()
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / stored_name
        os.replace(temp, path)  # atomic: a worker never sees half a file
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return StoredFile(digest.hexdigest(), size, path)


def holds(data_dir: str | os.PathLike[str], sha256: str, stored_name: str) -> bool:
    """Whether this node keeps the file (a job runs where its file is, unless the job
    store is shared between nodes)."""
    return bool(SHA256.match(sha256)) and (_folder(data_dir) / sha256 / stored_name).is_file()


def stored_path(data_dir: str | os.PathLike[str], sha256: str, stored_name: str) -> Path:
    """The stored file, checked to be the bytes that were uploaded."""
    if not SHA256.match(sha256) or not STORED_NAME.match(stored_name):
        raise StoredFileMissing("The job names its file wrongly, so it cannot be read.")
    path = _folder(data_dir) / sha256 / stored_name
    if not path.is_file():
        raise StoredFileMissing("The uploaded file is no longer kept. Upload it again.")
    if _digest(path) != sha256:
        raise StoredFileMissing("The kept file no longer matches what was uploaded. Upload it again.")
    return path


def kept_before(data_dir: str | os.PathLike[str], sha256: str, stored_name: str, cutoff: datetime) -> bool:
    """Whether the file is kept here and was last written before `cutoff`."""
    if not holds(data_dir, sha256, stored_name):
        return False
    written = (_folder(data_dir) / sha256 / stored_name).stat().st_mtime
    return datetime.fromtimestamp(written, UTC) < cutoff


def discard(data_dir: str | os.PathLike[str], sha256: str) -> None:
    """Remove a file no job needs any more."""
    if SHA256.match(sha256):
        shutil.rmtree(_folder(data_dir) / sha256, ignore_errors=True)
