"""One programme as at a position or time ("what did the committee see on 3 October"),
without replaying the whole log.

A programme's pages are made from the events of its own records (the programme, its
items, risks, dependencies, indicators, narratives, publications, periods, reviews and
reminders), of the records that belong to no programme (accounts, whose names and
assignments pages show, and status scales), and of the other programmes' own records (a
dependency's side shows the other programme by its name then). The read model's `subjects` table says
which programme every record belongs to, so those records' events up to the position
are read through the event store's primary key (ledger.store.events) and replayed by
the projector's one code path into a new file: the programme's rows there are exactly
a whole replay's (tests/test_asat.py checks that on generated histories).

A time is turned into the position of the last event recorded at or before it by a
binary search over the log (recorded times follow log order), reading a few dozen
events, never the whole log.

Snapshots are kept in the data directory's cache (`SnapshotCache`, shared by the web's
as-at page and `govledger snapshot --programme`), named by programme, position, chain
head and schema version. A snapshot asked for after the latest cached one of the same
programme and history starts from a copy of it and replays only the events between:
the projector's live catch-up on an existing file, which equals a replay from zero. One
asked for at the live read model's own position (as at now, or a date after the last
event) is copied from it instead, with nothing replayed (projections.asat_live).
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ledger.application import Ledger
from ledger.config import EVENTS_DB, projections_path, resolve_data_dir
from ledger.store.events import chain_heads_at, positions_reader, record_positions, recorded_time
from projections.asat_live import copy_from_live, records_sql
from projections.projector import BUILD_PAGE_SIZE, PROJECTION, Progress
from projections.queries.audit import get_snapshot_name
from projections.schema import enable_search
from projections.scratch import remove_sidecars, remove_stale, scratch_file
from projections.system import AsAt, Snapshot, build, open_system, parse_as_at


class ReadModelBehind(ValueError):
    """The live read model has not reached the position asked for: it cannot yet say
    which records are the programme's (replay the whole log, or wait for it)."""


def position_at(ledger: Ledger, moment: datetime) -> int:
    """The position of the last event recorded at or before `moment` (0 if none)."""
    recorder = ledger.recorder
    low, high = 0, recorder.max_notification_id() or 0
    while low < high:
        middle = (low + high + 1) // 2
        found = recorded_time(recorder, middle)
        if found is not None and datetime.fromisoformat(found[1]) <= moment:
            low = found[0]
        else:
            high = middle - 1
    return low


def stop_position(ledger: Ledger, point: AsAt) -> int:
    """The log position an as-at point stands for (a position past the log's end: the
    end, as a whole replay to it ends there)."""
    if point.position is not None:
        return min(point.position, ledger.recorder.max_notification_id() or 0)
    assert point.moment is not None
    return position_at(ledger, point.moment)


def programme_records(projections_db: Path, programme: str) -> list[str]:
    """The ids of the records a programme's snapshot replays (asat_live.records_sql)."""
    with closing(sqlite3.connect(f"file:{projections_db}?mode=ro", uri=True)) as conn:
        return [r[0] for r in conn.execute(records_sql(), {"programme": programme})]


def _read_position(path: Path) -> int:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT position FROM projection_position WHERE projection = ?", (PROJECTION,)
        ).fetchone()
    return int(row[0]) if row else 0


def programme_snapshot_with(
    ledger: Ledger,
    projections_db: Path,
    out: Path,
    programme: str,
    as_at: int | str | datetime | date | AsAt,
    *,
    progress: Progress | None = None,
    overwrite: bool = False,
    page_size: int = BUILD_PAGE_SIZE,
    base: Path | None = None,
    search: bool = True,
) -> Snapshot:
    """Replay `programme`'s events (and those of no programme) up to a position or time
    into a new file `out`. `projections_db` is the live read model, which names each
    record's programme; it must have reached that position. Raises ValueError if not.
    `base`: a snapshot of the same programme and history at an earlier position, copied
    and caught up (only the events after it are replayed; `Snapshot.events` counts those).
    Not `search`: without the full-text indexes (the as-at pages do not search)."""
    point = as_at if isinstance(as_at, AsAt) else parse_as_at(as_at)
    stop = stop_position(ledger, point)
    reached = _read_position(projections_db)
    if stop > reached:
        raise ReadModelBehind(
            f"The read model has reached log position {reached}, before {stop}: catch it up first."
        )
    if base is not None and _read_position(base) > stop:
        raise ValueError(f"{base} is past log position {stop}: a snapshot can only be caught up.")
    out = Path(out).resolve()
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} already exists.")
    positions = record_positions(ledger.recorder, programme_records(projections_db, programme), stop)

    def heads(after: int, last: int) -> dict[int, bytes]:
        from bisect import bisect_right

        return chain_heads_at(
            ledger.recorder, positions[bisect_right(positions, after) : bisect_right(positions, last)]
        )

    remove_stale(out)
    with scratch_file(out, "snapshot") as scratch:
        events = build(
            ledger,
            scratch,
            stop=stop,
            as_at=point.label,
            progress=progress,
            page_size=page_size,
            read_page=positions_reader(ledger.recorder, positions),
            chain_heads=heads,
            base=base,
            search=search,
        )
        remove_sidecars(out)
        os.replace(scratch, out)
    return Snapshot(out, point.label, stop, events)


# Snapshots kept in a cache directory, the most recently used first: at most this many
# files and bytes (one programme's snapshot of a million-event log is 10-20 MB).
CACHE_FILES = 16
CACHE_BYTES = 200 * 1024 * 1024
# One build at a time in a process (a web worker's threads asking for the same page).
_building = threading.Lock()


