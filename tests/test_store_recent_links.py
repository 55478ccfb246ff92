"""The last committed save's chain links and rows are given back without a read (the
projector's catch-up after it asks for exactly them), and only ever committed ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteDatastore

from ledger.store import HashChainedSQLiteApplicationRecorder, verify
from ledger.store.events import event_page_reader
from ledger.store.sqlite import KEEP_COMMITTED
from projections import queries
from projections.system import open_system


def recorder_on(path: Path) -> HashChainedSQLiteApplicationRecorder:
    recorder = HashChainedSQLiteApplicationRecorder(SQLiteDatastore(db_name=str(path)))
    recorder.create_table()
    return recorder


def events(count: int) -> list[StoredEvent]:
    return [StoredEvent(uuid4(), 1, "t:Ev", f'{{"n": {n}}}'.encode()) for n in range(count)]


def stored(path: Path, after: int, last: int) -> list[tuple[int, bytes, bytes]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT position, leaf, head FROM event_chain WHERE position > ? AND position <= ?", (after, last)
        ).fetchall()


def count_reads(recorder: HashChainedSQLiteApplicationRecorder, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads: list[int] = []
    original = recorder.datastore.transaction

    def transaction(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(recorder.datastore, "transaction", transaction)
    return reads


@pytest.fixture
def two_saves(tmp_path: Path) -> tuple[Path, HashChainedSQLiteApplicationRecorder]:
    """A store whose last save wrote positions 3 to 5."""
    path = tmp_path / "events.db"
    recorder = recorder_on(path)
    recorder.insert_events(events(2))
    assert recorder.insert_events(events(3)) == [3, 4, 5]
    return path, recorder


def test_the_last_saves_links_come_back_without_a_read(
    two_saves: tuple[Path, HashChainedSQLiteApplicationRecorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, recorder = two_saves
    reads = count_reads(recorder, monkeypatch)
    assert [tuple(link) for link in recorder.read_chain(2, 5)] == stored(path, 2, 5)
    assert reads == []
    # Any other range is read from the file.
    assert [tuple(link) for link in recorder.read_chain(1, 5)] == stored(path, 1, 5)
    assert [tuple(link) for link in recorder.read_chain(2, 4)] == stored(path, 2, 4)
    assert len(reads) == 2


def test_another_writers_save_is_read_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    mine, theirs = recorder_on(path), recorder_on(path)
    mine.insert_events(events(1))
    theirs.insert_events(events(2))  # positions 2 and 3
    assert [tuple(link) for link in mine.read_chain(1, 3)] == stored(path, 1, 3)
    assert len(mine.read_chain(0, 3)) == 3


def test_a_failed_save_never_gives_its_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "events.db"
    recorder = recorder_on(path)
    recorder.insert_events(events(1))

    def fail(*args: Any) -> None:
        raise RuntimeError("disk full")  # after the chain rows were written, before commit

    with monkeypatch.context() as patched:
        patched.setattr(recorder, "_grow_tree", fail)
        with pytest.raises(RuntimeError):
            recorder.insert_events(events(2))
    assert recorder.read_chain(1, 3) == []
    assert recorder.insert_events(events(2)) == [2, 3]
    assert [tuple(link) for link in recorder.read_chain(1, 3)] == stored(path, 1, 3)
    assert verify(path).ok


def test_the_projectors_page_after_a_save_is_its_rows_without_a_read(
    two_saves: tuple[Path, HashChainedSQLiteApplicationRecorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, recorder = two_saves
    read = event_page_reader(recorder)
    from_file = read(2, 1000, None)  # no stop: whether more follow is unknown, so read
    reads = count_reads(recorder, monkeypatch)
    assert read(2, 1000, 5) == from_file and [row[0] for row in from_file] == [3, 4, 5]
    assert reads == []
    assert [row[0] for row in read(1, 1000, 5)] == [2, 3, 4, 5] and len(reads) == 1
    # Without `stop` the file is read: rows saved since by another writer are not missed.
    recorder_on(path).insert_events(events(2))
    assert [row[0] for row in read(2, 1000, None)] == [3, 4, 5, 6, 7]


def test_an_imports_save_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "events.db"
    recorder = recorder_on(path)
    recorder.insert_events(events(KEEP_COMMITTED + 1))
    assert recorder.committed_rows(0, KEEP_COMMITTED + 1) is None
    reads = count_reads(recorder, monkeypatch)
    assert len(recorder.read_chain(0, KEEP_COMMITTED + 1)) == KEEP_COMMITTED + 1 and reads == [1]


def test_a_save_is_projected_with_no_read_of_the_event_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_system(tmp_path) as system:
        system.ledger.register_programme("plan", "Plan", cadence="quarterly", actor="pm")
        system.ledger.register_item("plan", "A1", kind="action", title="Action", actor="pm")
        recorder: Any = system.ledger.recorder
        reads = count_reads(recorder, monkeypatch)
        system.ledger.record_status(
            "plan", "A1", period="2024/25 Q1", status="Green", update="On track", actor="a"
        )
        assert len(reads) == 2  # the load (programme, item and review in one) and the save
        assert system.projector.position == system.ledger.get_log_position() == 3
        rated = queries.get_ratings(system.projections_db, "plan", "2024/25 Q1")
        assert [(r["ref"], r["status"], r["update"]) for r in rated] == [("A1", "Green", "On track")]
