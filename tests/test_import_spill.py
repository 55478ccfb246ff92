"""A big import streams inside its one transaction (issue 14 item 8): its checked rows
wait in a scratch file, its rows are applied a list at a time, and between lists the
batch spills its events to a scratch file; the save inserts them in chunks in ONE
transaction. Here a list is 40 rows, so the files below span many.

The same file imported that way and in one list records the same events, chain and
Merkle tree, byte for byte (the events' timestamps are made the same); a bad row in a
late list records nothing; a second import records nothing; a change someone else saved
to a spilled item meanwhile refuses the whole file; and PostgreSQL's chunked insert
gives the same chain and root as SQLite's.
"""

from __future__ import annotations

import itertools
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import eventsourcing.domain
import pytest
from test_import import generated, write_folder
from test_merkle_postgres import PG_BIN, pg_database, pg_server  # noqa: F401 - the fixtures
from test_scales import council_tables

from ledger.application import Batch, Ledger, open_ledger
from ledger.config import EVENTS_DB, event_store_env
from ledger.store import merkle_log, verify_store
from ledger.transfer import spool
from ledger.transfer.importing import import_file

LIST = 40
STATUSES = 900  # 100 items and 900 statuses: 1,001 rows, 26 lists


@pytest.fixture(autouse=True)
def _same_times(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every import's events stamped 1 s apart from the same moment, so two imports of
    one file record the same bytes."""
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    restart()
    monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", lambda: next(_clock))


_clock: Iterator[datetime] = iter(())


def restart() -> None:
    global _clock
    start = datetime(2026, 12, 1, tzinfo=UTC)
    _clock = (start + timedelta(seconds=n) for n in itertools.count())


def lists_of(monkeypatch: pytest.MonkeyPatch, rows: int) -> list[int]:
    """Apply rows `rows` at a time; the returned list counts the batch's spills."""
    monkeypatch.setattr(spool, "SPOOL_ROWS", rows)
    spills: list[int] = []
    spill = Batch.spill
    monkeypatch.setattr(Batch, "spill", lambda batch: (spills.append(1), spill(batch))[1])
    return spills


def imported(data_dir: Path, folder: Path) -> Ledger:
    restart()
    ledger = open_ledger(data_dir)
    result = import_file(ledger, folder, actor="bulk")
    assert result.ok and result.recorded, result.problems
    return ledger


def tables(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the events, chain and tree tables, as stored."""
    with sqlite3.connect(data_dir / EVENTS_DB) as conn:
        return {
            table: conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()
            for table in ("stored_events", "event_chain", "merkle_tree")
        }


def changed(folder: Path, period: str = "2024/25 Q1") -> Path:
    """The file with each item's update for `period` (by default its last) reworded: 100
    updates that change what an earlier import of the unchanged file recorded."""
    path = folder / "statuses.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(
        "".join(line.replace("Update", "Revised update") if period in line else line for line in lines),
        encoding="utf-8",
    )
    return folder


@pytest.mark.parametrize("earlier", [False, True], ids=["fresh", "over-an-earlier-import"])
def test_in_lists_or_in_one_the_same_events_chain_and_tree_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, earlier: bool
) -> None:
    folder = generated(tmp_path / "in", STATUSES)
    later = changed(generated(tmp_path / "later", STATUSES))
    stores = {}
    for name, rows in (("one", 10**9), ("lists", LIST)):
        spills = lists_of(monkeypatch, rows)
        data_dir = tmp_path / name
        if earlier:  # the first import in one list; then a file that changes some of it
            monkeypatch.setattr(spool, "SPOOL_ROWS", 10**9)
            imported(data_dir, folder).close()
            monkeypatch.setattr(spool, "SPOOL_ROWS", rows)
        ledger = imported(data_dir, later if earlier else folder)
        assert verify_store(event_store_env(data_dir)).ok
        ledger.close()
        assert bool(spills) == (name == "lists")
        stores[name] = tables(data_dir)
    assert stores["lists"] == stores["one"]
    events = len(stores["one"]["stored_events"])
    assert events == 1 + 100 + STATUSES + (100 if earlier else 0)
    assert len(stores["one"]["event_chain"]) == events


def test_a_bad_row_in_a_late_list_records_nothing_and_leaves_no_scratch_file(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spills = lists_of(monkeypatch, LIST)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    folder = generated(tmp_path / "in", STATUSES)
    statuses = folder / "statuses.csv"
    lines = statuses.read_text(encoding="utf-8").splitlines(keepends=True)
    bad = len(lines) - 2  # Excel's row number of the last line but two
    cells = lines[bad - 1].split(",")
    cells[3] = "Purple"
    lines[bad - 1] = ",".join(cells)
    statuses.write_text("".join(lines), encoding="utf-8")
    result = import_file(ledger, folder, actor="bulk")
    assert [(p.file, p.row, p.column) for p in result.problems] == [("statuses.csv", bad, "status")]
    assert not result.recorded and ledger.get_log_position() == 0
    assert len(spills) > 20 and list(scratch.iterdir()) == []


def test_a_file_imported_again_in_lists_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spills = lists_of(monkeypatch, LIST)
    folder = generated(tmp_path / "in", STATUSES)
    ledger = imported(tmp_path / "data", folder)
    position = ledger.get_log_position()
    again = import_file(ledger, folder, actor="bulk")
    assert again.ok and not again.recorded and again.event_count == 0
    assert {o.outcome for o in again.rows} == {"unchanged"} and len(again.rows) == 1 + 100 + STATUSES
    assert ledger.get_log_position() == position and spills
    ledger.close()


def test_a_change_saved_meanwhile_to_a_spilled_item_refuses_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lists_of(monkeypatch, LIST)
    data_dir = tmp_path / "data"
    ledger = imported(data_dir, generated(tmp_path / "in", STATUSES))
    position = ledger.get_log_position()
    other = open_ledger(data_dir)  # say, the web app

    def someone_else_saves(done: int, total: int) -> None:
        if done > 500 and ledger.get_log_position() == position:  # A1's rows are long spilled
            other.reassign_lead("big", "A1", "Kim Lee", actor="web.user")

    try:
        result = import_file(
            ledger, changed(generated(tmp_path / "later", STATUSES)), actor="bob", progress=someone_else_saves
        )
    finally:
        other.close()
    assert len(result.problems) == 1 and "someone else changed the ledger" in result.problems[0].message
    assert "Item A1 was changed by web.user" in result.problems[0].message
    assert not result.recorded and ledger.get_log_position() == position + 1
    ledger.close()


def test_rows_a_check_fills_after_their_list_is_stored_are_applied_whole(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scale's rows share its statuses, complete only once its last row is checked: a
    list stored before then must not keep the first row's half-built scale."""
    spills = lists_of(monkeypatch, 7)
    result = import_file(ledger, write_folder(tmp_path / "council", council_tables()), actor="alice")
    assert result.ok and result.recorded, result.problems
    scale = ledger.get_programme("delivery-plan")["scale"]
    assert scale.key == "delivery"
    assert {"Complete", "Green", "Amber", "Red"} <= {status.name for status in scale.statuses}
    assert spills


@pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries not installed: run scripts/setup.sh")
def test_postgres_inserts_the_spilled_batch_with_the_same_chain_and_root_as_sqlite(
    pg_database: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811 - the fixture
) -> None:
    folder = generated(tmp_path / "in", STATUSES)
    heads = {}
    for store in ("sqlite", "postgres"):
        spills = lists_of(monkeypatch, LIST if store == "postgres" else 10**9)
        if store == "postgres":  # the database fixture's settings name the server
            monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.postgres")
        else:
            monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
        ledger = imported(tmp_path / store, folder)
        last = ledger.get_log_position()
        tree = merkle_log(ledger.recorder)
        assert tree is not None
        heads[store] = (ledger.recorder.read_chain(0, last), tree.root())
        ledger.close()
        assert bool(spills) == (store == "postgres")
        assert verify_store(event_store_env(tmp_path / store)).ok
    assert len(heads["sqlite"][0]) == 1 + 100 + STATUSES
    assert heads["postgres"] == heads["sqlite"]
