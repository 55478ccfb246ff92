"""The composition root: a ledger and its projector, wired so a user sees their own write.

    system = open_system(data_dir)      # catches the projections up on open
    system.ledger.record_status(...)    # saved, then projected before the call returns
    get_summary(system.projections_db, ...)
    system.close()

`rebuild` replays the whole log into a scratch file next to projections.db and then
installs it; `snapshot` replays the log up to a position or a time into a new file
("what the committee saw"). Both run the projector's one code path; a rebuild of the
whole log only leaves the ratings tables to one pass at the end (projections.ratings_at_end),
which must give the same rows. Scratch files left by
a killed build are removed at the next rebuild, snapshot or start-up (projections.scratch).
"""

from __future__ import annotations

import gc
import os
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from time import monotonic, sleep
from typing import Any

from ledger.application import Ledger, open_ledger
from ledger.application.progress import projecting
from ledger.config import EVENTS_DB, projections_path, resolve_data_dir
from ledger.store.events import EventPageReader
from projections.handlers import HANDLERS
from projections.projector import (
    BUILD_PAGE_SIZE,
    PROJECTION,
    ChainHeads,
    Progress,
    Projector,
    SchemaOutOfDate,
)
from projections.ratings_at_end import RatingsAtEnd
from projections.schema import finish_bulk_load
from projections.scratch import remove_sidecars, remove_stale, scratch_file


@dataclass
class System:
    """The ledger, its projector and where the read model lives. Close it when done."""

    ledger: Ledger
    projector: Projector
    projections_db: Path
    data_dir: Path
    _listener: Callable[[int], None] | None = field(default=None, repr=False)

    @property
    def catches_up(self) -> bool:
        """Whether each save here projects itself (False: a projector service does)."""
        return self._listener is not None

    def wait_for(self, position: int, timeout: float) -> bool:
        """Wait, up to `timeout` seconds, until the read model shows `position` (another
        process's projector writes it). True once it does."""
        deadline = monotonic() + timeout
        pause = 0.005
        while self.projector.position < position:
            if monotonic() >= deadline:
                return False
            sleep(pause)
            pause = min(pause * 2, 0.1)
        return True

    def close(self) -> None:
        if self._listener in self.ledger.after_save:
            self.ledger.after_save.remove(self._listener)  # type: ignore[arg-type]
        self.projector.close()
        self.ledger.close()

    def __enter__(self) -> System:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_system(data_dir: str | os.PathLike[str] | None = None, *, catch_up: bool = True) -> System:
    """Open the ledger in `data_dir`, bring projections.db up to date (rebuilding it if it
    was written by another version of the projections) and keep it up to date after
    every save. `catch_up=False`: a projector service (`govledger project --follow`)
    keeps it up to date instead, and this process only reads it (`System.wait_for`)."""
    directory = resolve_data_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)  # on PostgreSQL only projections.db is here
    ledger = open_ledger(directory)
    path = projections_path(directory)
    remove_stale(path)
    try:
        try:
            projector = Projector(ledger, path, handlers=HANDLERS)
            if projector.position > ledger.get_log_position():
                # The read model is ahead of the log (say, the event store was restored
                # from a backup): it shows events that are no longer there, so rebuild it.
                projector.close()
                raise SchemaOutOfDate(f"{path} is ahead of the event log")
        except SchemaOutOfDate:
            build_into_place(ledger, path)
            projector = Projector(ledger, path, handlers=HANDLERS)
        try:
            if catch_up:
                projector.catch_up()
        except BaseException:
            projector.close()
            raise
    except BaseException:
        ledger.close()
        raise
    if not catch_up:
        return System(ledger, projector, path, directory)

    def catch_up_after_save(position: int) -> None:
        # Up to the save just made, its rows handed back by the store without a read (users
        # read their own writes); another process's saves: that process, or the next catch-up.
        projector.catch_up(stop=position, progress=projecting(position))

    ledger.after_save.append(catch_up_after_save)
    return System(ledger, projector, path, directory, catch_up_after_save)


# ---------------------------------------------------------------- building files


