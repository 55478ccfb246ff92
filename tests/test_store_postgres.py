"""The hash-chained PostgreSQL event store, against a real PostgreSQL server.

One throwaway server for the session (tests/postgres_server.py), a fresh database per
test. The same promises as the SQLite store: the library's own recorder contract, a
chain row for every event written in the event's transaction, append-only guards, the
same hashes for the same events whichever backend holds them, tampering found and
named by position, concurrent writers in several processes, checkpoints and the CLI.

Tampering is done as the superuser with the guard triggers disabled, as a database
administrator could. Skipped only when no PostgreSQL server binaries are installed
(scripts/setup.sh installs them).
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal
from uuid import UUID, uuid4

import psycopg
import pytest
from click.testing import CliRunner
from eventsourcing.persistence import IntegrityError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.tests import persistence  # the module, so pytest skips the ABC
from psycopg import sql

from govledger.cli import main
from ledger.application import Ledger
from ledger.config import event_store_env
from ledger.store import (
    GENESIS_HEAD,
    Checkpoint,
    StoreUnavailable,
    chain_link,
    chain_reader,
    postgres,
    verification,
    verify,
    write_checkpoint,
)
from ledger.store.postgres import (
    LEDGER_EVENTS_TABLE,
    HashChainedPostgresApplicationRecorder,
    PostgresEventStore,
    chain_table_name,
)

if __package__:  # tests/ may or may not become a package; the helper works either way
    from .postgres_server import Database, PostgresServer, find_pg_bin
else:
    from postgres_server import Database, PostgresServer, find_pg_bin

PG_BIN = find_pg_bin()
pytestmark = pytest.mark.skipif(
    PG_BIN is None,
    reason="PostgreSQL server binaries not installed (no initdb on PATH or in "
    "/usr/lib/postgresql/*/bin): run scripts/setup.sh",
)

EVENTS = LEDGER_EVENTS_TABLE
CHAIN = chain_table_name(LEDGER_EVENTS_TABLE)
PLAN, Q1 = "plan", "2024/25 Q1"


# --- The server and a database per test ------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    assert PG_BIN is not None
    server = PostgresServer(PG_BIN)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_database(pg_server: PostgresServer) -> Iterator[Database]:
    with pg_server.database() as database:
        yield database


@pytest.fixture
def pg_env(pg_database: Database, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The process configured for PostgreSQL, as a deployment would be: by environment."""
    for key, value in pg_database.env().items():
        monkeypatch.setenv(key, value)
    return event_store_env()


def record_scenario(ledger: Ledger) -> None:
    """A programme, three actions and a quarter's ratings: 7 events."""
    ledger.register_programme(PLAN, "Cheshire East Plan 2024/25", cadence="quarterly", actor="pm")
    for ref in ("A1", "A2", "A3"):
        ledger.register_item(PLAN, ref, kind="action", title=f"Action {ref}", actor="pm")
    ledger.record_status(PLAN, "A1", period=Q1, status="Green", update="On track", actor="officer")
    ledger.record_status(
        PLAN, "A2", period=Q1, status="Amber", update="Slipped", mitigation="In hand", actor="officer"
    )
    ledger.record_status(
        PLAN, "A3", period=Q1, status="Red", update="Off track", mitigation="Recovery plan", actor="officer"
    )


SCENARIO_EVENTS = 7


@pytest.fixture
def ledger_log(pg_env: dict[str, str]) -> PostgresEventStore:
    """The scenario recorded by the ledger application on PostgreSQL."""
    app = Ledger(env=pg_env)
    try:
        record_scenario(app)
    finally:
        app.close()
    return PostgresEventStore.from_env(pg_env)


def chain_rows(database: Database, table: str = CHAIN) -> list[tuple[int, bytes, bytes]]:
    with database.connect() as conn:
        query = sql.SQL("SELECT position, leaf, head FROM {} ORDER BY position").format(sql.Identifier(table))
        return [(p, bytes(leaf), bytes(head)) for p, leaf, head in conn.execute(query)]


