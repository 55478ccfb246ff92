"""Bounds on what one Datasette query may cost (issue 9, finding 4).

Datasette's own settings bound time (`sql_time_limit_ms`) and rows (`max_returned_rows`),
but not bytes: `select randomblob(1000000000)` built a 1.3 GB answer and stalled every
other page while it was encoded. Two more bounds close that:

- SQLite's SQLITE_LIMIT_LENGTH on every connection Datasette opens: no single value may
  exceed MAX_VALUE_BYTES, so SQLite refuses before allocating it;
- a row factory that counts the bytes of the rows a query returns and stops at
  MAX_RESULT_BYTES, so many moderate values cannot add up to gigabytes either.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from datasette.app import Datasette
from datasette.utils.asgi import BadRequest

# A value 100 times the longest update the forms accept; the largest stored row is a few KB.
MAX_VALUE_BYTES = 1_000_000
# A full page (max_returned_rows) of long updates fits; a gigabyte does not.
MAX_RESULT_BYTES = 20_000_000

_NUMBER_BYTES = 8

# True while a CSV export is being answered. Datasette's query view drops a query's error
# when it writes CSV (an empty 200); BoundedDatasette.execute reads this to say it instead.
CSV_EXPORT: ContextVar[bool] = ContextVar("govledger_csv_export", default=False)


class ResultTooLarge(sqlite3.DataError):
    """A query's answer is bigger than MAX_VALUE_BYTES per value or MAX_RESULT_BYTES in all.
    A DataError, so Datasette shows it as the query's error (400), like any bad SQL."""


TOO_LARGE_MESSAGE = (
    "This query's answer is too large to show: each value is limited to "
    f"{MAX_VALUE_BYTES:,} bytes and the whole answer to {MAX_RESULT_BYTES:,} bytes. "
    "Select fewer rows or columns (for example with LIMIT, a smaller _size, or substr())."
)


def bound_connection(conn: sqlite3.Connection) -> None:
    """Apply both bounds to a connection Datasette has just opened and prepared."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.row_factory = _counting_rows(conn.row_factory or sqlite3.Row)


def _counting_rows(make_row: Callable[[sqlite3.Cursor, tuple[Any, ...]], Any]) -> Any:
    """A row factory that keeps a running total of bytes per cursor. A connection runs one
    query at a time (Datasette gives each thread its own), so the last cursor is enough."""
    last: weakref.ref[sqlite3.Cursor] | None = None
    total = 0

    def row_factory(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Any:
        nonlocal last, total
        if last is None or last() is not cursor:
            last, total = weakref.ref(cursor), 0
        total += sum(len(v) if isinstance(v, (str, bytes)) else _NUMBER_BYTES for v in row)
        if total > MAX_RESULT_BYTES:
            raise ResultTooLarge(TOO_LARGE_MESSAGE)
        return make_row(cursor, row)

    return row_factory


class BoundedDatasette(Datasette):
    """Datasette whose SQL errors say which bound a too-large answer hit (SQLite's own
    "string or blob too big" does not say what the limit is or what to do), and reach a
    CSV export as a 400 instead of an empty file."""

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute(*args, **kwargs)
        except sqlite3.DatabaseError as error:
            shown: Exception = error
            if getattr(error, "sqlite_errorname", None) == "SQLITE_TOOBIG":
                shown = ResultTooLarge(TOO_LARGE_MESSAGE)
            if CSV_EXPORT.get():
                raise BadRequest(str(shown)) from error
            if shown is error:
                raise
            raise shown from error