def build(
    ledger: Ledger,
    target: Path,
    *,
    stop: int | None = None,
    include: Callable[[Any], bool] | None = None,
    as_at: str | None = None,
    progress: Progress | None = None,
    page_size: int = BUILD_PAGE_SIZE,
    read_page: EventPageReader | None = None,
    chain_heads: ChainHeads | None = None,
    base: Path | None = None,
    search: bool = True,
    ratings_at_end: bool = False,
) -> int:
    """Replay the log into a new database file `target` (which must not exist, or be an
    empty scratch file). Returns the number of events applied. `read_page` and
    `chain_heads` replay a chosen part of the log instead (projections.asat): the
    position recorded is then `stop`, as a whole replay to `stop` records it. `base`: a
    file built earlier the same way, copied first, so only the events after its position
    are replayed (the projector's live path, as a catch-up on an existing file). Not
    `search`: without the full-text indexes (schema.enable_search adds them later).
    `ratings_at_end`: a whole log's build from zero derives the ratings tables in one
    pass at the end (projections.ratings_at_end) rather than event by event."""
    partial = stop is not None or include is not None or read_page is not None or base is not None
    if ratings_at_end and partial:
        raise ValueError("Only a build of the whole log from zero can derive its ratings at the end.")
    ratings = RatingsAtEnd(page_size) if ratings_at_end else None
    _bind_none_quickly()
    if target.exists() and target.stat().st_size:
        raise FileExistsError(target)
    remove_sidecars(target)
    conn = sqlite3.connect(str(target), timeout=30, check_same_thread=False)
    if base is not None:
        with closing(sqlite3.connect(f"file:{base}?mode=ro", uri=True)) as source:
            source.backup(conn)
    # A replay allocates millions of short-lived, acyclic row dicts: the cyclic garbage
    # collector's passes over them were ~10% of a million-event rebuild.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # A scratch file until it is installed: if the machine dies it is thrown away, so
        # no fsyncs and no rollback journal: a page that fails fails the whole build, and
        # its callers discard the file.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        # 16 MB of page cache: 64 bought no CPU (1M events: 27.0-27.2 s) and cost 48 MB.
        conn.execute("PRAGMA cache_size=-16384")
        projector = Projector(
            ledger, target, handlers=ratings.handlers(HANDLERS) if ratings else HANDLERS, conn=conn,
            page_size=page_size, bulk_load=True, read_page=read_page, chain_heads=chain_heads,
            appliers=ratings.appliers(ledger.mapper) if ratings else None,
        )
        applied = projector.catch_up(stop=stop, include=include, progress=progress)
        with conn:
            # The end pass and index builds read whole tables once: 8 MB of page cache
            # serves them as well as 64 (1M events: peak 249 -> 203 MB, the same CPU).
            conn.execute("PRAGMA cache_size=-8192")
            if ratings is not None:
                ratings.finish(conn)
            finish_bulk_load(conn, search=search)
            if include is not None:
                # As at a time: the position is that of the last event included.
                conn.execute(
                    "UPDATE projection_position SET position = "
                    "coalesce((SELECT max(position) FROM audit_log), 0) WHERE projection = ?",
                    (PROJECTION,),
                )
            elif read_page is not None and stop is not None:
                conn.execute(
                    "UPDATE projection_position SET position = ? WHERE projection = ?", (stop, PROJECTION)
                )
            if as_at is not None:
                conn.execute(
                    "UPDATE projection_position SET as_at = ? WHERE projection = ?", (as_at, PROJECTION)
                )
        conn.execute("PRAGMA journal_mode=WAL")  # as the live database runs
    finally:
        conn.close()
        if collecting:
            gc.enable()
    return applied


def _bind_none_quickly() -> None:
    """sqlite3 looks for a way to adapt each None it binds (two failed attribute lookups)
    unless an adapter is registered for it: this one hands None back, so it is still
    NULL. A build binds a few Nones an event (empty audit and rating columns); this takes
    ~40% off each (measured on Python 3.11). Process-wide, which changes nothing else."""
    sqlite3.register_adapter(type(None), _same)


def _same(value: None) -> None:
    return value


def build_into_place(
    ledger: Ledger, path: Path, *, progress: Progress | None = None, page_size: int = BUILD_PAGE_SIZE
) -> int:
    """Rebuild `path` from zero without readers ever seeing a half-built database."""
    remove_stale(path)
    with scratch_file(path, "rebuild") as scratch:
        applied = build(ledger, scratch, progress=progress, page_size=page_size, ratings_at_end=True)
        _install(scratch, path)
    return applied


