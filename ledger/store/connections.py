"""The SQLite event store's connections, with a statement cache that holds.

eventsourcing 9.5.6 opens each pooled connection with `cached_statements=True`, which
sqlite3 reads as a cache of ONE prepared statement: every statement that differs from
the one before it is compiled again. An officer's update runs about ten different
statements (BEGIN, the aggregates' read, the chain head, the inserts...), each compiled
every time: the three-aggregate read took 40 µs on the pool's connection against 8 µs
with the standard cache, and an update's CPU fell from 1.31-1.38 to 1.12-1.28 ms with
it (bench/bench_update.py; BENCHMARKS.md). Connections made here keep sqlite3's usual
cache; everything else about them is as the library makes them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
)

# sqlite3's own default size; the store runs a few dozen distinct statements.
STATEMENT_CACHE_SIZE = 128


class StatementCachingPool(SQLiteConnectionPool):
    """The library's pool, making file connections with a real statement cache."""

    def _create_connection(self) -> SQLiteConnection:
        if self.is_sqlite_memory_mode:  # shared-cache details the library handles
            return super()._create_connection()
        conn = sqlite3.connect(
            self.db_name,
            uri=True,
            check_same_thread=False,
            isolation_level=None,  # the library issues BEGIN itself
            cached_statements=STATEMENT_CACHE_SIZE,
            timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
        )
        if not self.is_journal_mode_wal:  # as the library does: asked once per pool
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        conn.row_factory = sqlite3.Row
        return SQLiteConnection(sqlite_conn=conn, max_age=self.max_age)


class CachedStatements(SQLiteApplicationRecorder):
    """A recorder mixin: its datastore's pool makes `StatementCachingPool` connections.

    The factory builds the datastore (and its pool) before the recorder and opens no
    connection until the recorder creates its tables, so swapping the pool's class here
    reaches every connection; the pool keeps its settings and state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pool = self.datastore.pool
        if type(pool) is SQLiteConnectionPool:
            pool.__class__ = StatementCachingPool