# --- eventsourcing's own recorder contract ---------------------------------------------


class TestHashChainedPostgresRecorderContract(
    persistence.ApplicationRecorderTestCase[HashChainedPostgresApplicationRecorder]
):
    """eventsourcing's ApplicationRecorder tests, set up as the library's own
    tests/persistence_tests/test_postgres.py sets up PostgresApplicationRecorder (a
    one-connection pool, resized for the concurrency tests), on a fresh database per
    test. The concurrency tests additionally verify the chain afterwards."""

    originator_id_type: Literal["uuid", "text"] = "uuid"

    @pytest.fixture(autouse=True)
    def _datastore(self, pg_database: Database) -> Iterator[None]:
        self.database = pg_database
        self.datastore = PostgresDatastore(
            pg_database.dbname,
            pg_database.host,
            pg_database.port,
            pg_database.user,
            pg_database.password,
            pool_size=1,
            max_overflow=0,
            originator_id_type=self.originator_id_type,
        )
        yield
        self.datastore.close()

    def create_recorder(self) -> HashChainedPostgresApplicationRecorder:
        recorder = HashChainedPostgresApplicationRecorder(self.datastore)
        recorder.create_table()
        return recorder

    def _assert_chain_intact(self) -> None:
        store = PostgresEventStore.from_env(self.database.env(), events_table="stored_events")
        result = verify(store)
        self.assertTrue(result.ok, result.problem)
        self.assertGreater(result.events, 0)

    def test_insert_select(self) -> None:
        super().test_insert_select()
        self._assert_chain_intact()

    def test_insert_subscribe(self) -> None:
        # LISTEN/NOTIFY still fires: the chain does not change how events are announced.
        self.datastore.pool.open()
        self.datastore.pool.resize(2, 2)
        super().optional_test_insert_subscribe()

    def test_concurrent_no_conflicts(self, initial_position: int = 0) -> None:
        self.datastore.pool.open()
        self.datastore.pool.resize(12, 12)
        super().test_concurrent_no_conflicts()
        self._assert_chain_intact()

    def test_concurrent_throughput(self) -> None:
        self.datastore.pool.open()
        self.datastore.pool.resize(10, 10)
        super().test_concurrent_throughput()
        self._assert_chain_intact()


class TestHashChainedPostgresRecorderContractWithTextOriginatorID(TestHashChainedPostgresRecorderContract):
    originator_id_type: Literal["uuid", "text"] = "text"

    def new_originator_id(self) -> UUID | str:
        return "test-" + str(uuid4())


# --- The chain rows --------------------------------------------------------------------


def _datastore(database: Database) -> PostgresDatastore:
    return PostgresDatastore(database.dbname, database.host, database.port, database.user, database.password)


def _event(originator_id: UUID, version: int, state: bytes = b"{}") -> StoredEvent:
    return StoredEvent(originator_id=originator_id, originator_version=version, topic="t:Ev", state=state)


def test_each_event_gets_a_chain_row_linked_to_the_previous_head(pg_database: Database) -> None:
    datastore = _datastore(pg_database)
    try:
        recorder = HashChainedPostgresApplicationRecorder(datastore)
        recorder.create_table()
        first, second = uuid4(), uuid4()
        assert recorder.insert_events([_event(first, 1), _event(first, 2)]) == [1, 2]
        assert recorder.insert_events([_event(second, 1, b'{"x":1}')]) == [3]
    finally:
        datastore.close()

    head = GENESIS_HEAD
    expected = [(first, 1, b"{}"), (first, 2, b"{}"), (second, 1, b'{"x":1}')]
    rows = chain_rows(pg_database, "stored_events_chain")
    assert [position for position, _, _ in rows] == [1, 2, 3]
    for (position, leaf, stored_head), (oid, version, state) in zip(rows, expected, strict=True):
        leaf_now, head = chain_link(head, position, oid.hex, version, "t:Ev", state)
        assert (leaf, stored_head) == (leaf_now, head)


