"""Password hashes, kept apart from the ledger.

A password is a secret, not a fact for the audit trail: it never enters an event or a
projection (which analysts can query). Hashes live in `<data_dir>/credentials.db`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from ledger.errors import InvalidValue

MAX_PASSWORD_LENGTH = 256

_SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL
)
"""

# Each account's session generation: a session carries the one it signed in under and is
# refused once signing out has moved it on, on every worker that reads this file.
_SESSIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS session_generations (
    username TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
)
"""


DEFAULT_HASH_METHOD = "scrypt"


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not a real password", method=method)


# NCSC: deny the passwords attackers try first. The most common ones long enough to pass
# the length rule (from the published most-used lists); compared ignoring case and spaces.
_COMMON = """password password1 password12 password123 password1234 passw0rd passwordpassword
    12345678 123456789 1234567890 12345678910 123456789012 1234567891011 11111111
    111111111111 00000000 000000000000 87654321 qwertyuiop qwertyuiop123 qwerty123456
    qwertyqwerty 1q2w3e4r5t6y 1qaz2wsx3edc iloveyou123 iloveyouiloveyou sunshine123
    football123 baseball123 superman123 letmein123 welcome123 welcome1234 abcdefghijkl
    abc123456789 administrator changeme123 trustno1trustno1 monkey123456 dragon123456
    princess123"""
COMMON_PASSWORDS = frozenset(_COMMON.split())


def check_password_rules(password: str, min_length: int) -> None:
    """NCSC-style rules: length over complexity (no composition rules, long passphrases
    welcome), and not one of the passwords attackers try first."""
    if "".join(password.lower().split()) in COMMON_PASSWORDS or len(set(password)) == 1:
        raise InvalidValue(
            "That password is one of the most commonly used: choose another, for example "
            "three random words",
            field="password",
        )
    if len(password) < min_length:
        raise InvalidValue(f"Password must be {min_length} characters or more", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidValue(
            f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer", field="password"
        )


class CredentialStore:
    """username -> password hash, in one small SQLite file.

    `method` is werkzeug's hashing method for new hashes (tests use a cheap one); each
    stored hash names its own method, so changing it never breaks existing passwords.
    """

    def __init__(self, path: Path, method: str = DEFAULT_HASH_METHOD) -> None:
        self.path = Path(path)
        self.method = method
        # Readable by its owner only (and any journal SQLite makes copies the mode).
        self.path.touch(mode=0o600, exist_ok=True)
        os.chmod(self.path, 0o600)
        with self._connect() as db:
            db.execute(_SCHEMA)
            db.execute(_SESSIONS_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per call: safe across threads, nothing left open.
        with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            yield db

    def set_password(self, username: str, password: str, *, actor: str) -> None:
        row = (
            username.lower(),
            generate_password_hash(password, method=self.method),
            datetime.now(UTC).isoformat(timespec="seconds"),
            actor,
        )
        with self._connect() as db:
            db.execute(
                "INSERT INTO credentials (username, password_hash, changed_at, changed_by) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET "
                "password_hash = excluded.password_hash, changed_at = excluded.changed_at, "
                "changed_by = excluded.changed_by",
                row,
            )

    def verify(self, username: str, password: str) -> bool:
        with self._connect() as db:
            row = db.execute(
                "SELECT password_hash FROM credentials WHERE username = ?", (username.lower(),)
            ).fetchone()
        if row is None:
            # Hash anyway, so an unknown username takes as long as a wrong password.
            check_password_hash(_dummy_hash(self.method), password)
            return False
        return check_password_hash(row[0], password)

    def has_password(self, username: str) -> bool:
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM credentials WHERE username = ?", (username.lower(),)
            ).fetchone()
        return row is not None

    def session_generation(self, username: str) -> int:
        """The generation a session signed in now carries (0 until the first sign-out)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT generation FROM session_generations WHERE username = ?", (username.lower(),)
            ).fetchone()
        return int(row[0]) if row else 0

    def end_sessions(self, username: str) -> None:
        """Sign `username` out everywhere: every session signed in before now is refused."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO session_generations (username, generation) VALUES (?, 1) "
                "ON CONFLICT(username) DO UPDATE SET generation = generation + 1",
                (username.lower(),),
            )
