"""One programme as at a position or time ("what did the committee see on 3 October"),
without replaying the whole log.

A programme's pages are made from the events of its own records (the programme, its
items, risks, dependencies, indicators, narratives, publications, periods, reviews and
reminders) and of the records that belong to no programme (accounts, whose names and
assignments pages show, and status scales). The read model's `subjects` table says
which programme every record belongs to, so those records' events up to the position
are read through the event store's primary key (ledger.store.events) and replayed by
the projector's one code path into a new file: the programme's rows there are exactly
a whole replay's (tests/test_asat.py checks that on generated histories).

A time is turned into the position of the last event recorded at or before it by a
binary search over the log (recorded times follow log order), reading a few dozen
events, never the whole log.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import date, datetime
from pathlib import Path

from ledger.application import Ledger
from ledger.config import EVENTS_DB, projections_path, resolve_data_dir
from ledger.store.events import chain_heads_at, positions_reader, record_positions, recorded_time
from projections.projector import BUILD_PAGE_SIZE, PROJECTION, Progress
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
    """The ids of the programme's records and of the records of no programme."""
    with closing(sqlite3.connect(f"file:{projections_db}?mode=ro", uri=True)) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT aggregate_id FROM subjects WHERE programme = ? OR programme IS NULL", (programme,)
            )
        ]


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
) -> Snapshot:
    """Replay `programme`'s events (and those of no programme) up to a position or time
    into a new file `out`. `projections_db` is the live read model, which names each
    record's programme; it must have reached that position. Raises ValueError if not."""
    point = as_at if isinstance(as_at, AsAt) else parse_as_at(as_at)
    stop = stop_position(ledger, point)
    reached = _read_position(projections_db)
    if stop > reached:
        raise ReadModelBehind(
            f"The read model has reached log position {reached}, before {stop}: catch it up first."
        )
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
        )
        remove_sidecars(out)
        os.replace(scratch, out)
    return Snapshot(out, point.label, stop, events)


def programme_snapshot(
    data_dir: str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    programme: str,
    as_at: int | str | datetime | date,
    *,
    progress: Progress | None = None,
    overwrite: bool = False,
) -> Snapshot:
    """`programme_snapshot_with` for the ledger in `data_dir`, its read model caught up
    first. Raises LookupError if the log names no such programme."""
    directory = resolve_data_dir(data_dir)
    out_path = Path(out).resolve()
    if out_path in (projections_path(directory), directory / EVENTS_DB):
        raise ValueError(f"Refusing to write a snapshot over {out_path}: choose another file.")
    with open_system(directory) as system:
        with closing(sqlite3.connect(f"file:{system.projections_db}?mode=ro", uri=True)) as conn:
            known = conn.execute("SELECT 1 FROM programmes WHERE programme = ?", (programme,)).fetchone()
        if known is None:
            raise LookupError(f"There is no programme {programme!r}.")
        return programme_snapshot_with(
            system.ledger,
            system.projections_db,
            out_path,
            programme,
            as_at,
            progress=progress,
            overwrite=overwrite,
        )
