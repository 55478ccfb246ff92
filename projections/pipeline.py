"""A rebuild's second core: audit_log's full-text index filled a page behind the replay.

Python's sqlite3 lets go of the GIL only inside sqlite3_step (CPython's
Modules/_sqlite/util.c, pysqlite_step), so a thread writing rows one `executemany` step
at a time gains nothing: it needs the GIL back between rows and the two threads take
turns (measured: a writer thread's 20,000 inserts took 5x as long beside a busy main
thread). Indexing a page's text is one statement, one step, no GIL: the search thread
runs it for page N while the main thread decodes and applies page N+1. (A writer
*process* for each page's rows, fed pickled pages, was measured too and not kept: the
build's own CPU fell by ~4-7 µs an event, but pickling and the second interpreter added
as much, and on a shared machine the wall clock rose; BENCHMARKS.md.)

One connection, never used by two threads at once: the main thread calls `settle`
before any use of it (its page's flush, a read of an evicted row, the end of the
build), which waits for the page being indexed. An error in the search thread fails the
build at the next `settle`, with its message.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor

from projections.schema import TABLES_BY_NAME, create_search_index, search_fill

_AUDIT_LOG = TABLES_BY_NAME["audit_log"]


class SearchIndexFailed(Exception):
    """Indexing a page's text failed: the build fails with this message."""


class SearchBehind:
    """Fills audit_log's full-text index (no triggers yet: schema.enable_search adds them
    at the end) a page at a time on its own thread. audit_log's rowid is its position."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._created = False
        self._fill = search_fill(_AUDIT_LOG, by_rowid=True)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-behind")
        self._pending: Future[None] | None = None
        self._range = (0, 0)

    def page_written(self, after: int, last: int) -> None:
        """Index the positions after `after` up to `last`, committed: the connection is
        the search thread's until `settle`."""
        self.settle()
        self._range = (after, last)
        self._pending = self._thread.submit(self._index, after, last)

    def _index(self, after: int, last: int) -> None:
        conn = self._conn
        if not self._created:
            create_search_index(conn, _AUDIT_LOG)
            self._created = True
        with conn:
            conn.execute(self._fill, (after, last))

    def settle(self) -> None:
        """Wait for the page being indexed, so the connection is the caller's again."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        error = pending.exception()
        if error is not None:
            after, last = self._range
            raise SearchIndexFailed(
                f"Indexing the text of positions {after + 1} to {last} failed: {error}"
            ) from error

    def close(self) -> None:
        """Wait for the thread and stop it (errors are for `settle` to report)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.exception()
        self._thread.shutdown(wait=True)
