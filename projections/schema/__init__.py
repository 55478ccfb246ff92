"""The read model's tables and views, described once.

Each table lists its columns with a description; Datasette's metadata is generated from
here (projections.datasette_config), so a column can't exist without one. Tables are
denormalised for the pages that read them: a page reads one or two tables by an index,
however long the history.

Conventions: `programme` is the programme's slug; `period` is the canonical label
("2024/25 Q1", "2026-01") and `period_start` its first day as an ISO date, which sorts
periods in time order; times are ISO 8601 in UTC; `position` is the event log position
of the change in force, so anything can be traced back to the event that wrote it.
"""

from __future__ import annotations

import sqlite3

from projections.schema.cycle import CYCLE_TABLES, CYCLE_VIEWS
from projections.schema.flags import FLAG_VIEWS
from projections.schema.jobs import JOB_TABLES
from projections.schema.log import LOG_TABLES
from projections.schema.model import Column, Table, View
from projections.schema.ratings import RATING_TABLES
from projections.schema.records import RECORD_TABLES
from projections.schema.register import REGISTER_TABLES
from projections.schema.review import REVIEW_TABLES
from projections.schema.scales import SCALE_TABLES, SCALE_VIEWS
from projections.schema.sides import SIDE_TABLES
from projections.schema.views import VIEWS as RATING_VIEWS

# Bump when tables or handlers change shape: an out-of-date projections.db is rebuilt.
SCHEMA_VERSION = 16

# What a status the officer left empty is called in the read model.
NOT_RATED = "Not rated"

# The name of the one projection, as projection_position records it.
PROJECTION = "governance"

__all__ = ["NOT_RATED", "PROJECTION", "TABLES", "TABLES_BY_NAME", "VIEWS", "Column", "Table", "View"]

# In this order in the database and in Datasette.
TABLES: tuple[Table, ...] = (
    *RATING_TABLES, *REGISTER_TABLES, *SCALE_TABLES, *RECORD_TABLES, *CYCLE_TABLES, *REVIEW_TABLES,
    *SIDE_TABLES, *JOB_TABLES,
    *LOG_TABLES,
)
VIEWS: tuple[View, ...] = (*RATING_VIEWS, *SCALE_VIEWS, *CYCLE_VIEWS, *FLAG_VIEWS)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def _sql_type(type_: type) -> str:
    return {str: "TEXT", int: "INTEGER", float: "REAL"}[type_]


def create_schema(conn: sqlite3.Connection, *, bulk_load: bool = False) -> None:
    """Create every table, index and view (in the caller's transaction, if any).

    With `bulk_load` (a new file being built from zero) only the tables, their keys and
    the views are created; `finish_bulk_load` adds the secondary and full-text indexes
    at the end, which sorts each index once instead of inserting into it row by row."""
    for table in TABLES:
        columns = ", ".join(f'"{c.name}" {_sql_type(c.type)}' for c in table.columns)
        pk = ", ".join(f'"{c}"' for c in table.pk)
        # Rowid tables but one: rows arrive in log order, so appending by rowid with a
        # narrow key index measured ~2x faster than WITHOUT ROWID tables for wide rows.
        layout = " WITHOUT ROWID" if table.without_rowid else ""
        conn.execute(f'CREATE TABLE IF NOT EXISTS "{table.name}" ({columns}, PRIMARY KEY ({pk})){layout}')
    for view in VIEWS:
        conn.execute(f'CREATE VIEW IF NOT EXISTS "{view.name}" AS {view.sql}')
    if not bulk_load:
        finish_bulk_load(conn)


def finish_bulk_load(conn: sqlite3.Connection, *, search: bool = True) -> None:
    """The secondary indexes and (unless not `search`) the full-text indexes, created if
    missing, populated from the rows already there. Idempotent."""
    for table in TABLES:
        indexes = [*((c, False) for c in table.indexes), *((c, True) for c in table.unique_indexes)]
        for cols, unique in indexes:
            create_index(conn, table, cols, unique=unique)
    if search:
        enable_search(conn)


def create_index(
    conn: sqlite3.Connection, table: Table, cols: tuple[str, ...], *, unique: bool = False
) -> None:
    """One of `table`'s secondary indexes, unless it is there already."""
    conn.execute(
        f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS "
        f'"idx_{table.name}_{"_".join(cols)}" '
        f'ON "{table.name}" ({", ".join(cols)})'
    )


def enable_search(conn: sqlite3.Connection) -> None:
    """Full-text indexes (FTS5, kept current by triggers) over updates, mitigation and
    narratives. Populates them from the rows already there.

    External-content tables (the texts are held once, in their own rows) with
    `columnsize=0`: no per-row token counts are stored, so bm25 counts a matched row's
    tokens when a search ranks it. That took ~30% off building the index in a rebuild
    (2.3 -> 1.6 µs an event) for the same results in the same order (BENCHMARKS.md)."""
    present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table in TABLES:
        if not table.fts or f"{table.name}_fts" in present:
            continue
        name, fts = _quoted(table.name), _quoted(f"{table.name}_fts")
        columns = ", ".join(_quoted(c) for c in table.fts)
        old = ", ".join(f"old.{_quoted(c)}" for c in table.fts)
        new = ", ".join(f"new.{_quoted(c)}" for c in table.fts)
        delete = f"INSERT INTO {fts} ({fts}, rowid, {columns}) VALUES ('delete', old.rowid, {old});"
        insert = f"INSERT INTO {fts} (rowid, {columns}) VALUES (new.rowid, {new});"
        # content="..." double-quoted: Datasette finds a table's index by that text.
        conn.execute(f"CREATE VIRTUAL TABLE {fts} USING FTS5 ({columns}, content={name}, columnsize=0)")
        conn.execute(f"INSERT INTO {fts} (rowid, {columns}) SELECT rowid, {columns} FROM {name}")
        # The triggers sqlite-utils' enable_fts(create_triggers=True) writes, by its names.
        triggers = (("ai", "INSERT", insert), ("ad", "DELETE", delete), ("au", "UPDATE", delete + insert))
        for suffix, when, body in triggers:
            trigger = _quoted(f"{table.name}_{suffix}")
            conn.execute(f"CREATE TRIGGER {trigger} AFTER {when} ON {name} BEGIN {body} END")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def search_tables() -> list[Table]:
    return [t for t in TABLES if t.fts]