@dataclass(frozen=True)
class SnapshotCache:
    """Programmes' snapshots by log position in `directory` (the data directory's
    cache/as-at), each named by the programme, and by the position, the chain head there
    and the schema version (projections.queries.get_snapshot_name), so a file is never
    used for another programme, history or shape of the read model. They are built
    without full-text indexes (8% of a cold build, and triggers on every caught-up row),
    which only searching needs: a copy handed out (`programme_snapshot`) gets them."""

    directory: Path
    files: int = CACHE_FILES
    size: int = CACHE_BYTES

    @classmethod
    def of(cls, data_dir: Path, files: int = CACHE_FILES, size: int = CACHE_BYTES) -> SnapshotCache:
        return cls(Path(data_dir) / "cache" / "as-at", files, size)

    def path(self, projections_db: Path, programme: str, position: int) -> Path:
        return self.directory / (_prefix(programme) + get_snapshot_name(projections_db, position))

    def snapshot(self, ledger: Ledger, projections_db: Path, programme: str, position: int) -> Snapshot:
        """The programme replayed up to `position`: the cached file, or one made now and
        kept: copied from the live read model if it holds the same rows there
        (projections.asat_live), else replayed from the latest cached snapshot before it
        (or from zero). `Snapshot.events` counts the events replayed."""
        path = self.path(projections_db, programme, position)
        label = parse_as_at(position).label
        if _mark_used(path):  # not waiting for another page's build
            return Snapshot(path, label, position, 0)
        with _building:
            if _mark_used(path):  # built while this one waited
                return Snapshot(path, label, position, 0)
            self.directory.mkdir(parents=True, exist_ok=True)
            if copy_from_live(ledger, projections_db, path, programme, position, label) is not None:
                shot = Snapshot(path, label, position, 0)
            else:
                base = self.base(projections_db, programme, position)
                shot = programme_snapshot_with(
                    ledger, projections_db, path, programme, position, base=base, search=False
                )
            self.prune(keep=path)
        return shot

    def base(self, projections_db: Path, programme: str, position: int) -> Path | None:
        """The programme's latest cached snapshot at or before `position` whose chain head
        is the live log's there (the same history), marked used; None if there is none."""
        prefix = _prefix(programme)
        named = re.compile(re.escape(prefix) + r"position-(\d+)-")
        matches = (named.match(p.name) for p in self.directory.glob(f"{prefix}position-*.db"))
        found = sorted(((int(m[1]), self.directory / m.string) for m in matches if m), reverse=True)
        for at, path in found:
            if at <= position and path == self.path(projections_db, programme, at) and _mark_used(path):
                return path
        return None

    def prune(self, keep: Path) -> None:
        """Keep the most recently used snapshots within `files` and `size`."""
        dated = []
        for path in self.directory.glob("*.db"):
            try:
                dated.append((path.stat().st_mtime, path.stat().st_size, path))
            except FileNotFoundError:  # pruned by another process meanwhile
                continue
        total = 0
        for count, (_, size, old) in enumerate(sorted(dated, key=lambda d: d[0], reverse=True)):
            total += size
            if old != keep and (count >= self.files or total > self.size):
                old.unlink(missing_ok=True)
                remove_sidecars(old)


def _prefix(programme: str) -> str:
    return f"programme-{hashlib.sha256(programme.encode()).hexdigest()[:12]}-"


def _mark_used(path: Path) -> bool:
    """Mark a cached file recently used (pruned last); False if it isn't there."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def _copy(source: Path, out: Path, label: str) -> None:
    """A copy of a snapshot at `out`, labelled as at `label`, with its full-text indexes
    (as projections.db has them), written whole or not at all."""
    remove_stale(out)
    with scratch_file(out, "snapshot") as scratch:
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as conn,
            closing(sqlite3.connect(scratch)) as copy,
        ):
            conn.backup(copy)
            with copy:
                enable_search(copy)
                label_it = "UPDATE projection_position SET as_at = ? WHERE projection = ?"
                copy.execute(label_it, (label, PROJECTION))
        remove_sidecars(out)
        os.replace(scratch, out)


def programme_snapshot(
    data_dir: str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    programme: str,
    as_at: int | str | datetime | date,
    *,
    overwrite: bool = False,
) -> Snapshot:
    """The programme as at a position or time in a new file `out`, for the ledger in
    `data_dir` (its read model caught up first), through the data directory's cache.
    `Snapshot.events` counts the events the file holds. Raises LookupError if the log
    names no such programme."""
    directory = resolve_data_dir(data_dir)
    out_path = Path(out).resolve()
    if out_path in (projections_path(directory), directory / EVENTS_DB):
        raise ValueError(f"Refusing to write a snapshot over {out_path}: choose another file.")
    point = parse_as_at(as_at)
    with open_system(directory) as system:
        with closing(sqlite3.connect(f"file:{system.projections_db}?mode=ro", uri=True)) as conn:
            known = conn.execute("SELECT 1 FROM programmes WHERE programme = ?", (programme,)).fetchone()
        if known is None:
            raise LookupError(f"There is no programme {programme!r}.")
        if out_path.exists() and not overwrite:
            raise FileExistsError(f"{out_path} already exists.")
        stop = stop_position(system.ledger, point)
        shot = SnapshotCache.of(directory).snapshot(system.ledger, system.projections_db, programme, stop)
    _copy(shot.path, out_path, point.label)
    with closing(sqlite3.connect(f"file:{out_path}?mode=ro", uri=True)) as conn:
        held = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    return Snapshot(out_path, point.label, stop, held)
