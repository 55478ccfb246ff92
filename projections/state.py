"""The read model as a handler sees it, and what a handler returns.

`State` reads through the page's pending writes to the database, buffers writes per row
key and flushes them in batches (`executemany` upserts), never row by row. `Change` is
what an event changed, for its audit_log row. The projector (projections.projector)
drives both; handlers (projections.handlers) only import this module, so neither side
imports the other.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from collections.abc import Callable
from operator import itemgetter
from typing import Any, NamedTuple

from pyroaring import BitMap

from projections.schema import TABLES, Table

# Bounded so a million-event rebuild doesn't hold the whole read model in memory: at
# 200,000 rows a 1M-event rebuild peaked at 464 MB; the hot rows (programmes, statuses,
# subjects of the records being rated) are back after a page of misses.
CACHE_LIMIT = 50_000

Row = dict[str, Any]
# A handler applies one event to the state and says what changed, for the audit log.
Handler = Callable[[Any, "State"], "Change"]

_MISSING = object()
_LOW_32 = 0xFFFF_FFFF


# A status event's own audit_log columns, in order (StatusRating); other events leave them empty.
RATING_COLUMNS = ("period_start", "status", "category", "update", "mitigation", "corrects_version")
NO_RATING: tuple[None, ...] = (None,) * len(RATING_COLUMNS)


class Change(NamedTuple):
    """What an event changed, for its audit_log row. The projector adds who, when, why.
    A status event also gives its `rating` (values of RATING_COLUMNS)."""

    programme: str | None
    subject_ref: str
    summary: str
    field: str | None = None
    from_value: str | None = None
    to_value: str | None = None
    period: str | None = None
    rating: tuple[Any, ...] = NO_RATING


class _TableOps:
    """Per-table SQL and row accessors, prepared once (the projector's hot path)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.columns = table.column_names
        pk = table.pk
        if len(pk) == 1:
            only = pk[0]
            self.key: Callable[[Row], tuple[Any, ...]] = lambda row: (row[only],)
        else:
            self.key = itemgetter(*pk)
        self.values = itemgetter(*self.columns)
        quoted = ", ".join(f'"{c}"' for c in self.columns)
        where = " AND ".join(f'"{k}" = ?' for k in pk)
        self.select = f'SELECT {quoted} FROM "{table.name}" WHERE {where}'
        self.insert = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" for _ in self.columns)})'
        # ON CONFLICT DO UPDATE (not INSERT OR REPLACE) keeps the rowid and fires UPDATE
        # triggers, which is what keeps the full-text indexes right.
        updates = ", ".join(
            f'"{c}" = excluded."{c}"' for c in self.columns if c not in pk and c not in table.fixed
        )
        self.upsert = f"{self.insert} ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {updates}"
        self.delete = f'DELETE FROM "{table.name}" WHERE {where}'


_OPS: dict[str, _TableOps] = {t.name: _TableOps(t) for t in TABLES}


def insert_statement(table: str) -> str:
    """The INSERT of a whole `table` row given as values in its columns' order."""
    return _OPS[table].insert


def check_columns(table: str, names: tuple[str, ...]) -> None:
    """Refuse, on import, code that appends `table`'s rows as values (`State.append_values`)
    in another order than the schema's columns."""
    if _OPS[table].columns != names:
        raise ImportError(f"{table} rows are built in another column order than the schema: {names}")


class State:
    """The read model as handlers see it: committed rows (cached) with this page's writes.

    `get` returns a row dict that must be treated as read-only: handlers build a new dict
    (`{**row, "x": y}`) and `put` it. Rows are keyed by their table's primary key.
    """

    def __init__(self, conn: sqlite3.Connection, *, complete: bool = False) -> None:
        self._conn = conn
        # Complete: everything in the database is in the cache or was evicted from it, so
        # a miss on a key never evicted means "no such row" without asking SQLite (true
        # while building a new file). Evicted keys are kept as hashes: a collision only
        # costs a needless SELECT.
        self.complete = complete
        # In a compressed bitmap of 32-bit hashes: a set of full hashes took ~60 MB a
        # million evicted keys (a 10M-event rebuild holds over a million), this ~3 MB.
        self._evicted = BitMap()
        # One dict for committed rows and this page's writes (one lookup per get); _undo
        # holds what each of the page's writes replaced, so its keys are the page's writes.
        self._rows: dict[tuple[str, tuple[Any, ...]], Row | None] = {}
        self._undo: dict[tuple[str, tuple[Any, ...]], Any] = {}
        # Rows only ever inserted, as tuples in their table's column order.
        self._appended: dict[str, list[tuple[Any, ...]]] = {t.name: [] for t in TABLES}
        # The event being applied, set by the projector for handlers: its log position,
        # recorded time (ISO, UTC) and its aggregate's id as text.
        self.position = 0
        self.recorded_at = ""
        self.aggregate_id = ""
        # Counts writes to the rows `watch`ed: a reader that remembers what it derived
        # from those rows knows it is still true while this stands still.
        self._watched: set[tuple[str, tuple[Any, ...]]] = set()
        self.watched_writes = 0

    # ------------------------------------------------------------- for handlers

    def get(self, table: str, *key: Any) -> Row | None:
        k = (table, key)
        row = self._rows.get(k, _MISSING)
        if row is _MISSING:
            if self.complete and hash(k) & _LOW_32 not in self._evicted:
                return None
            ops = _OPS[table]
            found = self._conn.execute(ops.select, key).fetchone()
            row = dict(zip(ops.columns, found, strict=True)) if found else None
            self._rows[k] = row
        return row  # type: ignore[return-value]

    def put(self, table: str, row: Row) -> None:
        k = (table, _OPS[table].key(row))
        if k not in self._undo:
            self._undo[k] = self._rows.get(k, _MISSING)
        self._rows[k] = row
        if k in self._watched:
            self.watched_writes += 1

    def delete(self, table: str, *key: Any) -> None:
        k = (table, key)
        if k not in self._undo:
            self._undo[k] = self._rows.get(k, _MISSING)
        self._rows[k] = None
        if k in self._watched:
            self.watched_writes += 1

    def keys(self, table: str, *prefix: Any) -> list[tuple[Any, ...]]:
        """The keys of `table`'s rows whose key starts with `prefix`, in key order: the
        database's, with this page's writes over them. Rare (an indicator redefined
        restates all its values), so it asks SQLite and scans the cache."""
        ops, n = _OPS[table], len(prefix)
        pk = ops.table.pk
        where = " AND ".join(f'"{k}" = ?' for k in pk[:n])
        select = f'SELECT {", ".join(pk)} FROM "{table}" WHERE {where}'
        found = set(self._conn.execute(select, prefix).fetchall())
        for (name, key), row in self._rows.items():
            if name == table and key[:n] == prefix:
                (found.discard if row is None else found.add)(key)
        return sorted(found)

    def watch(self, table: str, *key: Any) -> None:
        """Count writes to this row from now on (`watched_writes`)."""
        self._watched.add((table, key))

    def unwatch(self) -> None:
        self._watched.clear()

    def append(self, table: str, row: Row) -> None:
        """A row that is only ever inserted (log tables): never read back by handlers."""
        self._appended[table].append(_OPS[table].values(row))

    def append_values(self, table: str, values: tuple[Any, ...]) -> None:
        """`append` for a row given as its values in the table's column order: the hot path
        (an audit row per event) skips building a dict only to take it apart again."""
        self._appended[table].append(values)

    def logged(self, table: str, position: int) -> Row:
        """A row `append`ed at `position` (a log table keyed by it): this page's, or the
        database's. Rare (a period's text revised), so nothing is indexed for it."""
        rows = self._appended[table]
        i = bisect_left(rows, position, key=itemgetter(0))
        if i < len(rows) and rows[i][0] == position:
            found = rows[i]
        else:
            found = self._conn.execute(_OPS[table].select, (position,)).fetchone()
        return dict(zip(_OPS[table].columns, found, strict=True))

    # ------------------------------------------------------------- for the projector

    def flush(self) -> None:
        """Write the page's rows in batches, in the caller's transaction."""
        deletes: dict[str, list[tuple[Any, ...]]] = {}
        upserts: dict[str, list[Row]] = {}
        rows = self._rows
        for k in self._undo:
            row = rows[k]
            if row is None:
                deletes.setdefault(k[0], []).append(k[1])
            else:
                upserts.setdefault(k[0], []).append(row)
        execute = self._conn.executemany
        for table, keys in deletes.items():
            execute(_OPS[table].delete, keys)
        for table, changed in upserts.items():
            ops = _OPS[table]
            execute(ops.upsert, list(map(ops.values, changed)))
        for table, appended in self._appended.items():
            if appended:
                execute(_OPS[table].insert, appended)

    def commit(self) -> None:
        """The page is committed: its writes are now the cached view of the database."""
        self._undo.clear()
        for appended in self._appended.values():
            appended.clear()
        if len(self._rows) > CACHE_LIMIT:
            if self.complete:
                self._evicted.update([hash(k) & _LOW_32 for k, row in self._rows.items() if row is not None])
            self._rows.clear()

    def discard(self) -> None:
        """The page was rolled back: put back what its writes replaced."""
        self.watched_writes += 1
        for k, old in self._undo.items():
            if old is _MISSING:
                self._rows.pop(k, None)
            else:
                self._rows[k] = old
        self._undo.clear()
        for appended in self._appended.values():
            appended.clear()

    def forget(self) -> None:
        """Drop the cache: someone else has written the database, or a page failed."""
        self.complete = False
        self.watched_writes += 1
        self._evicted.clear()
        self._rows.clear()
        self._undo.clear()
        for appended in self._appended.values():
            appended.clear()
