"""One programme as at a position the live read model has reached, copied from it.

A replay of the programme's records (projections.asat) costs ~0.75 s of CPU at the end
of a million-event log. When the live projections.db is at the position asked for (the
usual "as at now", or a date after the last event), or has moved past it with no event
since of a record that replay reads (the programme's, those of no programme, and the
programmes' own), its rows for the programme are those a whole replay to it holds. So they are copied,
table by table, within one read transaction of the live file, which fixes the position
they are read at while the projector keeps writing.

Which rows: every row of a table that has a `programme` column and names this programme;
all accounts and scales (records of no programme); the audit log's rows of the events a
replay reads (positions read from the event store as the replay reads them: account
events about other programmes are there, background jobs' are not); and the `subjects` of
the records replayed (records_sql). A replay also holds other programmes' own rows (their
names, which a dependency's side shows), which no page of this programme reads.
tests/test_asat.py checks the programme's rows against a whole replay, on generated
histories and on one with rows in every table.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from contextlib import closing
from pathlib import Path

from ledger.application import Ledger
from ledger.store.events import record_positions
from projections.schema import PROJECTION, SCHEMA_VERSION, TABLES, create_schema, finish_bulk_load
from projections.scratch import remove_sidecars, remove_stale, scratch_file

# Records of no programme: a programme's snapshot holds all of their rows.
GLOBAL_TABLES = ("accounts", "scales")
# Not a programme's page at all (a replay of a programme's records never writes them),
# or written here (the position).
NOT_COPIED = ("jobs", "projection_position")
# Rows chosen by other than the programme column (see below).
BY_EVENT = ("audit_log",)
SUBJECTS = "subjects"


def records_sql(database: str = "main") -> str:
    """The records a programme's snapshot replays: its own, those of no programme
    (accounts, scales), and every programme's own record (a dependency's side that is
    another programme shows that programme's name as it stood; a few events each)."""
    return (
        f"SELECT aggregate_id FROM {database}.subjects "
        "WHERE programme = :programme OR programme IS NULL OR aggregate_kind = 'Programme'"
    )


def _copy_sql(table: str, columns: list[str]) -> str:
    """The INSERT ... SELECT that copies the programme's rows of `table` from `live`."""
    names = ", ".join(f'"{c}"' for c in columns)
    select = f'INSERT INTO main."{table}" ({names}) SELECT {names} FROM live."{table}"'
    if table in GLOBAL_TABLES:
        return select
    if table in BY_EVENT:
        return f"{select} WHERE position IN (SELECT position FROM temp.replayed)"
    if "programme" not in columns:
        raise ValueError(f"The as-at copy does not know which rows of {table} are a programme's.")
    if table == SUBJECTS:
        return f"{select} WHERE aggregate_id IN ({records_sql('live')})"
    return f"{select} WHERE programme = :programme"


COPIES: tuple[str, ...] = tuple(
    _copy_sql(t.name, [c.name for c in t.columns]) for t in TABLES if t.name not in NOT_COPIED
)


def copy_from_live(
    ledger: Ledger, projections_db: Path, out: Path, programme: str, position: int, label: str
) -> int | None:
    """Write `programme` as at `position` into a new file `out` from the live read model,
    without full-text indexes (as the cache keeps them). Returns the number of events the
    file holds, or None (and writes nothing) if the live file is before `position`, of
    another schema version, or has projected an event of a record the replay reads
    (records_sql) after `position`: then only a replay will do."""
    if _changed_since(projections_db, programme, position):
        return None
    remove_stale(out)
    with scratch_file(out, "snapshot") as scratch:
        with closing(sqlite3.connect(_uri(scratch), uri=True, isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode=OFF")  # a scratch file: thrown away if this fails
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("ATTACH DATABASE ? AS live", (_uri(projections_db, "?mode=ro"),))
            create_schema(conn, bulk_load=True)
            conn.execute("CREATE TEMP TABLE replayed (position INTEGER PRIMARY KEY)")
            conn.execute("BEGIN")  # the live file is read as at one moment from here on
            held = _copy(conn, ledger, programme, position, label)
            if held is None:
                conn.execute("ROLLBACK")
                return None
            conn.execute("COMMIT")
            finish_bulk_load(conn, search=False)
            conn.execute("DETACH DATABASE live")
            conn.execute("PRAGMA journal_mode=WAL")  # as the live database runs
        remove_sidecars(out)
        scratch.replace(out)
    return held


def _uri(path: Path, query: str = "") -> str:
    """A file: URI (any characters in the path escaped), which ATTACH needs for read-only."""
    return Path(path).resolve().as_uri() + query


def _changed_since(projections_db: Path, programme: str, position: int) -> bool:
    """Whether the live file has surely moved on for the programme: a quick look, by an
    index, at its own rows' events after `position` (the copy checks all, in its read)."""
    with closing(sqlite3.connect(_uri(projections_db, "?mode=ro"), uri=True)) as conn:
        later = "SELECT 1 FROM audit_log WHERE programme = ? AND position > ? LIMIT 1"
        return conn.execute(later, (programme, position)).fetchone() is not None


def _copy(conn: sqlite3.Connection, ledger: Ledger, programme: str, position: int, label: str) -> int | None:
    reached = conn.execute(
        "SELECT position, schema_version FROM live.projection_position WHERE projection = ?", (PROJECTION,)
    ).fetchone()
    if reached is None or reached[0] < position or reached[1] != SCHEMA_VERSION:
        return None
    records = [r[0] for r in conn.execute(records_sql("live"), {"programme": programme})]
    positions = record_positions(ledger.recorder, records, reached[0])
    replayed = bisect_right(positions, position)
    if replayed < len(positions):  # the programme has changed since: the live rows are later ones
        return None
    conn.executemany("INSERT INTO temp.replayed VALUES (?)", ((p,) for p in positions))
    for sql in COPIES:
        conn.execute(sql, {"programme": programme})
    tracked = (PROJECTION, position, SCHEMA_VERSION, label)
    conn.execute("INSERT INTO main.projection_position VALUES (?, ?, ?, ?)", tracked)
    return replayed
