"""The Merkle tree kept by the SQLite event store: written in each append's transaction
through the real Ledger, append-only, backfilled for a round-1 log by
`govledger merkle-backfill` to the same root a tree built while appending gives.

Roots and proofs are checked against the naive RFC 9162 implementation and the RFC's
verifiers in tests/test_merkle.py, fed the events as read straight from the file.
"""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from uuid import uuid4

import helpers_store
import pytest
from click.testing import CliRunner
from eventsourcing.persistence import IntegrityError, StoredEvent
from test_merkle import Naive, verify_consistency, verify_inclusion

from govledger.cli import main
from ledger.application import Ledger, open_ledger
from ledger.config import EVENTS_DB
from ledger.store import HashChainedSQLiteApplicationRecorder, verify
from ledger.store.chain import leaf_input
from ledger.store.merkle import MerkleLog, TreeNotBuilt, leaf_hash, merkle_log, node_key
from ledger.store.tree_check import check_tree

ROUND1 = Path(__file__).parent / "fixtures" / "round1"
PLAN, Q1, Q2 = "plan", "2024/25 Q1", "2024/25 Q2"


def stored_inputs(events_db: Path) -> list[bytes]:
    """Every event's leaf input, read from the file with sqlite3 and encoded here."""
    with sqlite3.connect(events_db) as conn:
        rows = conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()
    return [leaf_input(*row) for row in rows]


def record_some(ledger: Ledger, items: int = 9) -> None:
    """Single commands and one batch of several events."""
    ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="pm")
    for i in range(items):
        ledger.register_item(PLAN, f"A{i}", kind="action", title=f"Action {i}", actor="pm")
    with ledger.batch() as batch:
        for i in range(items):
            ledger.record_status(PLAN, f"A{i}", period=Q1, status="Green", actor="pm", batch=batch)
    ledger.record_status(PLAN, "A0", period=Q2, status="Amber", mitigation="Chasing", actor="pm")


def test_each_append_grows_the_tree_in_its_transaction(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path)
    try:
        record_some(ledger)
        log = merkle_log(ledger.recorder)
        assert log is not None
        inputs = stored_inputs(tmp_path / EVENTS_DB)
        naive = Naive(inputs)
        size = log.size()
        assert size == len(inputs) == 20
        assert log.root() == naive.mth(0, size)
        for old in range(1, size + 1):
            assert log.root(old) == naive.mth(0, old)
            assert log.inclusion_proof(old - 1, size) == naive.path(old - 1, 0, size)
            assert verify_consistency(
                old, size, log.root(old), log.root(), log.consistency_proof(old, size)
            ) or (old == size)
        assert [log.leaf_input(i) for i in range(size)] == inputs
        assert [log.position(i) for i in range(size)] == list(range(1, size + 1))
        assert log.index_of(7) == 6
    finally:
        ledger.close()
    with sqlite3.connect(tmp_path / EVENTS_DB) as conn:
        # Every complete subtree is stored, numbered in the order appends complete them:
        # 20 leaves, then 10 pairs, 5 fours, 2 eights and 1 sixteen, ids 0 to 37.
        ids = [row[0] for row in conn.execute("SELECT id FROM merkle_tree ORDER BY id")]
    assert ids == list(range(38))
    levels = Counter(node_key(number)[0] for number in ids)  # type: ignore[index]
    assert sorted(levels.items()) == [(0, 20), (1, 10), (2, 5), (3, 2), (4, 1)]


def test_a_refused_append_adds_nothing_to_the_tree(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path)
    try:
        record_some(ledger, items=2)
        log = MerkleLog(ledger.recorder)
        before = (log.size(), log.root())
        existing = ledger.recorder.select_notifications(start=1, limit=1)[0]
        fresh = StoredEvent(uuid4(), 1, existing.topic, existing.state)
        clash = StoredEvent(
            existing.originator_id, existing.originator_version, existing.topic, existing.state
        )
        with pytest.raises(IntegrityError):  # the second event clashes: the whole save rolls back
            ledger.recorder.insert_events([fresh, clash])
        assert (log.size(), log.root()) == before
        ledger.recorder.insert_events([fresh])
        size = log.size()
        assert size == before[0] + 1
        proof = log.inclusion_proof(size - 1, size)
        assert verify_inclusion(size - 1, size, leaf_hash(log.leaf_input(size - 1)), proof, log.root())
    finally:
        ledger.close()


def test_reading_nodes_looks_each_up_by_its_key(tmp_path: Path) -> None:
    # Proofs and appends read O(log n) nodes: a scan of the table would make both O(n).
    open_ledger(tmp_path).close()
    statement = HashChainedSQLiteApplicationRecorder.select_nodes_statement(3)
    with sqlite3.connect(tmp_path / EVENTS_DB) as conn:
        plan = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", [0, 1, 2])]
    assert plan == ["SEARCH merkle_tree USING INTEGER PRIMARY KEY (rowid=?)"], plan


