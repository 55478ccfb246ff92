"""Back up a data directory while the service runs, and restore it: `govledger backup`
and `govledger restore`.

    files.py      owner-only copies: SQLite's online backup API for live databases
    manifest.py   manifest.json: event count, chain head, SHA-256 of every file
    postgres.py   pg_dump / pg_restore of a PostgreSQL event store

A backup holds the event store (events.db, or events.pgdump), the credential store
(credentials.db, password hashes), the secret key if the data directory keeps one, and
every published report file. Not projections.db: it is disposable and is rebuilt on
restore, so the restored read model is exactly a replay of the restored log, never a
copy taken a moment before or after the events. Order matters while the service
writes: the events are copied first, so every publication they record (whose file is
stored before its event) is already on disk when the publications are copied.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from govledger.backup import files
from govledger.backup import postgres as pg
from govledger.backup.manifest import (
    EVENTS_DUMP,
    MANIFEST,
    POSTGRESQL,
    SQLITE,
    BackupDamaged,
    Manifest,
    problems,
    record_files,
)
from ledger.config import EVENTS_DB, resolve_data_dir
from ledger.store import verify
from ledger.store.postgres import PostgresEventStore
from ledger.store.verification import event_store

__all__ = ["BackupDamaged", "BackupRefused", "Manifest", "Restored", "back_up", "restore"]

# The web app's names for them (web.config; not imported, as that loads all of Flask).
CREDENTIALS_DB = "credentials.db"
SECRET_KEY_FILE = "secret_key"
PUBLICATIONS_DIR = "publications"  # projections.reports.publish
# The formats a report is published in (HTML, and publish.FORMATS), stored by their hash.
PUBLISHED_SUFFIXES = (".html", ".csv", ".docx")

Progress = Callable[[int, int], None]


class BackupRefused(Exception):
    """The backup or restore was not made; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    moved_aside: Path | None  # where --force put what the data directory held before


