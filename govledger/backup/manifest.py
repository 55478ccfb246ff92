"""A backup's manifest: what it holds and how to prove it is undamaged.

    manifest.json   {"format": 1, "taken_at": ..., "store": "sqlite" | "postgresql",
                     "events": N, "head": "<chain head hex>", "projections": ...,
                     "files": {"<path in the backup>": "<sha256 hex>", ...}}

`events` and `head` are what the copy itself verifies to (ledger.store.verify on the
copied events.db; on PostgreSQL, in the very snapshot pg_dump copied). Only the names a
backup can hold are accepted, so an edited manifest cannot make restore read or write
outside the backup and the data directory.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from govledger.backup.files import sha256_file

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE, POSTGRESQL = "sqlite", "postgresql"
EVENTS_DUMP = "events.pgdump"  # pg_dump's custom format, for pg_restore
PROJECTIONS_NOTE = (
    "not backed up: projections.db is rebuilt from the restored events, so it always "
    "equals a replay of exactly the log restored"
)

# Every name a backup may hold: the stores, the key, and content-addressed publications.
_ALLOWED = re.compile(
    r"(events\.db|events\.pgdump|credentials\.db|secret_key|publications/[0-9a-f]{64}\.(?:html|csv|docx))"
)


class BackupDamaged(Exception):
    """The backup is incomplete, altered or not a backup: nothing was restored."""


@dataclass(frozen=True)
class Manifest:
    store: str
    events: int
    head: str
    taken_at: str
    files: dict[str, str] = field(default_factory=dict)
    projections: str = PROJECTIONS_NOTE
    format: int = FORMAT

    def write(self, path: Path) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    @classmethod
    def load(cls, backup: Path) -> Manifest:
        path = backup / MANIFEST
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BackupDamaged(f"{backup} is not a govledger backup: it has no {MANIFEST}.") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BackupDamaged(f"{path} cannot be read as a manifest: {e}") from None
        try:
            manifest = cls(
                store=str(data["store"]),
                events=int(data["events"]),
                head=str(data["head"]),
                taken_at=str(data["taken_at"]),
                files={str(k): str(v) for k, v in dict(data["files"]).items()},
                projections=str(data.get("projections", PROJECTIONS_NOTE)),
                format=int(data["format"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise BackupDamaged(f"{path} is not a valid manifest (problem with {e}).") from None
        if manifest.format != FORMAT:
            raise BackupDamaged(f"{path} is backup format {manifest.format}; this version reads {FORMAT}.")
        if manifest.store not in (SQLITE, POSTGRESQL):
            raise BackupDamaged(f"{path} names an unknown event store {manifest.store!r}.")
        strange = sorted(name for name in manifest.files if not _ALLOWED.fullmatch(name))
        if strange:
            raise BackupDamaged(f"{path} lists files a backup never holds: {', '.join(strange)}.")
        return manifest

    @property
    def events_file(self) -> str:
        return "events.db" if self.store == SQLITE else EVENTS_DUMP


def record_files(backup: Path, names: list[str]) -> dict[str, str]:
    """SHA-256 of each named file in the backup."""
    return {name: sha256_file(backup / name) for name in sorted(names)}


def problems(backup: Path, manifest: Manifest) -> list[str]:
    """Every way the backup's files differ from its manifest ([] when it is intact)."""
    found = []
    if manifest.events_file not in manifest.files:
        found.append(f"the manifest lists no {manifest.events_file}")
    for name, expected in sorted(manifest.files.items()):
        path = backup / name
        if not path.is_file():
            found.append(f"{name} is missing")
        elif sha256_file(path) != expected:
            found.append(f"{name} has been altered (its SHA-256 differs from the manifest's)")
    return found