def test_existing_ids_names_exactly_the_recorded_ones(pg_database: Database) -> None:
    """What an import asks once instead of loading each item and review."""
    datastore = _datastore(pg_database)
    try:
        recorder = HashChainedPostgresApplicationRecorder(datastore)
        recorder.create_table()
        first, second = uuid4(), uuid4()
        recorder.insert_events([_event(first, 1), _event(first, 2), _event(second, 1)])
        strangers = {uuid4() for _ in range(50)}
        assert recorder.existing_ids(strangers | {first, second}) == {first, second}
        assert recorder.existing_ids(strangers) == set()
    finally:
        datastore.close()


def test_the_chain_reader_gives_the_stored_links_in_a_range(pg_database: Database) -> None:
    datastore = _datastore(pg_database)
    try:
        recorder = HashChainedPostgresApplicationRecorder(datastore)
        recorder.create_table()
        oid = uuid4()
        recorder.insert_events([_event(oid, version) for version in range(1, 6)])
        read = chain_reader(recorder)
        assert read is not None
        links = read(1, 4)
        assert read(5, 10) == []
    finally:
        datastore.close()
    stored = [row for row in chain_rows(pg_database, "stored_events_chain") if 1 < row[0] <= 4]
    assert [tuple(link) for link in links] == stored
    assert [link.position for link in links] == [2, 3, 4]


def test_a_conflicting_save_leaves_no_chain_row_and_its_gap_still_verifies(pg_database: Database) -> None:
    datastore = _datastore(pg_database)
    try:
        recorder = HashChainedPostgresApplicationRecorder(datastore)
        recorder.create_table()
        oid = uuid4()
        assert recorder.insert_events([_event(oid, 1)]) == [1]
        with pytest.raises(IntegrityError):
            recorder.insert_events([_event(uuid4(), 1), _event(oid, 1)])
        # The rolled-back transaction drew ids 2 and 3 from the sequence: a gap, as
        # PostgreSQL always leaves, which the chain must take in its stride.
        assert recorder.insert_events([_event(oid, 2)]) == [4]
    finally:
        datastore.close()

    assert [position for position, _, _ in chain_rows(pg_database, "stored_events_chain")] == [1, 4]
    store = PostgresEventStore.from_env(pg_database.env(), events_table="stored_events")
    assert (verify(store).ok, verify(store).events) == (True, 2)


