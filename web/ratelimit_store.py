"""Rate-limit counters in a SQLite file, shared by every worker process on one machine.

`limits` (under flask-limiter) stores counters in memory, Redis, Memcached, MongoDB or
Valkey; none of them works across processes without another server. This registers
one more storage with `limits`' own extension point (a `Storage` subclass naming its URI
scheme): `govledger-sqlite:///<path>`. Each counter is one row; an increment is one
upsert statement, so two workers counting the same sign-in never lose a count.

It implements the fixed-window strategy, flask-limiter's default (the only one the
sign-in limits use). Nodes on separate machines need a networked storage (redis://...)
in $GOVLEDGER_RATELIMIT_STORAGE_URI.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from limits.storage import Storage

SCHEME = "govledger-sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires REAL NOT NULL
)
"""

# A window that has ended starts again at `amount`; one still open is added to.
_INCREMENT = """
INSERT INTO counters (key, count, expires) VALUES (:key, :amount, :expires)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN counters.expires <= :now THEN :amount ELSE counters.count + :amount END,
    expires = CASE WHEN counters.expires <= :now THEN :expires ELSE counters.expires END
RETURNING count
"""


def storage_uri(path: Path) -> str:
    return f"{SCHEME}:///{Path(path).resolve()}"


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite file (WAL, one short connection per call)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        if not uri or not uri.startswith(f"{SCHEME}:///"):
            raise ValueError(f"expected {SCHEME}:///<path to a file>, not {uri!r}")
        self.path = Path(uri[len(f"{SCHEME}://") :])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            yield db

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._connect() as db:
            db.execute("DELETE FROM counters WHERE expires <= ?", (now,))  # keeps the file small
            row = db.execute(
                _INCREMENT, {"key": key, "amount": amount, "expires": now + expiry, "now": now}
            ).fetchone()
        return int(row[0])

    def get(self, key: str) -> int:
        with self._connect() as db:
            row = db.execute(
                "SELECT count FROM counters WHERE key = ? AND expires > ?", (key, time.time())
            ).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self._connect() as db:
            row = db.execute(
                "SELECT expires FROM counters WHERE key = ? AND expires > ?", (key, now)
            ).fetchone()
        return float(row[0]) if row else now

    def check(self) -> bool:
        with self._connect() as db:
            db.execute("SELECT 1").fetchone()
        return True

    def reset(self) -> int | None:
        with self._connect() as db:
            return db.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM counters WHERE key = ?", (key,))
