"""Writing a backup's files: owner-only, fsynced, and copied consistently while the
service keeps writing.

A live SQLite database is never copied as a file (a WAL database's file alone can miss
committed pages, or catch a half-checkpointed one). It is copied with SQLite's online
backup API from inside one read transaction: in WAL mode that transaction pins one
snapshot, so the copy proceeds a step at a time (for the progress bar) without the
restarts a concurrent writer would otherwise cause, and holds exactly one commit's state.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ledger.store.sqlite import open_read_only

# Pages copied per backup step: small enough for a smooth bar, large enough to be quick.
PAGES_PER_STEP = 1024
_CHUNK = 1 << 20

# Called with the number of units just finished (database pages or whole files).
Advance = Callable[[int], None]


def private_dir(path: Path) -> None:
    """Create `path` (and missing parents) readable by its owner only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def _create_private(path: Path) -> int:
    """A new, empty file only its owner can read or write; refuses to reuse one."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def page_count(db_path: Path) -> int:
    """Pages in an SQLite file (for the progress total)."""
    conn = open_read_only(db_path)
    try:
        return int(conn.execute("PRAGMA page_count").fetchone()[0])
    finally:
        conn.close()


def copy_database(source: Path, target: Path, advance: Advance | None = None) -> None:
    """Copy a (possibly live) SQLite database into a new owner-only file at `target`.

    The copy is a single self-contained file (rollback journal, not WAL), so its bytes,
    and so its SHA-256, do not change when it is later opened read-only."""
    os.close(_create_private(target))  # SQLite keeps an existing file's permissions
    src = open_read_only(source)
    dst = sqlite3.connect(target, isolation_level=None)
    try:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # starts the snapshot
        copied = [0]

        def step(_status: int, remaining: int, total: int) -> None:
            if advance is not None:
                advance(total - remaining - copied[0])
            copied[0] = total - remaining

        src.backup(dst, pages=PAGES_PER_STEP, progress=step)
        src.execute("COMMIT")
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    os.chmod(target, 0o600)
    _fsync(target)


def copy_file(source: Path, target: Path) -> None:
    """Copy a file that is not written in place (the key, a published report)."""
    with source.open("rb") as src, os.fdopen(_create_private(target), "wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)
        dst.flush()
        os.fsync(dst.fileno())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