class _Counter:
    """Turns 'n more units done' into the (done, total) calls of the CLI's progress bar."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self.progress = 0, total, progress

    def __call__(self, units: int) -> None:
        self.done += units
        if self.progress is not None:
            self.progress(self.done, self.total)


# --- Backing up --------------------------------------------------------------------------


def back_up(
    data_dir: str | os.PathLike[str] | None, out: str | os.PathLike[str], *, progress: Progress | None = None
) -> Manifest:
    """Copy the data directory's ledger into the new directory `out` (owner-only).

    The event store is the SQLite file in the data directory, or PostgreSQL when
    PERSISTENCE_MODULE says so. Refuses (BackupRefused) if `out` exists and is not empty,
    if there is no event store, or if the log does not verify; nothing is left at `out`
    then."""
    source = resolve_data_dir(data_dir)
    target = Path(out).expanduser().resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupRefused(f"{target} already exists and is not empty: name a new directory.")
    store = event_store(source)
    publications = sorted(
        path for path in (source / PUBLICATIONS_DIR).glob("*.*") if path.suffix in PUBLISHED_SUFFIXES
    )
    extras = [source / name for name in (CREDENTIALS_DB, SECRET_KEY_FILE) if (source / name).is_file()]
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))  # 0700
    try:
        if isinstance(store, PostgresEventStore):
            count = _Counter(1 + len(extras) + len(publications), progress)
            result = pg.dump(store, stage / EVENTS_DUMP)
            count(1)
            kind = POSTGRESQL
        else:
            if not Path(store).is_file():
                raise BackupRefused(
                    f"No event store at {store}: point --data-dir at a ledger's data directory."
                )
            pages = files.page_count(Path(store))
            count = _Counter(pages + len(extras) + len(publications), progress)
            files.copy_database(Path(store), stage / EVENTS_DB, count)
            result = verify(stage / EVENTS_DB)  # the copy, so the head is what it holds
            kind = SQLITE
        if not result.ok:
            raise BackupRefused(
                f"The event log does not verify, so it was not backed up: position "
                f"{result.first_bad_position}: {result.problem}. Run `govledger verify`."
            )
        names = [EVENTS_DB if kind == SQLITE else EVENTS_DUMP]
        for path in extras:
            if path.name == CREDENTIALS_DB:
                files.copy_database(path, stage / path.name)
            else:
                files.copy_file(path, stage / path.name)
            names.append(path.name)
            count(1)
        if publications:
            files.private_dir(stage / PUBLICATIONS_DIR)
        for path in publications:
            name = f"{PUBLICATIONS_DIR}/{path.name}"
            files.copy_file(path, stage / name)
            names.append(name)
            count(1)
        manifest = Manifest(
            store=kind,
            events=result.events,
            head=result.head_hex,
            taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
            files=record_files(stage, names),
        )
        manifest.write(stage / MANIFEST)
        if target.exists():
            target.rmdir()  # empty, checked above
        stage.rename(target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return manifest


# --- Restoring ---------------------------------------------------------------------------


def restore(
    backup: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Restored:
    """Bring a backup back into the data directory, then prove it: the restored log must
    verify to the manifest's count and head, and the projections are rebuilt from it.

    Refuses, writing nothing: a backup whose files differ from its manifest
    (BackupDamaged); a data directory that is not empty, unless `force`, which moves
    what is there aside to a sibling directory rather than deleting it; a PostgreSQL
    database that already holds events (never replaced: restore into an empty one)."""
    source = Path(backup).expanduser().resolve()
    target = resolve_data_dir(data_dir)
    manifest = Manifest.load(source)
    damage = problems(source, manifest)
    if damage:
        raise BackupDamaged(
            f"The backup at {source} is damaged; nothing was restored: " + "; ".join(damage) + "."
        )
    store = event_store(target)
    is_postgres = isinstance(store, PostgresEventStore)
    if is_postgres != (manifest.store == POSTGRESQL):
        here = "PostgreSQL" if is_postgres else "SQLite"
        raise BackupRefused(
            f"The backup holds a {manifest.store} event store but this ledger is configured for "
            f"{here} (PERSISTENCE_MODULE): restore it where it came from."
        )
    present = sorted(p.name for p in target.iterdir()) if target.is_dir() else []
    if present and not force:
        shown = ", ".join(present[:8]) + (f" and {len(present) - 8} more" if len(present) > 8 else "")
        raise BackupRefused(
            f"{target} is not empty (it holds {shown}). Restore into an empty directory, or add "
            "--force to move what is there aside first."
        )
    if is_postgres:
        _refuse_postgres_with_events(store)  # type: ignore[arg-type]

    count = _Counter(len(manifest.files) + 2, progress)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.restoring-", dir=target.parent))  # 0700
    try:
        for name in manifest.files:
            if name == EVENTS_DUMP:
                continue  # loaded into the database below, not kept in the data directory
            (stage / name).parent.mkdir(mode=0o700, exist_ok=True)
            files.copy_file(source / name, stage / name)
            count(1)
        if is_postgres:
            _load_postgres(store, source / EVENTS_DUMP, stage)  # type: ignore[arg-type]
            count(1)
        _check_head(event_store(stage), manifest)
        count(1)
        _rebuild_projections(stage)
        _owner_only(stage)
        count(1)
        moved_aside = _move_aside(target) if present else None
        if target.exists():
            target.rmdir()
        stage.rename(target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _check_head(event_store(target), manifest)
    return Restored(manifest, moved_aside)


def _refuse_postgres_with_events(store: PostgresEventStore) -> None:
    held = pg.event_count(store)
    if held:
        raise BackupRefused(
            f"{store.describe()} already holds {held} events. Events are never deleted or "
            "replaced: restore into a new, empty database (--force does not change this)."
        )


def _load_postgres(store: PostgresEventStore, dump_file: Path, stage: Path) -> None:
    from ledger.application import open_ledger

    open_ledger(stage).close()  # creates the tables, triggers and function, as a first start does
    _refuse_postgres_with_events(store)  # nobody wrote in the meantime
    pg.load(store, dump_file)


def _check_head(store: Path | PostgresEventStore, manifest: Manifest) -> None:
    result = verify(store)
    if not result.ok or (result.events, result.head_hex) != (manifest.events, manifest.head):
        found = f"{result.events} events, head {result.head_hex}" if result.ok else result.problem
        raise BackupDamaged(
            f"The restored log does not match the backup's manifest ({manifest.events} events, head "
            f"{manifest.head}): {found}."
        )


def _rebuild_projections(data_dir: Path) -> None:
    from projections.system import rebuild

    rebuild(data_dir)


def _owner_only(data_dir: Path) -> None:
    """Everything restored readable by its owner only (it holds password hashes);
    published reports also stay unwritable, as publishing leaves them."""
    for path in data_dir.rglob("*"):
        if path.is_dir():
            os.chmod(path, 0o700)
        else:
            os.chmod(path, 0o400 if path.parent.name == PUBLICATIONS_DIR else 0o600)


def _move_aside(target: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = target.with_name(f"{target.name}.before-restore-{stamp}")
    target.rename(aside)
    return aside
