"""The PostgreSQL event store in a backup: `pg_dump` out, `pg_restore` back.

Dump. One read-only repeatable-read transaction exports its snapshot
(`pg_export_snapshot()`); the chain is verified in that transaction and `pg_dump
--snapshot` dumps from the very same snapshot, so the manifest's count and head are what
the dump holds, however much the service appends meanwhile. It dumps the events table
and every table named after it (`<events table>*`: the chain, any Merkle tables, the
notification id sequence), in pg_dump's custom format.

Restore. The ledger itself creates its tables, append-only triggers and function in the
configured database (as at a first start), which must hold no events; then
`pg_restore --data-only --single-transaction` loads the rows, all or nothing.

The password goes to pg_dump and pg_restore in PGPASSWORD, never on a command line
(where `ps` would show it to every user of the machine).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from eventsourcing.utils import resolve_topic
from psycopg.sql import SQL, Identifier

from ledger.store import postgres
from ledger.store.chain import PAGE_SIZE
from ledger.store.postgres import PostgresEventStore
from ledger.store.verification import Progress, VerifyResult, check_chain


class PostgresBackupFailed(Exception):
    """pg_dump or pg_restore is missing or failed, or the store cannot be used."""


def tool(name: str) -> str:
    """pg_dump / pg_restore: on PATH, else the newest in Debian's versioned directory."""
    found = shutil.which(name) or max(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
        default=None,
    )
    if found is None:
        raise PostgresBackupFailed(f"{name} is not installed: install PostgreSQL's client tools.")
    return found


def _run(store: PostgresEventStore, argv: list[str]) -> None:
    password = resolve_topic(store.get_password_topic)() if store.get_password_topic else store.password
    env = {**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": str(store.connect_timeout)}
    connection = ["--host", store.host, "--port", str(store.port), "--username", store.user, "--no-password"]
    done = subprocess.run(
        [argv[0], *connection, *argv[1:]], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        message = done.stderr.strip().replace(password, "***") if password else done.stderr.strip()
        raise PostgresBackupFailed(f"{Path(argv[0]).name} failed: {message}")


def dump(store: PostgresEventStore, out: Path, *, progress: Progress | None = None) -> VerifyResult:
    """Dump the event store into `out` (created owner-only); returns what the dump holds."""
    pg_dump = tool("pg_dump")
    with postgres.postgres_snapshot(store) as conn:
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        tables = postgres.table_names(conn, store.schema)
        missing = [t for t in (store.events_table, store.chain_table) if t not in tables]
        if missing:
            raise PostgresBackupFailed(f"{store.describe()} has no {' or '.join(missing)} table to back up.")
        result = check_chain(
            postgres.log_pages(conn, store, PAGE_SIZE),
            total=postgres.last_position(conn, store),
            progress=progress,
        )
        if not result.ok:
            return result
        os.close(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        # While this transaction is open its snapshot stays importable.
        _run(
            store,
            [
                pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-owner", "--no-privileges",
                "--table", f"{store.schema}.{store.events_table}*",
                "--dbname", store.dbname, "--file", str(out),
            ],
        )  # fmt: skip
    os.chmod(out, 0o600)
    return result


def event_count(store: PostgresEventStore) -> int:
    """Events already in the store (0 if its tables do not exist yet)."""
    with postgres.postgres_snapshot(store) as conn:
        if store.events_table not in postgres.table_names(conn, store.schema):
            return 0
        events = Identifier(store.schema, store.events_table)
        row = conn.execute(SQL("SELECT count(*) FROM {}").format(events)).fetchone()
        return int(row[0]) if row else 0


def load(store: PostgresEventStore, dump_file: Path) -> None:
    """Load a dump's rows into the (empty, already created) event tables, all or nothing."""
    _run(
        store,
        [
            tool("pg_restore"), "--data-only", "--single-transaction", "--exit-on-error",
            "--no-owner", "--no-privileges", "--dbname", store.dbname, str(dump_file),
        ],
    )  # fmt: skip
