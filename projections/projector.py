"""The projector: pulls new events from the ledger's notification log and writes the
read model, one page (up to 1,000 events) per SQLite transaction.

Exactly once: the rows a page produces and the new tracking position are written in
the same transaction, which starts with BEGIN IMMEDIATE and re-reads the position, so
two projectors (say, two web workers) on the same file never apply an event twice and a
crash half-way through a page leaves nothing of it behind.

Handlers (projections.handlers) are functions of (event, read-model state); the state
reads through the page's pending writes to the database, so live catch-up, rebuild from
zero and as-at snapshots all run this one code path. Writes are buffered per row key
and flushed in batches (`executemany` upserts), never row by row.

A projection never falls behind silently: any error in a handler or the flush rolls the
page back and propagates as `ProjectionFailed`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from projections.schema import SCHEMA_VERSION, TABLES, Table, create_schema

if TYPE_CHECKING:
    from eventsourcing.application import Application

PROJECTION = "governance"
PAGE_SIZE = 1000
# Bounded so a million-event rebuild doesn't hold the whole read model in memory.
CACHE_LIMIT = 200_000

Row = dict[str, Any]
# A handler applies one event to the state and says what changed, for the audit log.
Handler = Callable[[Any, "State"], "Change"]
# Called with (last position applied, last position in the log) after each page.
Progress = Callable[[int, int], None]

_MISSING = object()


class ProjectionFailed(Exception):
    """An event could not be projected. Nothing of its page was written; the event is
    still in the ledger, so fix the cause and catch up (or rebuild)."""

    def __init__(self, message: str, position: int | None = None, event_type: str = "") -> None:
        super().__init__(message)
        self.position = position
        self.event_type = event_type


class SchemaOutOfDate(Exception):
    """projections.db was written by a different version of the projections: rebuild it."""


class Change(NamedTuple):
    """What an event changed, for its audit_log row. The projector adds who, when, why."""

    programme: str | None
    subject_ref: str
    summary: str
    field: str | None = None
    from_value: str | None = None
    to_value: str | None = None
    period: str | None = None


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
        self._evicted: set[int] = set()
        # One dict for committed rows and this page's writes (one lookup per get); _undo
        # holds what each of the page's writes replaced, so its keys are the page's writes.
        self._rows: dict[tuple[str, tuple[Any, ...]], Row | None] = {}
        self._undo: dict[tuple[str, tuple[Any, ...]], Any] = {}
        self._appended: dict[str, list[Row]] = {t.name: [] for t in TABLES}
        # The event being applied, set by the projector for handlers: its log position,
        # recorded time (ISO, UTC) and its aggregate's id as text.
        self.position = 0
        self.recorded_at = ""
        self.aggregate_id = ""

    # ------------------------------------------------------------- for handlers

    def get(self, table: str, *key: Any) -> Row | None:
        k = (table, key)
        row = self._rows.get(k, _MISSING)
        if row is _MISSING:
            if self.complete and hash(k) not in self._evicted:
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

    def delete(self, table: str, *key: Any) -> None:
        k = (table, key)
        if k not in self._undo:
            self._undo[k] = self._rows.get(k, _MISSING)
        self._rows[k] = None

    def append(self, table: str, row: Row) -> None:
        """A row that is only ever inserted (log tables): never read back by handlers."""
        self._appended[table].append(row)

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
                ops = _OPS[table]
                execute(ops.insert, list(map(ops.values, appended)))

    def commit(self) -> None:
        """The page is committed: its writes are now the cached view of the database."""
        self._undo.clear()
        for appended in self._appended.values():
            appended.clear()
        if len(self._rows) > CACHE_LIMIT:
            if self.complete:
                self._evicted.update(hash(k) for k, row in self._rows.items() if row is not None)
            self._rows.clear()

    def discard(self) -> None:
        """The page was rolled back: put back what its writes replaced."""
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
        self._evicted.clear()
        self._rows.clear()
        self._undo.clear()
        for appended in self._appended.values():
            appended.clear()


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection to a projections database, WAL on."""
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL can lose the last commit on power loss but never corrupts; the
    # position is in the same transaction, so the projector simply re-applies it.
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class Projector:
    """Keeps a projections database up to date with a ledger's event log."""

    def __init__(
        self,
        ledger: Application[Any],
        path: str | Path,
        *,
        page_size: int = PAGE_SIZE,
        handlers: dict[str, Handler] | None = None,
        conn: sqlite3.Connection | None = None,
        bulk_load: bool = False,
    ) -> None:
        from projections.handlers import HANDLERS

        self.ledger = ledger
        self.path = Path(path)
        self.page_size = page_size
        self.handlers = HANDLERS if handlers is None else handlers
        self.conn = conn or connect(self.path)
        self._lock = threading.Lock()
        self._cached_position: int | None = None
        self._chain_heads = _chain_reader(ledger)
        created = self._ensure_schema(bulk_load)
        # A file we have just created holds nothing we don't know about.
        self._state = State(self.conn, complete=created)
        if created:
            self._cached_position = 0

    def _ensure_schema(self, bulk_load: bool) -> bool:
        """Create the tables in a new file (True), or check an existing file's version."""
        found = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'projection_position'"
        ).fetchone()
        if not found:
            with self.conn:
                create_schema(self.conn, bulk_load=bulk_load)
                self.conn.execute(
                    "INSERT INTO projection_position VALUES (?, 0, ?, NULL)",
                    (PROJECTION, SCHEMA_VERSION),
                )
            return True
        row = self.conn.execute(
            "SELECT schema_version FROM projection_position WHERE projection = ?", (PROJECTION,)
        ).fetchone()
        if row is None or row[0] != SCHEMA_VERSION:
            raise SchemaOutOfDate(
                f"{self.path} was built by another version of the projections "
                f"(schema {row[0] if row else 'unknown'}, expected {SCHEMA_VERSION}): rebuild it."
            )
        return False

    @property
    def position(self) -> int:
        """The last event log position applied."""
        row = self.conn.execute(
            "SELECT position FROM projection_position WHERE projection = ?", (PROJECTION,)
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        self.conn.close()

    def catch_up(
        self,
        *,
        stop: int | None = None,
        include: Callable[[Any], bool] | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Apply every event after the tracked position (up to `stop`, if given), a page
        per transaction. `include` skips events (as-at a time). Returns events applied."""
        applied = 0
        with self._lock:
            while True:
                seen, count = self._run_page(stop, include)
                applied += count
                if progress is not None and seen:
                    progress(self._cached_position or 0, self.ledger.recorder.max_notification_id() or 0)
                if seen < self.page_size:
                    return applied

    def _run_page(self, stop: int | None, include: Callable[[Any], bool] | None) -> tuple[int, int]:
        """One page in one transaction: (notifications seen, events applied)."""
        conn, state = self.conn, self._state
        conn.execute("BEGIN IMMEDIATE")
        try:
            position = conn.execute(
                "SELECT position FROM projection_position WHERE projection = ?", (PROJECTION,)
            ).fetchone()[0]
            if position != self._cached_position:
                state.forget()  # another projector moved it on: our cache is stale
                self._cached_position = None
            if stop is not None and position >= stop:
                conn.rollback()
                return 0, 0
            notifications = self.ledger.recorder.select_notifications(
                start=position, limit=self.page_size, stop=stop, inclusive_of_start=False
            )
            if not notifications:
                conn.rollback()
                self._cached_position = position
                return 0, 0
            heads = self._chain_heads(position, notifications[-1].id)
            applied = 0
            for notification in notifications:
                event = self.ledger.mapper.to_domain_event(notification)
                if include is not None and not include(event):
                    continue
                self._apply(event, notification.id, heads.get(notification.id))
                applied += 1
            state.flush()
            last = notifications[-1].id
            self._write_position(last)
            conn.commit()
        except BaseException as error:
            conn.rollback()
            state.forget()
            self._cached_position = None
            if isinstance(error, ProjectionFailed | KeyboardInterrupt | SystemExit):
                raise
            raise ProjectionFailed(
                f"Projecting the page after position {position} failed: {error}"
            ) from error
        state.commit()
        self._cached_position = last
        return len(notifications), applied

    def _write_position(self, position: int) -> None:
        self.conn.execute(
            "UPDATE projection_position SET position = ? WHERE projection = ?", (position, PROJECTION)
        )

    def _apply(self, event: Any, position: int, head: bytes | None) -> None:
        event_type = type(event).__qualname__  # e.g. "Item.StatusRecorded"
        handler = self.handlers.get(event_type)
        if handler is None:
            raise ProjectionFailed(
                f"No projection handler for {event_type} (position {position}): add one to "
                "projections.handlers.",
                position,
                event_type,
            )
        state = self._state
        state.position = position
        state.recorded_at = recorded_at = iso(event.timestamp)
        state.aggregate_id = aggregate_id = str(event.originator_id)
        try:
            change = handler(event, self._state)
        except Exception as error:
            raise ProjectionFailed(
                f"Projecting {event_type} at position {position} failed: {error}", position, event_type
            ) from error
        kind, name = _split_type(event_type)
        self._state.append(
            "audit_log",
            {
                "position": position,
                "recorded_at": recorded_at,
                "actor": getattr(event, "actor", ""),
                "programme": change.programme,
                "subject_ref": change.subject_ref,
                "aggregate_kind": kind,
                "event_type": name,
                "summary": change.summary,
                "field": change.field,
                "from_value": change.from_value,
                "to_value": change.to_value,
                "reason": getattr(event, "reason", ""),
                "period": change.period,
                "aggregate_id": aggregate_id,
                "version": event.originator_version,
                "chain_head": head.hex() if head is not None else None,
            },
        )


@lru_cache(maxsize=256)
def _split_type(event_type: str) -> tuple[str, str]:
    kind, _, name = event_type.rpartition(".")
    return kind, name


# Reads the hash-chain heads for the positions after `after` up to `last`.
ChainReader = Callable[[int, int], dict[int, bytes]]


def _no_chain(after: int, last: int) -> dict[int, bytes]:
    return {}


def _chain_reader(ledger: Application[Any]) -> ChainReader:
    """How to read the event store's hash-chain heads (ledger.store on SQLite,
    ledger.store_postgres on PostgreSQL); an event store without a chain gives none."""
    recorder = ledger.recorder
    datastore = getattr(recorder, "datastore", None)
    if datastore is None or not hasattr(datastore, "transaction"):
        return _no_chain
    pg_chain = getattr(recorder, "chain_table_name", None)
    if pg_chain is not None and hasattr(datastore, "schema"):
        from psycopg.sql import SQL, Identifier

        statement = SQL("SELECT position, head FROM {}.{} WHERE position > %s AND position <= %s").format(
            Identifier(datastore.schema), Identifier(pg_chain)
        )

        def read_postgres(after: int, last: int) -> dict[int, bytes]:
            with datastore.transaction(commit=False) as curs:
                curs.execute(statement, (after, last))
                return {row["position"]: bytes(row["head"]) for row in curs.fetchall()}

        return read_postgres
    from ledger.store import CHAIN_TABLE

    try:
        with datastore.transaction(commit=False) as c:
            c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (CHAIN_TABLE,))
            if not c.fetchone():
                return _no_chain
    except Exception:  # neither store we know: no chain column
        return _no_chain
    statement = f"SELECT position, head FROM {CHAIN_TABLE} WHERE position > ? AND position <= ?"

    def read_sqlite(after: int, last: int) -> dict[int, bytes]:
        with datastore.transaction(commit=False) as c:
            c.execute(statement, (after, last))
            return {row[0]: row[1] for row in c.fetchall()}

    return read_sqlite


def iso(moment: datetime) -> str:
    return moment.isoformat()