def _install(built: Path, live: Path) -> None:
    """Put a finished database in place of the live one, atomically for readers.

    With no live file this is a rename. Over a live WAL database that Datasette or a
    web worker may hold open, renaming would strand those connections on the old file
    (stale reads, and "readonly database" errors for a projector writing through one)
    and could pair the new file with the old -wal/-shm. So the finished file is copied
    into the live one with SQLite's backup API in a single step: one write transaction,
    so every reader sees the old database or the new one, never a mixture."""
    if not live.exists():
        remove_sidecars(live)
        os.replace(built, live)
        return
    source = sqlite3.connect(str(built))
    target = sqlite3.connect(str(live), timeout=60)
    try:
        target.execute("PRAGMA synchronous=NORMAL")  # as the projector runs it (WAL)
        source.backup(target)
    finally:
        source.close()
        target.close()


def rebuild(data_dir: str | os.PathLike[str] | None = None, *, progress: Progress | None = None) -> int:
    """Rebuild projections.db in `data_dir` from the whole event log. Returns events applied.

    Safe while the web app and Datasette are running: they see the old read model until
    the new one is complete, then the new one."""
    directory = resolve_data_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    ledger = open_ledger(directory)
    try:
        return build_into_place(ledger, projections_path(directory), progress=progress)
    finally:
        ledger.close()


# ---------------------------------------------------------------- as-at snapshots


@dataclass(frozen=True)
class AsAt:
    """A point in the log: a position, or a time (events recorded at or before it)."""

    position: int | None = None
    moment: datetime | None = None

    @property
    def label(self) -> str:
        return f"position {self.position}" if self.position is not None else self.moment.isoformat()  # type: ignore[union-attr]

    def includes(self, event: Any) -> bool:
        return event.timestamp <= self.moment


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_as_at(value: int | str | datetime | date) -> AsAt:
    """A log position (an integer) or a time. ISO text without a zone is UTC; a date on
    its own means the end of that day (UTC), so "as at 3 October" includes 3 October."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a position or a time")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("A log position can't be negative.")
        return AsAt(position=value)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.max)
    else:
        text = value.strip()
        if text.isdigit():
            return AsAt(position=int(text))
        try:
            moment = (
                datetime.combine(date.fromisoformat(text), time.max)
                if _DATE_ONLY.match(text)
                else datetime.fromisoformat(text.replace("Z", "+00:00"))
            )
        except ValueError:
            raise ValueError(
                f"{value!r} is neither a log position (like 1200) nor an ISO time "
                "(like 2024-10-03 or 2024-10-03T17:00:00+01:00)."
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return AsAt(moment=moment.astimezone(UTC))


@dataclass(frozen=True)
class Snapshot:
    path: Path
    as_at: str
    position: int
    events: int


def snapshot_with(
    ledger: Ledger,
    out: Path,
    as_at: int | str | datetime | date | AsAt,
    *,
    progress: Progress | None = None,
    overwrite: bool = False,
    page_size: int = BUILD_PAGE_SIZE,
) -> Snapshot:
    point = as_at if isinstance(as_at, AsAt) else parse_as_at(as_at)
    out = Path(out).resolve()
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} already exists.")
    remove_stale(out)
    with scratch_file(out, "snapshot") as scratch:
        if point.position is not None:
            events = build(
                ledger,
                scratch,
                stop=point.position,
                as_at=point.label,
                progress=progress,
                page_size=page_size,
            )
        else:
            events = build(
                ledger,
                scratch,
                include=point.includes,
                as_at=point.label,
                progress=progress,
                page_size=page_size,
            )
        with sqlite3.connect(str(scratch)) as conn:
            position = conn.execute(
                "SELECT position FROM projection_position WHERE projection = ?", (PROJECTION,)
            ).fetchone()[0]
        conn.close()
        remove_sidecars(out)
        os.replace(scratch, out)
    return Snapshot(out, point.label, position, events)


def snapshot(
    data_dir: str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    as_at: int | str | datetime | date,
    *,
    progress: Progress | None = None,
    overwrite: bool = False,
) -> Snapshot:
    """Replay the log as at a position or time into a new database `out`: the read model
    exactly as it stood then, with the same tables as projections.db."""
    directory = resolve_data_dir(data_dir)
    out_path = Path(out).resolve()
    if out_path in (projections_path(directory), directory / EVENTS_DB):
        raise ValueError(f"Refusing to write a snapshot over {out_path}: choose another file.")
    ledger = open_ledger(directory)
    try:
        return snapshot_with(ledger, out_path, as_at, progress=progress, overwrite=overwrite)
    finally:
        ledger.close()
