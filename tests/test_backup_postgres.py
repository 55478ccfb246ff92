"""`govledger backup` and `govledger restore` with the event store on PostgreSQL, against a
real server (tests/postgres_server.py): pg_dump while another process keeps writing,
restored into a new empty database, verified to the manifest's head; the password only
ever in the environment. Skipped only when PostgreSQL is not installed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql
from test_backup import Writer, govledger, live_data_dir
from test_reports_support import PLAN, Q1
from test_store_postgres import PG_BIN, pg_server  # noqa: F401  (the session's one server)

from govledger.backup import postgres as backup_postgres
from ledger.application import open_ledger
from ledger.store.postgres import LEDGER_EVENTS_TABLE
from projections.reports import publish as pub
from projections.system import open_system

if __package__:
    from .postgres_server import Database, PostgresServer
else:
    from postgres_server import Database, PostgresServer

pytestmark = pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries not installed")


def use(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in database.env().items():
        monkeypatch.setenv(key, value)


def stored_events(database: Database) -> list[tuple[Any, ...]]:
    with database.connect() as conn:
        query = sql.SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
            "ORDER BY notification_id"
        ).format(sql.Identifier(LEDGER_EVENTS_TABLE))
        return conn.execute(query).fetchall()


def test_pg_dump_backup_while_writing_restores_into_an_empty_database_with_the_same_head(
    pg_server: PostgresServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commands: list[list[str]] = []
    real_run = subprocess.run

    def run(argv: list[str], **kwargs: Any) -> Any:
        commands.append(list(argv))
        return real_run(argv, **kwargs)

    monkeypatch.setattr(backup_postgres.subprocess, "run", run)
    with pg_server.database() as source, pg_server.database() as target:
        use(source, monkeypatch)
        live = live_data_dir(tmp_path)
        out, restored = tmp_path / "backup", tmp_path / "restored"
        with Writer(live):
            result = govledger(live, "backup", str(out))
            assert result.exit_code == 0, result.output
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["store"] == "postgresql"
        assert "events.pgdump" in manifest["files"] and "events.db" not in manifest["files"]
        live_events = stored_events(source)
        assert 40 <= manifest["events"] < len(live_events)  # writes went on after the snapshot

        use(target, monkeypatch)
        result = govledger(restored, "restore", str(out))
        assert result.exit_code == 0, result.output
        result = govledger(restored, "verify")
        assert result.exit_code == 0
        assert (
            result.output.splitlines()[0] == f"Intact: {manifest['events']} events, head {manifest['head']}"
        )
        copied = stored_events(target)
        assert copied == live_events[: len(copied)] and len(copied) == manifest["events"]

        with open_system(restored) as system:
            copy = pub.fetch_published(system, PLAN, "committee", Q1)
            assert copy.source == "stored" and pub.rebuild(system, copy.edition) == copy.content
            # The sequence came back too: the restored ledger records after the last event.
            system.ledger.record_status(PLAN, "A2.1.2", period=Q1, status="Green", actor="officer")
        assert govledger(restored, "verify").output.startswith(f"Intact: {manifest['events'] + 1} events")

        # A database that holds events is never restored over, even with --force.
        result = govledger(tmp_path / "again", "restore", "--force", str(out))
        assert result.exit_code == 1 and "already holds" in result.output
        ledger = open_ledger(tmp_path / "again")
        try:
            assert ledger.get_log_position() == stored_events(target)[-1][0]  # nothing added
        finally:
            ledger.close()

    tools = [argv for argv in commands if Path(argv[0]).name in ("pg_dump", "pg_restore")]
    assert [Path(argv[0]).name for argv in tools] == ["pg_dump", "pg_restore"]
    assert all(
        source.password not in " ".join(argv) and target.password not in " ".join(argv) for argv in tools
    )
