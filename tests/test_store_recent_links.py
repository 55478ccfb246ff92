"""The chain links of the last committed save are given back without a read (the
projector's catch-up asks for exactly them), and only ever links that were committed."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteDatastore

from ledger.store import HashChainedSQLiteApplicationRecorder, verify


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


def test_the_last_saves_links_come_back_without_a_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.db"
    recorder = recorder_on(path)
    recorder.insert_events(events(2))
    assert recorder.insert_events(events(3)) == [3, 4, 5]
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
