"""bench_floor_rebuild's SQL floor must write everything a rebuild's file holds: a floor
that skipped a table (or an index, or a full-text index) would be a floor under less
work than a rebuild does, and its conclusion about the 50% target would be wrong."""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import bench_floor_rebuild as floor
from bench_projections import ledger_with_history

from projections.schema import TABLES, search_tables


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory, _ = ledger_with_history(tmp_path_factory.mktemp("rbfloor") / "ledger", 300, keep=False)
    return directory


def _contents(path: Path) -> tuple[list[tuple[Any, ...]], dict[str, list[tuple[Any, ...]]]]:
    """Every object in the file (tables, indexes, triggers, views, full-text tables) and
    every ordinary table's rows."""
    with closing(sqlite3.connect(str(path))) as conn:
        objects = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()
        rows = {
            name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for type_, name, _, sql in objects
            if type_ == "table" and "VIRTUAL" not in (sql or "") and not name.endswith(("_data", "_idx"))
        }
    return objects, rows


def test_the_floor_writes_every_table_index_and_row_of_the_rebuild(ledger: Path, tmp_path: Path) -> None:
    prep = floor.prepare(ledger, tmp_path / "live.db")
    steps = floor.Steps()
    floor.sql_floor(prep, tmp_path / "floor.db", steps)

    objects, rows = _contents(prep.live)
    floor_objects, floor_rows = _contents(tmp_path / "floor.db")
    assert floor_objects == objects
    assert floor_rows == rows
    assert len(rows["audit_log"]) == prep.events  # one audit row an event: the test is not vacuous
    assert rows["period_ratings"] and rows["rag_summary"] and rows["subjects"]
    with closing(sqlite3.connect(str(tmp_path / "floor.db"))) as conn:
        for table in search_tables():  # each full-text index holds what its rows say
            fts = f"{table.name}_fts"
            conn.execute(f"INSERT INTO \"{fts}\" (\"{fts}\") VALUES ('integrity-check')")
        found = conn.execute("SELECT count(*) FROM audit_log_fts WHERE audit_log_fts MATCH 'delivery'")
        assert found.fetchone()[0]
    # Every table's rows, indexes and full-text index were clocked on their own.
    for table in TABLES:
        assert f"{table.name} rows" in steps.spent
        if table.indexes or table.unique_indexes:
            assert f"{table.name} indexes" in steps.spent
        if table.fts:
            assert f"{table.name} full-text index" in steps.spent


def test_the_report_names_every_table(
    ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    floor.rebuild_floor(ledger, 0, 1, ours=True, out=tmp_path)
    out = capsys.readouterr().out
    for table in TABLES:
        assert f"\n| {table.name} | " in out
    for line in (floor.BASELINE, floor.FLOOR, floor.INSTALL, floor.OURS, floor.READ_BACK):
        assert f"| {line} |" in out
    assert not any(tmp_path.glob("rbfloor-*"))  # its scratch files are removed
