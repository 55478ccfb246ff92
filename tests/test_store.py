"""The hash-chained SQLite recorder: the library's own recorder contract, the chain
rows it writes, the append-only guards, and concurrent writers in several processes."""

from __future__ import annotations

import multiprocessing
import sqlite3
from hashlib import sha256
from pathlib import Path
from typing import Literal
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from eventsourcing.tests import persistence  # the module, so pytest skips the ABC
from eventsourcing.utils import resolve_topic

from ledger.config import SQLITE_RECORDER_TOPIC
from ledger.store import GENESIS_HEAD, HashChainedSQLiteApplicationRecorder, chain_link, chain_reader, verify

if __package__:  # tests/ may or may not become a package; the helper works either way
    from . import helpers_store
else:
    import helpers_store


@pytest.fixture(autouse=True)
def _sqlite_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # event_store_env defers to any PERSISTENCE_MODULE in the environment; these tests
    # are about the SQLite store specifically.
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)


def _file_path(uri: str) -> str:
    return uri.removeprefix("file:")


class TestHashChainedRecorderContract(
    persistence.ApplicationRecorderTestCase[HashChainedSQLiteApplicationRecorder]
):
    """eventsourcing's own ApplicationRecorder tests, set up as the library's
    tests/persistence_tests/test_sqlite.py sets up SQLiteApplicationRecorder: an
    in-memory database by default, and both a file and a shared-cache in-memory
    database for the concurrency tests (the library skips none of them; nor do we).
    File-database runs additionally verify the chain afterwards."""

    db_uri = ":memory:"
    originator_id_type: Literal["uuid", "text"] = "uuid"

    def create_recorder(self) -> HashChainedSQLiteApplicationRecorder:
        recorder = HashChainedSQLiteApplicationRecorder(
            SQLiteDatastore(
                db_name=self.db_uri,
                pool_size=100,
                originator_id_type=self.originator_id_type,
            )
        )
        recorder.create_table()
        return recorder

    def _assert_file_chain_intact(self) -> None:
        result = verify(_file_path(self.db_uri))
        self.assertTrue(result.ok, result.problem)
        self.assertGreater(result.events, 0)

    def test_concurrent_no_conflicts(self, initial_position: int = 0) -> None:
        self.uris = persistence.tmpfile_uris()
        self.db_uri = next(self.uris)
        super().test_concurrent_no_conflicts()
        self._assert_file_chain_intact()

    def test_concurrent_no_conflicts_in_memory_db(self) -> None:
        self.db_uri = "file::memory:?cache=shared"
        super().test_concurrent_no_conflicts()

    def test_concurrent_throughput(self) -> None:
        self.uris = persistence.tmpfile_uris()
        self.db_uri = next(self.uris)
        super().test_concurrent_throughput()
        self._assert_file_chain_intact()

    def test_concurrent_throughput_in_memory_db(self) -> None:
        self.db_uri = "file::memory:?cache=shared"
        super().test_concurrent_throughput()


class TestHashChainedRecorderContractWithTextOriginatorID(TestHashChainedRecorderContract):
    originator_id_type: Literal["uuid", "text"] = "text"

    def new_originator_id(self) -> UUID | str:
        return "test-" + str(uuid4())


# --- The chain rows -------------------------------------------------------------------


def _recorder(path: Path) -> HashChainedSQLiteApplicationRecorder:
    recorder = HashChainedSQLiteApplicationRecorder(SQLiteDatastore(db_name=str(path)))
    recorder.create_table()
    return recorder


def _event(originator_id: UUID, version: int, state: bytes = b"{}") -> StoredEvent:
    return StoredEvent(originator_id=originator_id, originator_version=version, topic="t:Ev", state=state)


# Computed independently from the encoding documented in ledger/store/chain.py.
KNOWN_LEAF = "7434653f2a7161acd20136e3b16d301fe7b36ce11a2c1e9c67d92ae68184f291"
KNOWN_HEAD = "8a80323d24ffec23bd650f05e4a69b5bbe0bb8623dfe747002cac1ba49aae96f"


def test_the_leaf_and_head_encoding_is_fixed() -> None:
    # A known answer: changing the encoding would make every existing log fail to verify.
    leaf, head = chain_link(GENESIS_HEAD, 1, "ab" * 16, 1, "ledger.domain:Item.Created", b"{}")
    assert leaf.hex() == KNOWN_LEAF
    assert head.hex() == KNOWN_HEAD
    assert head == sha256(GENESIS_HEAD + leaf).digest()


def test_the_length_prefixes_keep_fields_apart() -> None:
    # Without length prefixes ("ab", "c") and ("a", "bc") would hash the same.
    one = chain_link(GENESIS_HEAD, 1, "ab", 1, "c", b"")
    two = chain_link(GENESIS_HEAD, 1, "a", 1, "bc", b"")
    assert one[0] != two[0]


def test_each_event_gets_a_chain_row_at_its_position_linked_to_the_previous_head(
    tmp_path: Path,
) -> None:
    recorder = _recorder(tmp_path / "events.db")
    first, second = uuid4(), uuid4()
    assert recorder.insert_events([_event(first, 1), _event(first, 2)]) == [1, 2]
    assert recorder.insert_events([_event(second, 1, b'{"x":1}')]) == [3]

    with sqlite3.connect(tmp_path / "events.db") as conn:
        rows = conn.execute("SELECT position, leaf, head FROM event_chain ORDER BY position")
        chain = rows.fetchall()
    assert [position for position, _, _ in chain] == [1, 2, 3]

    head = GENESIS_HEAD
    expected = [(first, 1, b"{}"), (first, 2, b"{}"), (second, 1, b'{"x":1}')]
    for (position, leaf, stored_head), (oid, version, state) in zip(chain, expected, strict=True):
        leaf_now, head = chain_link(head, position, oid.hex, version, "t:Ev", state)
        assert (leaf, stored_head) == (leaf_now, head)


