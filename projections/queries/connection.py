"""The one way the read side opens the read model: read-only, rows as dicts.

Every query function takes `db` first: a path to projections.db or an as-at snapshot
(opened read-only for the call), an open `sqlite3.Connection` (a page's one connection
per request), or a `sqlite_utils.Database`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils

Db = str | os.PathLike[str] | sqlite3.Connection | sqlite_utils.Database
Connection = sqlite3.Connection
Row = dict[str, Any]


def connect_read_only(path: str | os.PathLike[str]) -> Connection:
    """A read-only connection to a read model file (projections.db or an as-at snapshot)."""
    resolved = Path(path).resolve()
    if not resolved.exists():
        raise FileNotFoundError(f"No projections database at {resolved}")
    return sqlite3.connect(f"file:{quote(str(resolved))}?mode=ro", uri=True, timeout=30)


@contextmanager
def connection(db: Db) -> Iterator[Connection]:
    """`db`'s connection, or one opened read-only for the `with` block and then closed."""
    if isinstance(db, sqlite_utils.Database):
        yield db.conn
    elif isinstance(db, sqlite3.Connection):
        yield db
    else:
        conn = connect_read_only(db)
        try:
            yield conn
        finally:
            conn.close()


def as_dicts(cursor: sqlite3.Cursor) -> list[Row]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def rows(db: Db, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
    with connection(db) as conn:
        return as_dicts(conn.execute(sql, params if isinstance(params, dict) else tuple(params)))


def one(db: Db, sql: str, params: Sequence[Any] = ()) -> Row | None:
    found = rows(db, sql, params)
    return found[0] if found else None
