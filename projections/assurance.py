"""`govledger verify`'s and the web verify page's checks beyond the hash chain:
the stored Merkle tree against the events (ledger.store.tree_check), each published
report's stored bytes against its publication event, and the credential store against
the account events (ledger.coverage). It sits in projections, beside the report files,
so both the CLI and web can use it; the credential store is web's, so its file is read
here with sqlite3, read-only (a lower layer cannot import web, and `verify` stays free
of Flask).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from ledger import coverage
from ledger.store.reading import logged_events
from ledger.store.tree_check import TreeCheck, check_tree
from ledger.store.verification import EventStore
from projections.reports.publish import publications_dir

# web.config's names for the credential store and its tables (web.credentials).
CREDENTIALS_DB = "credentials.db"


def is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True)
class Coverage:
    tree: TreeCheck
    reports: int  # published editions checked
    credentials: int  # stored passwords checked
    report_problems: list[str] = field(default_factory=list)
    credential_problems: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return self.report_problems + self.credential_problems

    @property
    def ok(self) -> bool:
        return self.tree.ok and not self.problems


def check_beside_the_log(data_dir: Path, store: EventStore) -> Coverage:
    """The tree, the published reports and the credentials, each against the log."""
    events = list(logged_events(store, coverage.TOPICS))
    published = coverage.editions(events)

    def read_copy(content_sha256: str, form: str) -> bytes | None:
        # Content-addressed: <sha256>.<format>, named from the event (so checked first).
        if not (is_sha256(content_sha256) and form.isalnum()):
            return None
        path = publications_dir(data_dir) / f"{content_sha256}.{form}"
        return path.read_bytes() if path.is_file() else None

    rows, signed_out = read_credentials(data_dir / CREDENTIALS_DB)
    credentials = [
        coverage.Credential(username, datetime.fromisoformat(changed_at), changed_by)
        for username, changed_at, changed_by in rows
    ]
    report_problems = coverage.check_reports(published, read_copy)
    histories = coverage.account_histories(events)
    credential_problems = coverage.check_credentials(histories, credentials, signed_out)
    return Coverage(check_tree(store), len(published), len(credentials), report_problems, credential_problems)


def read_credentials(path: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(username, changed_at, changed_by) of every stored password (never the hash), and
    the usernames with sign-outs recorded, read without writing. Nothing if no file."""
    if not path.is_file():
        return [], []
    with closing(sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)) as db:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

        def read(table: str, columns: str) -> list[tuple[str, ...]]:
            if table not in names:
                return []
            return db.execute(f"SELECT {columns} FROM {table} ORDER BY username").fetchall()

        passwords = read("credentials", "username, changed_at, changed_by")
        signed_out = [row[0] for row in read("session_generations", "username")]
    return passwords, signed_out  # type: ignore[return-value]