def test_a_failure_while_chaining_rolls_back_the_events_too(
    pg_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The events are already inserted when the chain is computed: a failure there must
    # not commit them unchained (the library's own insert_events would have).
    datastore = _datastore(pg_database)
    try:
        recorder = HashChainedPostgresApplicationRecorder(datastore)
        recorder.create_table()
        assert recorder.insert_events([_event(uuid4(), 1)]) == [1]

        def broken(*args: object) -> tuple[bytes, bytes]:
            raise RuntimeError("chain computation failed")

        monkeypatch.setattr("ledger.store.postgres.chain_link", broken)
        with pytest.raises(RuntimeError, match="chain computation failed"):
            recorder.insert_events([_event(uuid4(), 1), _event(uuid4(), 1)])
        monkeypatch.undo()
        assert recorder.insert_events([_event(uuid4(), 1)]) == [4]
        assert recorder.max_notification_id() == 4
        assert len(recorder.select_notifications(None, 10)) == 2
    finally:
        datastore.close()
    store = PostgresEventStore.from_env(pg_database.env(), events_table="stored_events")
    assert (verify(store).ok, verify(store).events) == (True, 2)


def test_creating_the_tables_again_is_harmless(pg_database: Database) -> None:
    for expected in ([1], [2]):
        datastore = _datastore(pg_database)
        try:
            recorder = HashChainedPostgresApplicationRecorder(datastore)
            recorder.create_table()
            assert recorder.insert_events([_event(uuid4(), 1)]) == expected
        finally:
            datastore.close()
    with pg_database.connect() as conn:
        triggers = conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'govledger_%'").fetchone()
    assert triggers == (8,)  # row and truncate guards on events, chain, Merkle leaves and nodes: once each


def _create_tables(database: Database, start: Any) -> None:
    start.wait()
    datastore = _datastore(database)
    try:
        HashChainedPostgresApplicationRecorder(datastore).create_table()
    finally:
        datastore.close()


def test_nodes_starting_together_each_create_the_tables_without_a_race(pg_database: Database) -> None:
    # Without the schema lock, one in about six such starts failed with "tuple
    # concurrently updated" (two servers and a follower starting on one database).
    for _ in range(3):
        start = multiprocessing.get_context("fork").Barrier(6)
        workers = [
            multiprocessing.get_context("fork").Process(target=_create_tables, args=(pg_database, start))
            for _ in range(6)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert [worker.exitcode for worker in workers] == [0] * 6
        with pg_database.connect() as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
            conn.commit()


def test_the_database_functions_path_is_refused_because_it_would_bypass_the_chain(
    pg_database: Database,
) -> None:
    datastore = PostgresDatastore(
        pg_database.dbname,
        pg_database.host,
        pg_database.port,
        pg_database.user,
        pg_database.password,
        enable_db_functions=True,
    )
    try:
        with pytest.raises(ProgrammingError, match="POSTGRES_ENABLE_DB_FUNCTIONS"):
            HashChainedPostgresApplicationRecorder(datastore)
    finally:
        datastore.close()


# --- Append-only guards ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        (f"UPDATE {EVENTS} SET state = '\\x00' WHERE notification_id = 1", EVENTS),
        (f"DELETE FROM {EVENTS} WHERE notification_id = 1", EVENTS),
        (f"TRUNCATE {EVENTS} CASCADE", EVENTS),
        (f"UPDATE {CHAIN} SET leaf = '\\x00' WHERE position = 1", CHAIN),
        (f"DELETE FROM {CHAIN} WHERE position = 1", CHAIN),
        (f"TRUNCATE {CHAIN}", CHAIN),
    ],
)
def test_the_triggers_refuse_updates_deletes_and_truncation(
    ledger_log: PostgresEventStore, pg_database: Database, statement: str, table: str
) -> None:
    # As the application's own role, which owns the tables.
    with pg_database.connect() as conn:
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match=f"{table} is append-only"):
            conn.execute(statement)
        conn.rollback()
        assert conn.execute(f"SELECT count(*) FROM {EVENTS}").fetchone() == (SCENARIO_EVENTS,)
        assert conn.execute(f"SELECT count(*) FROM {CHAIN}").fetchone() == (SCENARIO_EVENTS,)
    assert verify(ledger_log).ok


# --- The ledger application on PostgreSQL ----------------------------------------------


def test_the_ledger_on_postgres_uses_the_chained_recorder_and_its_log_verifies(
    pg_env: dict[str, str], pg_database: Database
) -> None:
    assert pg_env["APPLICATION_RECORDER_TOPIC"] == (
        "ledger.store.postgres:HashChainedPostgresApplicationRecorder"
    )
    app = Ledger(env=pg_env)
    try:
        assert isinstance(app.recorder, HashChainedPostgresApplicationRecorder)
        assert app.recorder.events_table_name == LEDGER_EVENTS_TABLE  # what verify reads by default
        record_scenario(app)
        assert app.get_item(PLAN, "A2")["title"] == "Action A2"
        assert app.get_log_position() == SCENARIO_EVENTS
    finally:
        app.close()

    result = verification.verify_store(pg_env)
    assert (result.ok, result.events, result.problem) == (True, SCENARIO_EVENTS, "")
    assert result.head_hex == chain_rows(pg_database)[-1][2].hex()


