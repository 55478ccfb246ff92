"""History grids (issue 11 item 4): one row per item, one column per period. Every cell is
recorded exactly, an empty cell records nothing, a declared footnote marker becomes a
note, an overlapping later snapshot records only new periods and refuses each
disagreeing cell unless restated with a reason, and bad input (an undeclared marker, a
header that is not a period) is refused by row and column with nothing recorded."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from ledger.periods import Period
from ledger.transfer.export import export
from ledger.transfer.importing import import_file
from projections.system import System, open_system

PROGRAMME = (
    "programme,name,cadence,scale,requires_mitigation,description,contact_name,contact_phone,contact_email\n"
)
RISKS = "risks,Strategic risk register,quarterly,rag,no,,,,\n"


def write(folder: Path, files: dict[str, list[list[str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "programmes.csv").write_text(PROGRAMME + RISKS, encoding="utf-8")
    for kind, rows in files.items():
        with (folder / f"{kind}.csv").open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
    return folder


def cells(system: System) -> set[tuple[str, str, str]]:
    with sqlite3.connect(system.projections_db) as conn:
        return set(conn.execute("SELECT ref, period, status FROM status_history"))


def event_count(system: System) -> int:
    return system.ledger.get_log_position()


FIRST = [
    ["programme", "ref", "title", "notes", "22/23 Q1", "22/23 Q2", "2022/23 Q3", "Q4 2022/23"],
    ["risks", "R1", "Cyber attack", "", "Red", "Amber", "A", "Green"],
    ["risks", "R5", "Workforce", "", "", "Amber", "Amber", "Red"],
    ["risks", "R8", "Recruitment", "*: merged into R5", "Green", "G", "*", ""],
]


def test_the_short_period_form_reads_as_the_municipal_year() -> None:
    assert Period.parse("22/23 Q1", "quarterly").label == "2022/23 Q1"
    assert Period.parse("Q4 24/25", "quarterly").label == "2024/25 Q4"
    with pytest.raises(Exception, match="consecutive"):
        Period.parse("22/24 Q1", "quarterly")


def test_every_cell_is_recorded_exactly_and_empty_cells_record_nothing(
    system: System, tmp_path: Path
) -> None:
    result = import_file(system.ledger, write(tmp_path / "a", {"history": FIRST}), actor="pm")
    assert result.problems == [] and result.recorded
    assert cells(system) == {
        ("R1", "2022/23 Q1", "Red"), ("R1", "2022/23 Q2", "Amber"), ("R1", "2022/23 Q3", "Amber"),
        ("R1", "2022/23 Q4", "Green"), ("R5", "2022/23 Q2", "Amber"), ("R5", "2022/23 Q3", "Amber"),
        ("R5", "2022/23 Q4", "Red"), ("R8", "2022/23 Q1", "Green"), ("R8", "2022/23 Q2", "Green"),
    }
    # The programme and three items, nine statuses, one note: nothing for the empty cells.
    assert result.events_by_type == {"Registered": 4, "StatusRecorded": 9, "Noted": 1}
    with sqlite3.connect(system.projections_db) as conn:
        assert list(conn.execute("SELECT ref, period, note FROM item_notes")) == [
            ("R8", "2022/23 Q3", "merged into R5")
        ]


def test_a_footnotes_file_declares_markers_for_one_item_or_every_item(system: System, tmp_path: Path) -> None:
    grid = [
        ["programme", "ref", "title", "22/23 Q1", "22/23 Q2"],
        ["risks", "R1", "Cyber", "Red", "†"],
        ["risks", "R2", "Flood", "#", "Green"],
    ]
    footnotes = [
        ["programme", "marker", "ref", "meaning"],
        ["risks", "†", "R1", "withdrawn pending review"],
        ["risks", "#", "", "not assessed this quarter"],
    ]
    result = import_file(
        system.ledger, write(tmp_path / "a", {"history": grid, "footnotes": footnotes}), actor="pm"
    )
    assert result.problems == []
    with sqlite3.connect(system.projections_db) as conn:
        assert set(conn.execute("SELECT ref, period, note FROM item_notes")) == {
            ("R1", "2022/23 Q2", "withdrawn pending review"),
            ("R2", "2022/23 Q1", "not assessed this quarter"),
        }
    assert ("R1", "2022/23 Q2", "withdrawn pending review") not in cells(system)


def test_an_overlapping_snapshot_records_only_new_periods(system: System, tmp_path: Path) -> None:
    import_file(system.ledger, write(tmp_path / "a", {"history": FIRST}), actor="pm")
    before = event_count(system)
    later = [
        ["programme", "ref", "title", "notes", "2022/23 Q3", "2022/23 Q4", "2023/24 Q1"],
        ["risks", "R1", "Cyber attack", "", "Amber", "Green", "Green"],
        ["risks", "R5", "Workforce", "", "Amber", "Red", "Amber"],
        ["risks", "R8", "Recruitment", "*: merged into R5", "*", "", ""],
    ]
    result = import_file(system.ledger, write(tmp_path / "b", {"history": later}), actor="pm")
    assert result.problems == []
    assert result.events_by_type == {"StatusRecorded": 2}
    assert event_count(system) == before + 2
    assert {c for c in cells(system) if c[1] == "2023/24 Q1"} == {
        ("R1", "2023/24 Q1", "Green"), ("R5", "2023/24 Q1", "Amber")
    }


def test_a_disagreeing_cell_is_refused_unless_restated_with_a_reason(system: System, tmp_path: Path) -> None:
    import_file(system.ledger, write(tmp_path / "a", {"history": FIRST}), actor="pm")
    before = event_count(system)
    later = [
        ["programme", "ref", "title", "2022/23 Q3", "2022/23 Q4", "2023/24 Q1"],
        ["risks", "R1", "Cyber attack", "Red", "Amber", "Green"],
        ["risks", "R5", "Workforce", "Amber", "Red", "Amber"],
    ]
    refused = import_file(system.ledger, write(tmp_path / "b", {"history": later}), actor="pm")
    assert not refused.recorded and event_count(system) == before
    named = [(p.row, p.column) for p in refused.problems]
    assert named == [(2, "2022/23 Q3"), (2, "2022/23 Q4")]  # every disagreeing cell, and only those
    assert "recorded Amber for 2022/23 Q3, and this grid says Red" in refused.problems[0].message

    reason = "Audit found the Q3 and Q4 ratings understated"
    restated = [[*later[0], "restate"], [*later[1], reason], later[2]]
    result = import_file(system.ledger, write(tmp_path / "c", {"history": restated}), actor="pm")
    assert result.problems == [] and result.recorded
    assert {("R1", "2022/23 Q3", "Red"), ("R1", "2022/23 Q4", "Amber")} <= cells(system)
    with sqlite3.connect(system.projections_db) as conn:
        reasons = {r for (r,) in conn.execute(
            "SELECT restated_reason FROM status_history WHERE ref = 'R1' AND restated = 1"
        )}
    assert reasons == {"Imported from history.csv: Audit found the Q3 and Q4 ratings understated"}


def test_an_undeclared_marker_is_refused_by_row_and_column(system: System, tmp_path: Path) -> None:
    grid = [FIRST[0], FIRST[1], ["risks", "R8", "Recruitment", "", "Green", "G", "*", ""]]
    result = import_file(system.ledger, write(tmp_path / "a", {"history": grid}), actor="pm")
    assert not result.recorded and event_count(system) == 0
    [problem] = result.problems
    assert (problem.file, problem.row, problem.column) == ("history.csv", 3, "2022/23 Q3")
    assert "'*' is a footnote marker nothing declares for R8" in problem.message


def test_a_header_that_is_not_a_period_is_refused_naming_the_column(system: System, tmp_path: Path) -> None:
    grid = [["programme", "ref", "title", "22/23 Q1", "Direction"], ["risks", "R1", "Cyber", "Red", "up"]]
    result = import_file(system.ledger, write(tmp_path / "a", {"history": grid}), actor="pm")
    assert not result.recorded and event_count(system) == 0
    [problem] = result.problems
    assert (problem.row, problem.column) == (1, "Direction")
    assert "'Direction' is not a period" in problem.message


def test_exported_history_is_a_grid_that_imports_back(system: System, tmp_path: Path) -> None:
    import_file(system.ledger, write(tmp_path / "a", {"history": FIRST}), actor="pm")
    export(system, tmp_path / "out")
    with (tmp_path / "out" / "history.csv").open(encoding="utf-8-sig") as handle:
        grid = list(csv.reader(handle))
    assert grid[0] == [
        "programme", "ref", "title", "kind", "notes", "restate",
        "2022/23 Q1", "2022/23 Q2", "2022/23 Q3", "2022/23 Q4",
    ]
    assert grid[3] == [
        "risks", "R8", "Recruitment", "action", "*: merged into R5", "", "Green", "Green", "*", ""
    ]
    again = import_file(system.ledger, tmp_path / "out", actor="pm")
    assert again.problems == [] and again.event_count == 0
    with open_system(tmp_path / "fresh") as fresh:
        result = import_file(fresh.ledger, tmp_path / "out", actor="pm")
        assert result.problems == []
        assert cells(fresh) == cells(system)
