"""Scratch files: a database being built beside the file it will become.

A rebuild or snapshot writes 100 MB or more into a scratch file and then installs it. If
the process is killed, nothing removes that file. So every build holds an exclusive
`flock` on its scratch file from creation to removal; the kernel drops the lock when the
process ends, however it ends. A scratch file whose lock anyone can take is therefore
left over from a killed build, and `remove_stale` deletes it (with its -wal, -shm and
-journal) at the next rebuild, snapshot or start-up, while a build running now in another
process keeps its lock and its file.

flock, not fcntl's POSIX locks: SQLite uses those on the same file, and closing any
descriptor of a file drops every POSIX lock the process holds on it.
"""

from __future__ import annotations

import fcntl
import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

SIDECARS = ("-wal", "-shm", "-journal")
PURPOSES = ("rebuild", "snapshot")


def _name(target: Path, purpose: str) -> Path:
    return target.with_name(f".{target.name}.{purpose}-{os.getpid()}-{uuid4().hex[:8]}")


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` still names the file open as `fd` (a sweep may have removed it)."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def remove_sidecars(path: Path) -> None:
    for suffix in SIDECARS:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def discard(path: Path) -> None:
    path.unlink(missing_ok=True)
    remove_sidecars(path)


@contextmanager
def scratch_file(target: Path, purpose: str) -> Iterator[Path]:
    """A new, empty scratch file next to `target`, locked for as long as the block runs,
    then removed (whether or not the block installed it somewhere)."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}")
    while True:
        path = _name(target, purpose)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            # Blocks only while another process's sweep holds it to delete it.
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # swept between creation and lock: take another name
    try:
        yield path
    finally:
        discard(path)
        os.close(fd)  # after the removal, so no sweep can see the file unlocked


def remove_stale(target: Path) -> list[Path]:
    """Delete the scratch files next to `target` left by builds that are no longer
    running. Returns what was removed."""
    removed: list[Path] = []
    mine = f"-{os.getpid()}-"  # this process's builds are running by definition
    for purpose in PURPOSES:
        pattern = str(target.with_name(f".{glob.escape(target.name)}.{purpose}-*"))
        for name in sorted(glob.glob(pattern)):
            path = Path(name)
            if mine in path.name:
                continue
            if path.name.endswith(SIDECARS):
                base = Path(name[: name.rindex("-")])
                if not base.exists():  # its database is gone: nothing can use it
                    path.unlink(missing_ok=True)
                continue
            if _remove_if_unlocked(path):
                removed.append(path)
    return removed


def _remove_if_unlocked(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a build running now in another process
        if not _same_file(fd, path):
            return False
        discard(path)
        return True
    finally:
        os.close(fd)