def test_processes_appending_at_once_keep_one_tree(tmp_path: Path) -> None:
    # Each append reads the right edge under SQLite's write lock, so interleaved
    # writers can neither fork the tree nor lose a leaf.
    workers, counts = 3, 8
    helpers_store.make_app(tmp_path).close()  # create the file first, as test_store does
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    processes = [
        ctx.Process(target=helpers_store.concurrent_writer, args=(str(tmp_path), worker, barrier, counts))
        for worker in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * workers
    inputs = stored_inputs(tmp_path / EVENTS_DB)
    app = helpers_store.make_app(tmp_path)
    try:
        log = MerkleLog(app.recorder)
        assert log.size() == len(inputs) > workers * counts
        assert log.root() == Naive(inputs).mth(0, len(inputs))
    finally:
        app.close()


@pytest.mark.parametrize("change", ["UPDATE merkle_tree SET hash = hash", "DELETE FROM merkle_tree"])
def test_the_tree_table_is_append_only(tmp_path: Path, change: str) -> None:
    ledger = open_ledger(tmp_path)
    record_some(ledger, items=1)
    ledger.close()
    with (
        sqlite3.connect(tmp_path / EVENTS_DB) as conn,
        pytest.raises(sqlite3.IntegrityError, match="append-only"),
    ):
        conn.execute(change)


# --- a round-1 log: no tree until the backfill -------------------------------------------


def round1_copy(tmp_path: Path) -> Path:
    data = tmp_path / "round1"
    data.mkdir()
    shutil.copyfile(ROUND1 / EVENTS_DB, data / EVENTS_DB)
    return data


def built_while_appending(tmp_path: Path, source: Path) -> bytes:
    """The root of a fresh store given the same stored events through the recorder."""
    with sqlite3.connect(source / EVENTS_DB) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()
    fresh = open_ledger(tmp_path / "fresh")
    try:
        for start in range(0, len(rows), 40):  # batches of different shapes than the backfill's
            fresh.recorder.insert_events([StoredEvent(*row) for row in rows[start : start + 40]])
        assert stored_inputs(tmp_path / "fresh" / EVENTS_DB) == stored_inputs(source / EVENTS_DB)
        return MerkleLog(fresh.recorder).root()
    finally:
        fresh.close()


def test_backfill_gives_a_round1_log_the_root_of_a_tree_built_while_appending(tmp_path: Path) -> None:
    data = round1_copy(tmp_path)
    ledger = open_ledger(data)
    try:
        log = MerkleLog(ledger.recorder)
        with pytest.raises(TreeNotBuilt, match="govledger merkle-backfill"):
            log.root()
        # An append before the backfill leaves the tree alone; the backfill takes it in.
        ledger.register_programme("later", "Later", cadence="monthly", actor="pm")
        with pytest.raises(TreeNotBuilt):
            log.inclusion_proof(0, 1)
        # Interrupted after one batch: the next run resumes.
        assert ledger.recorder.merkle_extend(100).leaves == 100
    finally:
        ledger.close()

    result = CliRunner().invoke(main, ["--data-dir", str(data), "merkle-backfill"])
    assert result.exit_code == 0, result.output
    expected = built_while_appending(tmp_path, data)
    assert f"Merkle tree complete: 266 events, root {expected.hex()}" in result.output
    again = CliRunner().invoke(main, ["--data-dir", str(data), "merkle-backfill"])
    assert again.exit_code == 0 and again.output == result.output  # idempotent

    ledger = open_ledger(data)
    try:
        log = MerkleLog(ledger.recorder)
        assert log.root() == expected == Naive(stored_inputs(data / EVENTS_DB)).mth(0, 266)
        ledger.register_programme("after", "After", cadence="monthly", actor="pm")
        assert log.size() == 267  # appends keep the tree from now on
        assert verify_consistency(266, 267, expected, log.root(), log.consistency_proof(266, 267))
    finally:
        ledger.close()
    assert verify(data / EVENTS_DB).ok  # the chain is untouched


def test_backfill_without_an_event_store_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "none"), "merkle-backfill"])
    assert result.exit_code == 2
    assert "No event store at" in result.output
    assert not (tmp_path / "none" / EVENTS_DB).exists()


def test_the_kept_right_edge_is_not_trusted_after_a_rollback_or_another_writer(tmp_path: Path) -> None:
    """Each recorder keeps the right edge it ended with between appends. An append of its
    that was rolled back, followed by exactly one append through another recorder (so
    the tree has the size the kept edge expects, with another leaf), must not be built
    on: the tree stays the one the events make."""
    first, second = open_ledger(tmp_path), open_ledger(tmp_path)
    try:
        record_some(first, items=2)
        template = first.recorder.select_notifications(start=1, limit=1)[0]
        with pytest.raises(RuntimeError), first.recorder.datastore.transaction(commit=True) as c:
            first.recorder._insert_events(c, [StoredEvent(uuid4(), 1, template.topic, template.state)])
            raise RuntimeError("the commit never happens")
        second.recorder.insert_events([StoredEvent(uuid4(), 1, template.topic, template.state)])
        first.recorder.insert_events([StoredEvent(uuid4(), 1, template.topic, template.state)])
        inputs = stored_inputs(tmp_path / EVENTS_DB)
        assert MerkleLog(first.recorder).root() == Naive(inputs).mth(0, len(inputs))
    finally:
        first.close()
        second.close()
    checked = check_tree(tmp_path / EVENTS_DB)
    assert (checked.ok, checked.leaves) == (True, len(inputs)), checked
