"""Issue 11 items 4 and 8: what a council's own files hold survives export -> import. A
status and a footnote in the same period ("Green *"), a programme on its own scale (into
a fresh directory and back into its own ledger), indicators.csv without its optional
`better` and `reason` columns, and a restated snapshot given its reason on the command
line (`govledger import --restate-reason`)."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from test_history_grid import FIRST, cells, write

from govledger.cli import main
from ledger.transfer.export import export
from ledger.transfer.importing import import_file
from projections.system import System, open_system

Q3 = "2022/23 Q3"


def notes(system: System) -> set[tuple[str, str, str]]:
    with sqlite3.connect(system.projections_db) as conn:
        return set(conn.execute("SELECT ref, period, note FROM item_notes"))


def test_a_status_and_a_note_in_one_period_both_survive_export_and_import(
    system: System, tmp_path: Path
) -> None:
    import_file(system.ledger, write(tmp_path / "a", {"history": FIRST}), actor="pm")
    system.ledger.note_item("risks", "R1", period=Q3, note="rating under review", actor="pm")
    export(system, tmp_path / "out")
    with (tmp_path / "out" / "history.csv").open(encoding="utf-8-sig") as handle:
        r1 = next(row for row in csv.reader(handle) if row[1] == "R1")
    assert r1[4] == "*: rating under review" and r1[6:] == ["Red", "Amber", "Amber *", "Green"]
    with open_system(tmp_path / "fresh") as fresh:
        result = import_file(fresh.ledger, tmp_path / "out", actor="pm")
        assert result.problems == []
        assert cells(fresh) == cells(system)
        assert notes(fresh) == notes(system) == {
            ("R1", Q3, "rating under review"), ("R8", Q3, "merged into R5"),
        }
    again = import_file(system.ledger, tmp_path / "out", actor="pm")
    assert again.problems == [] and again.event_count == 0


def test_a_council_grid_may_print_a_marker_after_a_status(system: System, tmp_path: Path) -> None:
    grid = [
        ["programme", "ref", "title", "notes", "22/23 Q1", "22/23 Q2"],
        ["risks", "R1", "Cyber attack", "†: rated before the audit", "Red†", "Amber"],
    ]
    result = import_file(system.ledger, write(tmp_path / "a", {"history": grid}), actor="pm")
    assert result.problems == []
    assert cells(system) == {("R1", "2022/23 Q1", "Red"), ("R1", "2022/23 Q2", "Amber")}
    assert notes(system) == {("R1", "2022/23 Q1", "rated before the audit")}


COUNCIL_SCALE = [
    ["scale", "name", "status", "category", "colour", "aliases", "needs_mitigation", "group"],
    ["targets", "Targets", "On target", "on track", "#00703c", "OT", "no", ""],
    ["targets", "Targets", "Under control", "minor issues", "#ffdd00", "", "no", ""],
    ["targets", "Targets", "Off target", "major issues", "#d4351c", "", "yes", ""],
    ["targets", "Targets", "Pending", "not yet due", "#b1b4b6", "", "no", ""],
]


def test_a_programme_on_its_own_scale_exports_and_imports_back(system: System, tmp_path: Path) -> None:
    folder = write(tmp_path / "a", {
        "scales": COUNCIL_SCALE,
        "history": [
            ["programme", "ref", "title", "notes", "22/23 Q1", "22/23 Q2"],
            ["targets", "T1", "Recycling rate", "*: target reset", "OT", "Off target *"],
            ["targets", "T2", "Pothole repairs", "", "Pending", "Under control"],
        ],
    })
    (folder / "programmes.csv").write_text(
        "programme,name,cadence,scale,requires_mitigation,description,contact_name,contact_phone,"
        "contact_email\ntargets,Performance targets,quarterly,targets,no,,,,\n", encoding="utf-8",
    )
    assert import_file(system.ledger, folder, actor="pm").problems == []
    export(system, tmp_path / "out")
    with open_system(tmp_path / "fresh") as fresh:
        result = import_file(fresh.ledger, tmp_path / "out", actor="pm")
        assert result.problems == [] and result.recorded
        assert cells(fresh) == cells(system) == {
            ("T1", "2022/23 Q1", "On target"), ("T1", "2022/23 Q2", "Off target"),
            ("T2", "2022/23 Q1", "Pending"), ("T2", "2022/23 Q2", "Under control"),
        }
        assert notes(fresh) == {("T1", "2022/23 Q2", "target reset")}
        assert fresh.ledger.find_scale("targets") == system.ledger.find_scale("targets")
    again = import_file(system.ledger, tmp_path / "out", actor="pm")
    assert again.problems == [] and not again.recorded


def test_indicators_may_leave_out_better_and_reason(system: System, tmp_path: Path) -> None:
    folder = write(tmp_path / "a", {"indicators": [
        ["programme", "ref", "name", "unit", "period", "breakdown", "value"],
        ["risks", "FTE", "Staff in post", "FTE", "2024/25 Q1", "", "2,869"],
    ]})
    result = import_file(system.ledger, folder, actor="pm")
    assert result.problems == [] and result.events_by_type == {
        "Registered": 1, "Defined": 1, "ValueRecorded": 1,
    }
    system.ledger.define_indicator("risks", "VAC", name="Vacancy rate", unit="%", better="lower", actor="pm")
    later = write(tmp_path / "b", {"indicators": [
        ["programme", "ref", "name", "unit", "period", "breakdown", "value"],
        ["risks", "VAC", "Vacancy rate", "%", "2024/25 Q1", "", "12.16"],
    ]})
    result = import_file(system.ledger, later, actor="pm")  # the ledger's direction stands
    assert result.problems == [] and result.events_by_type == {"ValueRecorded": 1}
    with sqlite3.connect(system.projections_db) as conn:
        assert dict(conn.execute("SELECT ref, better FROM indicators")) == {"FTE": "neither", "VAC": "lower"}


def test_import_restate_reason_records_disagreeing_cells_as_restatements(
    system: System, tmp_path: Path
) -> None:
    import_file(system.ledger, write(tmp_path / "a", {"history": FIRST}), actor="pm")
    later = write(tmp_path / "b", {"history": [
        ["programme", "ref", "title", "2022/23 Q3", "2023/24 Q1"],
        ["risks", "R1", "Cyber attack", "Red", "Green"],
    ]})
    system.close()

    def run(*args: str) -> tuple[int, str]:
        outcome = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "import", str(later), *args])
        return outcome.exit_code, outcome.output

    code, output = run()
    assert code == 1 and "history.csv row 2, column 2022/23 Q3" in output and "Nothing was recorded" in output
    code, output = run("--restate-reason", "Audit found Q3 understated")
    assert code == 0, output
    with open_system(tmp_path) as reopened, sqlite3.connect(reopened.projections_db) as conn:
        restated = list(conn.execute(
            "SELECT ref, period, status, restated_reason FROM status_history WHERE restated = 1"
        ))
        assert restated == [("R1", Q3, "Red", "Imported from history.csv: Audit found Q3 understated")]
        assert ("R1", "2023/24 Q1", "Green") in cells(reopened)


def test_after_a_change_of_scale_the_export_imports_back_into_its_own_ledger(
    system: System, tmp_path: Path
) -> None:
    folder = write(tmp_path / "a", {
        "scales": COUNCIL_SCALE,
        "history": [
            ["programme", "ref", "title", "22/23 Q1", "22/23 Q2"],
            ["targets", "T1", "Recycling rate", "On target", "Off target"],
        ],
    })
    (folder / "programmes.csv").write_text(
        "programme,name,cadence,scale,requires_mitigation,description,contact_name,contact_phone,"
        "contact_email\ntargets,Performance targets,quarterly,targets,no,,,,\n", encoding="utf-8",
    )
    assert import_file(system.ledger, folder, actor="pm").problems == []
    system.ledger.change_scale("targets", "rag", actor="pm", reason="The council adopts RAG", mapping={
        "On target": "Green", "Under control": "Amber", "Off target": "Red", "Pending": "Not yet due",
    })
    system.ledger.record_status("targets", "T1", period="2022/23 Q3", status="Green", actor="pm")
    export(system, tmp_path / "out")  # Q1 and Q2 keep the words they were rated in
    again = import_file(system.ledger, tmp_path / "out", actor="pm")
    assert again.problems == [] and not again.recorded
    # A status of the old scale for a period not rated on it is still refused, by row and column.
    later = write(tmp_path / "b", {"statuses": [
        ["programme", "ref", "period", "status", "update", "mitigation", "reason", "correction"],
        ["targets", "T1", "2022/23 Q4", "On target", "Fine", "", "", ""],
    ]})
    refused = import_file(system.ledger, later, actor="pm")
    assert [(p.row, p.column) for p in refused.problems] == [(2, "status")] and not refused.recorded
    assert "'On target' is not a status on the RAG scale" in refused.problems[0].message
