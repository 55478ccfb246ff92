"""The Merkle tree kept by the PostgreSQL event store, against a real server: grown in
each append's transaction through the real Ledger, with dense leaf indices where the
positions have gaps; append-only; and backfilled for a log that has none, to the root
it had when built while appending.

One throwaway server for the module (tests/postgres_server.py), a fresh database per
test. Skipped only when no PostgreSQL server binaries are installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import psycopg
import pytest
from click.testing import CliRunner
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg import sql
from test_merkle import Naive, verify_consistency, verify_inclusion

from govledger.cli import main
from ledger.application import Ledger
from ledger.config import event_store_env
from ledger.store.chain import hashed_originator_id, leaf_input
from ledger.store.merkle import MerkleLog, TreeNotBuilt, leaf_hash
from ledger.store.postgres import LEDGER_EVENTS_TABLE, PostgresEventStore
from ledger.store.postgres_merkle import merkle_table_names
from ledger.store.tree_check import check_tree

if __package__:
    from .postgres_server import Database, PostgresServer, find_pg_bin
else:
    from postgres_server import Database, PostgresServer, find_pg_bin

PG_BIN = find_pg_bin()
pytestmark = pytest.mark.skipif(
    PG_BIN is None, reason="PostgreSQL server binaries not installed: run scripts/setup.sh"
)
LEAVES, NODES = merkle_table_names(LEDGER_EVENTS_TABLE)
PLAN, Q1 = "plan", "2024/25 Q1"


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


@pytest.fixture
def ledger(pg_database: Database) -> Iterator[Ledger]:
    app = Ledger(env=event_store_env())
    try:
        yield app
    finally:
        app.close()


def record_with_a_gap(ledger: Ledger) -> None:
    """Eleven events, with a gap in the positions where a save was rolled back."""
    ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="pm")
    for ref in ("A1", "A2", "A3", "A4", "A5"):
        ledger.register_item(PLAN, ref, kind="action", title=f"Action {ref}", actor="pm")
    first = ledger.recorder.select_notifications(start=1, limit=1)[0]
    clash = StoredEvent(first.originator_id, 1, first.topic, first.state)
    with pytest.raises(IntegrityError):  # draws positions from the sequence, then rolls back
        ledger.recorder.insert_events([StoredEvent(uuid4(), 1, first.topic, first.state), clash])
    with ledger.batch() as batch:
        for ref in ("A1", "A2", "A3", "A4", "A5"):
            ledger.record_status(PLAN, ref, period=Q1, status="Green", actor="pm", batch=batch)


def stored_events(database: Database) -> list[tuple[int, bytes]]:
    """(position, leaf input) of every event, read with psycopg and encoded here."""
    with database.connect() as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {} ORDER BY notification_id"
            ).format(sql.Identifier(LEDGER_EVENTS_TABLE))
        ).fetchall()
    return [(p, leaf_input(p, hashed_originator_id(o), v, t, bytes(s))) for p, o, v, t, s in rows]


def test_appends_grow_the_tree_with_dense_indices_over_gapped_positions(
    ledger: Ledger, pg_database: Database
) -> None:
    record_with_a_gap(ledger)
    events = stored_events(pg_database)
    positions = [p for p, _ in events]
    assert len(events) == 11 and positions != list(range(1, 12))  # there is a gap
    log = MerkleLog(ledger.recorder)
    naive = Naive([data for _, data in events])
    assert log.size() == 11
    assert [log.position(i) for i in range(11)] == positions
    assert [log.index_of(p) for p in positions] == list(range(11))
    assert [log.leaf_input(i) for i in range(11)] == [data for _, data in events]
    for size in range(1, 12):
        assert log.root(size) == naive.mth(0, size)
        assert log.inclusion_proof(size - 1, 11) == naive.path(size - 1, 0, 11)
    for old in range(1, 11):
        assert verify_consistency(old, 11, log.root(old), log.root(), log.consistency_proof(old, 11))
    with pg_database.connect() as conn:
        levels = conn.execute(
            sql.SQL("SELECT level, count(*) FROM {} GROUP BY 1 ORDER BY 1").format(sql.Identifier(NODES))
        ).fetchall()
    assert levels == [(1, 5), (2, 2), (3, 1)]  # level 0: the leaves' own hashes


@pytest.mark.parametrize("change", ["UPDATE {} SET position = position", "DELETE FROM {}", "TRUNCATE {}"])
def test_the_tree_tables_are_append_only(ledger: Ledger, pg_database: Database, change: str) -> None:
    ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="pm")
    ledger.register_item(PLAN, "A1", kind="action", title="Action", actor="pm")  # a node above the leaves
    with pg_database.connect() as conn, pytest.raises(psycopg.errors.IntegrityConstraintViolation):
        conn.execute(sql.SQL(change).format(sql.Identifier(LEAVES)))
    with pg_database.connect() as conn, pytest.raises(psycopg.errors.IntegrityConstraintViolation):
        conn.execute(sql.SQL(change.replace("position", "hash")).format(sql.Identifier(NODES)))


def test_backfill_rebuilds_the_tree_a_log_lacks(
    ledger: Ledger, pg_server: PostgresServer, pg_database: Database
) -> None:
    record_with_a_gap(ledger)
    built_while_appending = MerkleLog(ledger.recorder).root()
    # A log from before the tree: its tables empty (as a superuser, guards off).
    with pg_server.superuser(pg_database.dbname).connect() as conn:
        for table in (LEAVES, NODES):
            conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.Identifier(table)))
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            conn.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(sql.Identifier(table)))
    log = MerkleLog(ledger.recorder)
    with pytest.raises(TreeNotBuilt, match="merkle-backfill"):
        log.root()
    ledger.register_item(PLAN, "A6", kind="action", title="Later", actor="pm")  # tree left alone
    with pytest.raises(TreeNotBuilt):
        log.size()
    assert ledger.recorder.merkle_extend(4).leaves == 4  # interrupted after one batch

    result = CliRunner().invoke(main, ["merkle-backfill"])
    assert result.exit_code == 0, result.output
    assert log.size() == 12
    assert log.root(11) == built_while_appending
    assert f"Merkle tree complete: 12 events, root {log.root().hex()}" in result.output
    assert log.root() == Naive([data for _, data in stored_events(pg_database)]).mth(0, 12)
    index = 11
    proof = log.inclusion_proof(index, 12)
    assert verify_inclusion(index, 12, leaf_hash(log.leaf_input(index)), proof, log.root())


def test_verify_checks_the_stored_tree_over_gapped_positions(
    ledger: Ledger, pg_server: PostgresServer, pg_database: Database
) -> None:
    """`govledger verify`'s tree check on PostgreSQL: leaves and nodes (two tables there)
    agree with the events, positions gaps and all; an altered node is named."""
    record_with_a_gap(ledger)
    found = check_tree(PostgresEventStore.from_env(pg_database.env()))
    assert (found.ok, found.leaves, found.nodes, found.events) == (True, 11, 8, 11), found
    assert found.root == MerkleLog(ledger.recorder).root()
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 0, result.output
    assert "Merkle tree: 11 leaves and 8 nodes agree with the events" in result.output
    with pg_server.superuser(pg_database.dbname).connect() as conn:
        conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.Identifier(NODES)))
        altered = sql.SQL("UPDATE {} SET hash = %s WHERE level = 2 AND node_index = 1")
        conn.execute(altered.format(sql.Identifier(NODES)), (b"x" * 32,))
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 1
    assert "the node over leaves 4 to 7 (level 2) is not the hash of those leaves" in result.output