def test_the_password_reaches_neither_the_events_nor_descriptions(
    ledger_log: PostgresEventStore, pg_database: Database
) -> None:
    with pg_database.connect() as conn:
        states = [bytes(s) for (s,) in conn.execute(f"SELECT state FROM {EVENTS}")]
    assert len(states) == SCENARIO_EVENTS
    assert not any(pg_database.password.encode() in state for state in states)
    assert pg_database.password not in repr(ledger_log)
    assert pg_database.password not in ledger_log.describe()


def test_missing_postgres_settings_are_named_up_front(
    pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSTGRES_HOST")
    with pytest.raises(ValueError, match="POSTGRES_HOST"):
        event_store_env()
    with pytest.raises(StoreUnavailable, match="POSTGRES_HOST"):
        verification.event_store()


def test_the_same_events_have_the_same_hashes_on_sqlite_and_postgres(
    tmp_path: Path, pg_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    app = Ledger(env=event_store_env(tmp_path))
    try:
        record_scenario(app)
        notifications = app.recorder.select_notifications(None, 1_000)
    finally:
        app.close()
    on_sqlite = verify(tmp_path / "events.db")

    # The very same stored events (UUID ids, as the mapper gives them), one save each.
    datastore = _datastore(pg_database)
    try:
        recorder = HashChainedPostgresApplicationRecorder(datastore, events_table_name=LEDGER_EVENTS_TABLE)
        recorder.create_table()
        for n in notifications:
            recorder.insert_events([StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)])
    finally:
        datastore.close()
    on_postgres = verify(PostgresEventStore.from_env(pg_database.env()))

    assert on_sqlite.ok and on_sqlite.events == SCENARIO_EVENTS
    assert on_postgres == on_sqlite
    with closing(sqlite3.connect(tmp_path / "events.db")) as conn:
        sqlite_chain = conn.execute(
            "SELECT position, leaf, head FROM event_chain ORDER BY position"
        ).fetchall()
    assert chain_rows(pg_database) == sqlite_chain


# --- Verification: reading --------------------------------------------------------------


def test_verification_reads_in_pages_and_reports_progress(
    ledger_log: PostgresEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verification, "PAGE_SIZE", 3)
    reports: list[tuple[int, int]] = []
    result = verify(ledger_log, progress=lambda done, total: reports.append((done, total)))
    assert result.ok
    assert reports == [(3, 7), (6, 7), (7, 7)]


def test_verification_reads_one_snapshot_that_cannot_write(ledger_log: PostgresEventStore) -> None:
    with postgres.postgres_snapshot(ledger_log) as conn:
        assert conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SHOW transaction_isolation").fetchone() == ("repeatable read",)
    with (
        pytest.raises(StoreUnavailable, match="read-only transaction"),
        postgres.postgres_snapshot(ledger_log) as conn,
    ):
        conn.execute(f"INSERT INTO {CHAIN} VALUES (100, '\\x00', '\\x00')")
    assert verify(ledger_log).events == SCENARIO_EVENTS


def test_a_read_only_role_can_verify(
    ledger_log: PostgresEventStore, pg_server: PostgresServer, pg_database: Database
) -> None:
    # An auditor needs SELECT on the two tables and nothing else.
    with pg_server.superuser(pg_database.dbname).connect(autocommit=True) as conn:
        conn.execute("CREATE ROLE govledger_auditor LOGIN PASSWORD 'audit-pw'")
        conn.execute(f"GRANT SELECT ON {EVENTS}, {CHAIN} TO govledger_auditor")
    try:
        auditor = PostgresEventStore(
            dbname=ledger_log.dbname,
            host=ledger_log.host,
            port=ledger_log.port,
            user="govledger_auditor",
            password="audit-pw",
        )
        result = verify(auditor)
        assert (result.ok, result.events) == (True, SCENARIO_EVENTS)
    finally:
        with pg_server.superuser(pg_database.dbname).connect(autocommit=True) as conn:
            conn.execute(f"REVOKE ALL ON {EVENTS}, {CHAIN} FROM govledger_auditor")
            conn.execute("DROP ROLE govledger_auditor")


def test_an_empty_store_verifies_with_the_genesis_head(pg_env: dict[str, str]) -> None:
    Ledger(env=pg_env).close()
    result = verification.verify_store(pg_env)
    assert (result.ok, result.events, result.head_hex) == (True, 0, GENESIS_HEAD.hex())


def test_a_database_without_the_tables_is_reported_not_passed(pg_database: Database) -> None:
    result = verify(PostgresEventStore.from_env(pg_database.env()))
    assert not result.ok
    assert f"no {EVENTS} table" in result.problem


def test_an_unreachable_server_is_an_error_that_does_not_show_the_password(
    pg_database: Database,
) -> None:
    env = {**pg_database.env(), "POSTGRES_PASSWORD": "not-the-password-5f2c"}
    with pytest.raises(StoreUnavailable, match="Cannot connect") as raised:
        verify(PostgresEventStore.from_env(env))
    assert "not-the-password-5f2c" not in str(raised.value)


# --- Tampering ---------------------------------------------------------------------------


@contextmanager
def tamper(server: PostgresServer, database: Database) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection with the guard triggers disabled, committed on exit."""
    with server.superuser(database.dbname).connect() as conn:
        for table in (EVENTS, CHAIN):
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield conn
        for table in (EVENTS, CHAIN):
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def assert_bad_at(store: PostgresEventStore, position: int, words: str, *, events: int) -> None:
    result = verify(store)
    assert not result.ok
    assert (result.first_bad_position, result.events) == (position, events), result.problem
    assert words in result.problem


@pytest.fixture
def tampering(pg_server: PostgresServer, pg_database: Database) -> Any:
    return lambda: tamper(pg_server, pg_database)


def test_one_flipped_byte_is_found_at_its_position(ledger_log: PostgresEventStore, tampering: Any) -> None:
    with tampering() as conn:
        (state,) = conn.execute(f"SELECT state FROM {EVENTS} WHERE notification_id = 5").fetchone()
        flipped = bytearray(state)
        flipped[len(flipped) // 2] ^= 0x01
        conn.execute(f"UPDATE {EVENTS} SET state = %s WHERE notification_id = 5", (bytes(flipped),))
    assert_bad_at(ledger_log, 5, "is not the event that was recorded", events=4)


@pytest.mark.parametrize(
    ("assignment", "words"),
    [
        ("topic = 'ledger.domain:Forged'", "is not the event that was recorded"),
        ("originator_version = 99", "is not the event that was recorded"),
        ("originator_id = '00000000-0000-0000-0000-000000000000'", "is not the event that was recorded"),
        ("topic = NULL", "wrong type"),
        ("state = NULL", "wrong type"),
    ],
)
def test_a_changed_column_is_found(
    ledger_log: PostgresEventStore, tampering: Any, assignment: str, words: str
) -> None:
    with tampering() as conn:
        conn.execute(f"UPDATE {EVENTS} SET {assignment} WHERE notification_id = 3")
    assert_bad_at(ledger_log, 3, words, events=2)


def test_a_deleted_event_is_found_where_it_was(ledger_log: PostgresEventStore, tampering: Any) -> None:
    with tampering() as conn:
        conn.execute(f"DELETE FROM {EVENTS} WHERE notification_id = 4")
    assert_bad_at(ledger_log, 4, "a row at position 4 but there is no such event", events=3)


def test_an_event_deleted_with_its_chain_row_is_found_at_the_next_position(
    ledger_log: PostgresEventStore, tampering: Any
) -> None:
    # Gaps are normal on PostgreSQL, so the missing pair itself is silent: the next
    # chain row, which was linked to the deleted one, gives it away.
    with tampering() as conn:
        conn.execute(f"DELETE FROM {EVENTS} WHERE notification_id = 4")
        conn.execute(f"DELETE FROM {CHAIN} WHERE position = 4")
    assert_bad_at(ledger_log, 5, "deleted together with its chain row", events=3)


def test_a_forged_event_without_a_chain_row_is_found(ledger_log: PostgresEventStore, tampering: Any) -> None:
    with tampering() as conn:
        conn.execute(
            f"INSERT INTO {EVENTS} (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, 'ledger.domain:Forged', '\\x7b7d')",
            (uuid4(),),
        )
    assert_bad_at(ledger_log, SCENARIO_EVENTS + 1, "has no chain row", events=SCENARIO_EVENTS)


def test_an_event_moved_to_another_position_is_found(ledger_log: PostgresEventStore, tampering: Any) -> None:
    with tampering() as conn:
        conn.execute(f"UPDATE {EVENTS} SET notification_id = 1000 WHERE notification_id = 2")
    assert_bad_at(ledger_log, 2, "no such event", events=1)


def test_an_edited_chain_head_is_found(ledger_log: PostgresEventStore, tampering: Any) -> None:
    with tampering() as conn:
        conn.execute(f"UPDATE {CHAIN} SET head = %s WHERE position = 6", (bytes(32),))
    assert_bad_at(ledger_log, 6, "does not follow from the chain before it", events=5)


def rebuild_chain(conn: psycopg.Connection[Any]) -> None:
    """What an attacker who knows the algorithm does after editing history."""
    conn.execute(f"DELETE FROM {CHAIN}")
    head = GENESIS_HEAD
    rows = conn.execute(
        f"SELECT notification_id, originator_id, originator_version, topic, state "
        f"FROM {EVENTS} ORDER BY notification_id"
    ).fetchall()
    for position, oid, version, topic, state in rows:
        leaf, head = chain_link(head, position, oid.hex, version, topic, bytes(state))
        conn.execute(f"INSERT INTO {CHAIN} VALUES (%s, %s, %s)", (position, leaf, head))


# --- Checkpoints and the commands ----------------------------------------------------------


def test_a_checkpoint_exposes_rewritten_history_and_a_cut_tail(
    ledger_log: PostgresEventStore, pg_env: dict[str, str], tampering: Any, tmp_path: Path
) -> None:
    written = write_checkpoint(ledger_log, tmp_path / "cp.json")
    assert json.loads((tmp_path / "cp.json").read_text())["database"] == ledger_log.describe()
    assert (written.events, written.head) == (SCENARIO_EVENTS, verify(ledger_log).head_hex)

    app = Ledger(env=pg_env)
    try:
        app.record_status(PLAN, "A1", period="2024/25 Q2", status="Green", update="Still on track", actor="o")
    finally:
        app.close()
    result = verify(ledger_log, checkpoint=tmp_path / "cp.json")
    assert (result.ok, result.events) == (True, SCENARIO_EVENTS + 1)

    with tampering() as conn:
        conn.execute(f"UPDATE {EVENTS} SET topic = 'ledger.domain:Forged' WHERE notification_id = 2")
        rebuild_chain(conn)
    assert verify(ledger_log).ok  # the chain alone cannot tell...
    result = verify(ledger_log, checkpoint=Checkpoint.load(tmp_path / "cp.json"))  # ...the checkpoint can
    assert (result.ok, result.first_bad_position) == (False, SCENARIO_EVENTS)
    assert "differs from the checkpoint" in result.problem

    with tampering() as conn:
        conn.execute(f"DELETE FROM {EVENTS} WHERE notification_id > 5")
        rebuild_chain(conn)
    result = verify(ledger_log, checkpoint=tmp_path / "cp.json")
    assert (result.ok, result.first_bad_position) == (False, 6)
    assert "removed from the end" in result.problem


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_commands_verify_and_checkpoint_postgres(
    ledger_log: PostgresEventStore, tampering: Any, tmp_path: Path
) -> None:
    head = verify(ledger_log).head_hex
    code, out, _ = run("--data-dir", str(tmp_path / "unused"), "verify")
    assert code == 0
    assert out.startswith(f"Intact: {SCENARIO_EVENTS} events, head {head}\n")
    assert not (tmp_path / "unused").exists()  # nothing SQLite was created on the side

    cp = tmp_path / "cp.json"
    code, out, _ = run("checkpoint", "--out", str(cp))
    assert code == 0
    assert json.loads(cp.read_text())["head"] == head

    with tampering() as conn:
        conn.execute(f"UPDATE {EVENTS} SET topic = 'x' WHERE notification_id = 5")
    code, out, _ = run("verify", "--checkpoint", str(cp))
    assert code == 1
    assert "first bad position 5" in out
    code, _, err = run("checkpoint", "--out", str(tmp_path / "cp2.json"))
    assert code == 1
    assert "Not checkpointing: position 5" in err


def test_the_commands_exit_2_when_postgres_cannot_be_reached(
    pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", "wrong-password-91ab")
    for args in (["verify"], ["checkpoint", "--out", str(tmp_path / "cp.json")]):
        code, out, err = run(*args)
        assert (code, out) == (2, "")
        assert "Cannot connect to the event store at postgresql://" in err
        assert "wrong-password-91ab" not in err
        assert "Traceback" not in err


# --- Several processes writing at once ----------------------------------------------------


def _write_items(worker: int, barrier: Any, items: int) -> None:
    """One officer's process: registers and rates its own items, one save each."""
    app = Ledger(env=event_store_env())  # PostgreSQL, from the inherited environment
    try:
        barrier.wait(timeout=60)  # start together so the writers really contend
        for i in range(items):
            ref = f"W{worker}.{i}"
            app.register_item(PLAN, ref, kind="action", title=f"Action {ref}", actor=f"officer{worker}")
            app.record_status(
                PLAN, ref, period=Q1, status="Green", update="On track", actor=f"officer{worker}"
            )
    finally:
        app.close()


def test_two_processes_writing_different_items_lose_nothing_and_keep_the_chain(
    pg_env: dict[str, str], pg_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    workers, items = 2, 25
    app = Ledger(env=pg_env)  # creates the tables once, as a deployment's first start does
    app.register_programme(PLAN, "Plan", cadence="quarterly", actor="pm")
    app.close()
    # Later starts need not run DDL (and eventsourcing's CREATE OR REPLACE FUNCTION can
    # fail with "tuple concurrently updated" when processes start at the same instant).
    monkeypatch.setenv("CREATE_TABLE", "n")

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    processes = [ctx.Process(target=_write_items, args=(w, barrier, items)) for w in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * workers

    app = Ledger(env=pg_env)
    try:
        for w in range(workers):
            for i in range(items):
                item = app.get_item(PLAN, f"W{w}.{i}")
                assert item["title"] == f"Action W{w}.{i}"
    finally:
        app.close()
    expected = 1 + workers * items * 2
    with pg_database.connect() as conn:
        assert conn.execute(f"SELECT count(*) FROM {EVENTS}").fetchone() == (expected,)
        # Whose event is at each position: the writers' saves interleaved in the log.
        writers = [
            actor
            for (actor,) in conn.execute(
                f"SELECT convert_from(state, 'UTF8')::json->>'actor' FROM {EVENTS} "
                "WHERE notification_id > 1 ORDER BY notification_id"
            )
        ]
    assert sorted(set(writers)) == [f"officer{w}" for w in range(workers)]
    switches = sum(1 for a, b in pairwise(writers) if a != b)
    assert switches > 1, "the writers never overlapped: the test proved nothing"
    result = verification.verify_store(pg_env)
    assert (result.ok, result.events, result.problem) == (True, expected, "")