def test_a_conflicting_save_leaves_neither_event_nor_chain_row(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path / "events.db")
    oid = uuid4()
    recorder.insert_events([_event(oid, 1)])
    with pytest.raises(IntegrityError):
        recorder.insert_events([_event(uuid4(), 1), _event(oid, 1)])

    with sqlite3.connect(tmp_path / "events.db") as conn:
        assert conn.execute("SELECT count(*) FROM stored_events").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM event_chain").fetchone() == (1,)
    assert recorder.insert_events([_event(oid, 2)]) == [2]
    assert verify(tmp_path / "events.db").ok


def test_creating_the_tables_again_is_harmless(tmp_path: Path) -> None:
    _recorder(tmp_path / "events.db").insert_events([_event(uuid4(), 1)])
    recorder = _recorder(tmp_path / "events.db")
    assert recorder.insert_events([_event(uuid4(), 1)]) == [2]
    assert verify(tmp_path / "events.db").events == 2


def test_the_chain_reader_gives_the_stored_links_in_a_range(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path / "events.db")
    oid = uuid4()
    recorder.insert_events([_event(oid, version) for version in range(1, 6)])
    read = chain_reader(recorder)
    assert read is not None
    links = read(1, 4)
    assert [link.position for link in links] == [2, 3, 4]
    with sqlite3.connect(tmp_path / "events.db") as conn:
        stored = conn.execute("SELECT position, leaf, head FROM event_chain WHERE position BETWEEN 2 AND 4")
        assert [tuple(link) for link in links] == stored.fetchall()
    assert read(5, 10) == []


def test_a_recorder_without_a_chain_has_no_chain_reader(tmp_path: Path) -> None:
    plain = SQLiteApplicationRecorder(SQLiteDatastore(str(tmp_path / "plain.db")))
    assert chain_reader(plain) is None


# --- Append-only guards ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("UPDATE stored_events SET state = x'00' WHERE rowid = 1", "stored_events"),
        ("DELETE FROM stored_events WHERE rowid = 1", "stored_events"),
        ("UPDATE event_chain SET leaf = x'00' WHERE position = 1", "event_chain"),
        ("DELETE FROM event_chain WHERE position = 1", "event_chain"),
    ],
)
def test_the_triggers_refuse_updates_and_deletes(tmp_path: Path, statement: str, table: str) -> None:
    _recorder(tmp_path / "events.db").insert_events([_event(uuid4(), 1)])
    with sqlite3.connect(tmp_path / "events.db") as conn:
        with pytest.raises(sqlite3.IntegrityError, match=f"{table} is append-only"):
            conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM stored_events").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM event_chain").fetchone() == (1,)
    conn.close()
    assert verify(tmp_path / "events.db").ok


# --- Through an Application, from several processes at once ---------------------------


def test_an_application_configured_by_ledger_config_uses_the_chained_recorder(
    tmp_path: Path,
) -> None:
    app = helpers_store.make_app(tmp_path)
    try:
        assert isinstance(app.recorder, HashChainedSQLiteApplicationRecorder)
    finally:
        app.close()
    helpers_store.append_tallies(tmp_path, ["a", "b"], counts=3)
    helpers_store.append_tallies(tmp_path, ["c", "d"], counts=3, batched=True)
    result = verify(helpers_store.events_db(tmp_path))
    assert (result.ok, result.events) == (True, 16)


def test_the_recorder_topic_resolves_and_so_does_its_topic_before_the_package() -> None:
    # ledger.config plugs the recorder in by topic; "ledger.store:..." is where it was.
    assert resolve_topic(SQLITE_RECORDER_TOPIC) is HashChainedSQLiteApplicationRecorder
    assert SQLITE_RECORDER_TOPIC == "ledger.store.sqlite:HashChainedSQLiteApplicationRecorder"
    old = "ledger.store:HashChainedSQLiteApplicationRecorder"
    assert resolve_topic(old) is HashChainedSQLiteApplicationRecorder


def test_four_processes_appending_at_once_lose_nothing_and_keep_the_chain(
    tmp_path: Path,
) -> None:
    workers, counts = 4, 10
    # Create the store first, as a deployment does once. eventsourcing switches a new
    # file to WAL on first connect, and processes racing to do that on a brand-new file
    # can fail with "database is locked" (a library limitation, not the chain's).
    helpers_store.make_app(tmp_path).close()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    processes = [
        ctx.Process(
            target=helpers_store.concurrent_writer,
            args=(str(tmp_path), worker, barrier, counts),
        )
        for worker in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * workers

    app = helpers_store.make_app(tmp_path)
    try:
        names = [
            name
            for worker in range(workers)
            for group in helpers_store.worker_names(worker)
            for name in group
        ]
        for name in names:
            tally = app.repository.get(helpers_store.Tally.create_id(name))
            assert (tally.name, tally.count, tally.version) == (name, counts, counts + 1)
        expected_events = len(names) * (counts + 1)
        assert app.recorder.max_notification_id() == expected_events
    finally:
        app.close()

    result = verify(helpers_store.events_db(tmp_path))
    assert (result.ok, result.events, result.problem) == (True, expected_events, "")
