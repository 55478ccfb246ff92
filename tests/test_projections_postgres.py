"""The projections on the PostgreSQL event store: the same read model, with the audit log
carrying the PostgreSQL hash chain's heads. Skipped without PostgreSQL's server binaries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from psycopg import sql
from test_projections_support import PLAN, Q1, dump, record_plan

from ledger.store.postgres import LEDGER_EVENTS_TABLE, chain_table_name
from projections import queries
from projections.projector import AUDIT_COLUMNS
from projections.system import build, open_system, snapshot_with

if __package__:  # tests/ may or may not become a package; the helper works either way
    from .postgres_server import Database, PostgresServer, find_pg_bin
else:
    from postgres_server import Database, PostgresServer, find_pg_bin

PG_BIN = find_pg_bin()
pytestmark = pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries not installed")


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PostgresServer]:
    assert PG_BIN is not None
    server = PostgresServer(PG_BIN)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_database(pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    with pg_server.database() as database:
        for key, value in database.env().items():
            monkeypatch.setenv(key, value)
        yield database


def test_the_read_model_of_a_postgres_ledger(pg_database: Database, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"  # holds only projections.db: the events are on the server
    with open_system(data_dir) as system:
        record_plan(system.ledger)
        assert [e["ref"] for e in queries.get_exceptions(system.projections_db, PLAN, Q1)] == [
            "A1.1.1",
            "A1.1.10",
        ]
        build(system.ledger, tmp_path / "rebuilt.db")
        shot = snapshot_with(system.ledger, tmp_path / "ten.db", 10)
        live = dump(system.projections_db)
    assert not (data_dir / "events.db").exists()
    assert dump(tmp_path / "rebuilt.db") == live
    assert queries.get_projection_position(shot.path) == 10
    with pg_database.connect() as conn:
        query = sql.SQL("SELECT position, head FROM {} ORDER BY position").format(
            sql.Identifier(chain_table_name(LEDGER_EVENTS_TABLE))
        )
        heads = {position: bytes(head).hex() for position, head in conn.execute(query)}
    head_at = AUDIT_COLUMNS.index("chain_head")
    log = {row[0]: row[head_at] for row in live["audit_log"]}  # position ... chain_head
    assert log == heads


def test_the_projectors_reader_and_decoder_on_postgres(pg_database: Database, tmp_path: Path) -> None:
    """The page reader (one query per page) reads what eventsourcing's select_notifications
    reads, and the fast decoder makes the events its mapper makes."""
    from eventsourcing.persistence import StoredEvent

    from ledger.store.events import event_page_reader
    from projections.decoding import EventDecoder

    with open_system(tmp_path / "data") as system:
        record_plan(system.ledger)
        recorder, mapper = system.ledger.recorder, system.ledger.mapper
        read = event_page_reader(recorder)
        rows = [*read(0, 7), *read(7, 10_000)]
        notifications = recorder.select_notifications(start=1, limit=10_000)
        assert len(rows) == len(notifications) > 7
        expected = [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]
        assert rows == expected
        assert [r[0] for r in read(3, 10, 5)] == [4, 5]
        decode = EventDecoder(mapper)
        for row in rows:
            event, recorded_at = decode(row)
            library = mapper.to_domain_event(StoredEvent(*row[1:]))
            assert (type(event), vars(event)) == (type(library), vars(library))
            assert recorded_at == library.timestamp.isoformat()


def test_one_programme_as_at_on_postgres_equals_the_whole_replay(
    pg_database: Database, tmp_path: Path
) -> None:
    """projections.asat's reads by record and by position, and the chain heads at chosen
    positions, on PostgreSQL: the programme's rows equal a whole replay's, heads included."""
    from test_asat import programme_rows

    from projections.asat import position_at, programme_snapshot_with
    from projections.asat_live import copy_from_live

    with open_system(tmp_path / "data") as system:
        record_plan(system.ledger)
        system.ledger.register_programme("other", "Other", cadence="monthly", actor="setup")
        last = system.ledger.get_log_position()
        build(system.ledger, tmp_path / "end.db", stop=last)
        # As at now: copied from the read model, its positions read from PostgreSQL.
        copied = copy_from_live(system.ledger, system.projections_db, tmp_path / "now.db", PLAN, last, "now")
        stop = last - 3
        build(system.ledger, tmp_path / "whole.db", stop=stop)
        shot = programme_snapshot_with(
            system.ledger, system.projections_db, tmp_path / "one.db", PLAN, stop, page_size=4
        )
        times = [r["recorded_at"] for r in queries.get_audit_log(system.projections_db, limit=100)]
        assert position_at(system.ledger, datetime.fromisoformat(min(times))) == 1
    assert shot.position == stop and shot.events > 0
    assert copied is not None and copied > shot.events
    assert programme_rows(tmp_path / "now.db", PLAN) == programme_rows(tmp_path / "end.db", PLAN)
    one = programme_rows(tmp_path / "one.db", PLAN)
    assert one == programme_rows(tmp_path / "whole.db", PLAN)
    head_at = AUDIT_COLUMNS.index("chain_head")
    assert all(row[head_at] for row in one["audit_log"])  # every row carries its chain head
