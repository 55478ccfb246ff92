"""Retire, merge and reinstate an item (issue 11 item 5, and item 8's last bullet): each an
event with a reason and a period; "R8 merged into R5 from 2024/25 Q3" shows in the
timeline, the grid and the report as "retired (merged into R5)", not as missing; a retired
item leaves the counts from that period on; its history stays under its own ref; export
and import carry it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ledger.errors import LedgerError
from ledger.transfer.export import export
from ledger.transfer.importing import import_file
from projections import queries
from projections.reports.build import build_report
from projections.system import System, open_system

Q1, Q2, Q3, Q4 = "2024/25 Q1", "2024/25 Q2", "2024/25 Q3", "2024/25 Q4"


@pytest.fixture
def register(system: System) -> System:
    """Three risks rated Green, Amber, Amber in Q1 and Q2; R8 merged into R5 from Q3."""
    ledger = system.ledger
    ledger.register_programme(
        "risks", "Strategic risks", cadence="quarterly", requires_mitigation=False, actor="a"
    )
    for ref in ("R1", "R5", "R8"):
        ledger.register_item("risks", ref, kind="priority", title=f"Risk {ref}", actor="a")
    for period in (Q1, Q2):
        for ref, status in (("R1", "Green"), ("R5", "Amber"), ("R8", "Amber")):
            ledger.record_status("risks", ref, period=period, status=status, update="Reviewed", actor="pm")
    ledger.retire_item("risks", "R8", period=Q3, merged_into="R5", reason="Merged by the board", actor="pm")
    for ref, status in (("R1", "Green"), ("R5", "Red")):
        ledger.record_status("risks", ref, period=Q3, status=status, update="Reviewed", actor="pm")
    return system


def counts(system: System, period: str) -> dict[str, int]:
    summary = queries.get_summary(system.projections_db, "risks", period)
    return {s["status"]: s["count"] for s in summary["statuses"] if s["count"]}


def test_a_merged_item_leaves_the_counts_from_its_period_on(register: System) -> None:
    assert counts(register, Q2) == {"Green": 1, "Amber": 2}
    assert counts(register, Q3) == {"Green": 1, "Red": 1}


def test_a_retired_item_is_not_missing_an_update_in_later_periods(register: System) -> None:
    db = register.projections_db
    assert [r["ref"] for r in queries.get_missing_updates(db, "risks", Q4)] == ["R1", "R5"]
    assert queries.get_missing_updates(db, "risks", Q3) == []
    assert queries.get_retired(db, "risks", Q4) == {"R8": "retired (merged into R5)"}
    assert queries.get_retired(db, "risks", Q2) == {}


def test_the_timeline_and_the_grid_say_merged_into(register: System) -> None:
    db = register.projections_db
    timeline = queries.get_item_timeline(db, "risks", "R8")
    assert timeline[-1]["summary"] == f"merged into R5 from {Q3}"
    assert (timeline[-1]["to_value"], timeline[-1]["reason"]) == (
        "retired (merged into R5)", "Merged by the board"
    )
    grid = {row["ref"]: row for row in queries.get_grid(db, "risks")["rows"]}
    assert grid["R8"]["retired"] == {Q3: "retired (merged into R5)"}
    assert set(grid["R8"]["ratings"]) == {Q1, Q2}  # its history stays under its own ref
    assert grid["R5"]["retired"] == {}


def test_the_report_says_retired_not_not_recorded(register: System) -> None:
    report = build_report(register.projections_db, "risks", "committee", Q3)
    entries = {e.ref: e for e in report.entries}
    assert entries["R8"].status_text == "retired (merged into R5)"
    assert all(c.name != "Not recorded" for c in report.summary)
    assert sum(c.count for c in report.summary) == 2


def test_no_status_in_a_retired_period_until_reinstated(register: System) -> None:
    ledger = register.ledger
    with pytest.raises(LedgerError, match="R8 was retired \\(merged into R5\\) from 2024/25 Q3"):
        ledger.record_status("risks", "R8", period=Q4, status="Red", actor="pm")
    with pytest.raises(LedgerError, match="reason"):
        ledger.reinstate_item("risks", "R8", period=Q4, reason="", actor="pm")
    ledger.reinstate_item("risks", "R8", period=Q4, reason="Split out again", actor="pm")
    ledger.record_status("risks", "R8", period=Q4, status="Red", update="Back", actor="pm")
    assert counts(register, Q4) == {"Red": 1}
    with pytest.raises(LedgerError, match="no status for 2024/25 Q3"):
        ledger.record_status("risks", "R8", period=Q3, status="Red", actor="pm")
    assert queries.get_retired(register.projections_db, "risks", Q4) == {}
    assert queries.get_retired(register.projections_db, "risks", Q3) == {"R8": "retired (merged into R5)"}


def test_bad_retirements_are_refused(register: System) -> None:
    ledger = register.ledger
    with pytest.raises(LedgerError, match="has a status for 2024/25 Q2"):
        ledger.retire_item("risks", "R1", period=Q2, reason="Closed", actor="pm")
    with pytest.raises(LedgerError, match="itself"):
        ledger.retire_item("risks", "R1", period=Q4, merged_into="R1", reason="x", actor="pm")
    with pytest.raises(LedgerError, match="R8 is itself retired"):
        ledger.retire_item("risks", "R1", period=Q4, merged_into="R8", reason="x", actor="pm")
    with pytest.raises(LedgerError, match="already retired"):
        ledger.retire_item("risks", "R8", period=Q4, reason="x", actor="pm")


def test_export_and_import_carry_retirements(register: System, tmp_path: Path) -> None:
    register.ledger.reinstate_item("risks", "R8", period=Q4, reason="Split out again", actor="pm")
    export(register, tmp_path / "out")
    again = import_file(register.ledger, tmp_path / "out", actor="pm")
    assert again.problems == [] and again.event_count == 0
    with open_system(tmp_path / "fresh") as fresh:
        result = import_file(fresh.ledger, tmp_path / "out", actor="pm")
        assert result.problems == []
        assert result.events_by_type["Retired"] == 1 and result.events_by_type["Reinstated"] == 1
        assert [
            (r["ref"], r["retired_from"], r["merged_into"], r["reason"], r["reinstated_from"])
            for r in queries.get_retirements(fresh.projections_db, "risks")
        ] == [("R8", Q3, "R5", "Merged by the board", Q4)]
        assert counts(fresh, Q3) == counts(register, Q3)


def test_retirements_csv_refuses_bad_rows_with_nothing_recorded(register: System, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "retirements.csv").write_text(
        "programme,ref,action,period,merged_into,reason\n"
        "risks,R1,merge,2024/25 Q4,,Folded in\n"
        "risks,R1,close,2024/25 Q4,,Done\n"
        "risks,R5,retire,2024/25 Q4,,\n",
        encoding="utf-8",
    )
    before = register.ledger.get_log_position()
    result = import_file(register.ledger, folder, actor="pm")
    assert not result.recorded and register.ledger.get_log_position() == before
    assert [(p.row, p.column) for p in result.problems] == [(2, "merged_into"), (3, "action"), (4, "reason")]
    with sqlite3.connect(register.projections_db) as conn:
        assert conn.execute("SELECT count(*) FROM item_retirements").fetchone() == (1,)


def test_the_cli_retires_merges_and_reinstates(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from govledger.cli import main

    with open_system(tmp_path) as system:
        system.ledger.register_programme("risks", "Risks", cadence="quarterly", actor="a")
        for ref in ("R5", "R8", "R9"):
            system.ledger.register_item("risks", ref, kind="priority", title=ref, actor="a")

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), *args])
        return result.exit_code, result.output

    merged = run(
        "merge", "risks", "R8", "--into", "R5", "--period", "24/25 Q3", "--reason", "Board", "--as", "jo"
    )
    assert merged == (0, "R8 is merged into R5 from 24/25 Q3.\n")
    assert run("retire", "risks", "R9", "--period", Q3, "--reason", "Closed")[0] == 0
    code, output = run("retire", "risks", "R8", "--period", Q4, "--reason", "Again")
    assert code == 1 and "R8 is already retired from 2024/25 Q3" in output and "Traceback" not in output
    assert run("reinstate", "risks", "R8", "--period", Q4, "--reason", "Split out")[0] == 0
    with open_system(tmp_path) as system:
        spans = queries.get_retirements(system.projections_db, "risks")
        assert [(r["ref"], r["merged_into"], r["retired_by"], r["reinstated_from"]) for r in spans] == [
            ("R8", "R5", "jo", Q4), ("R9", "", spans[1]["retired_by"], ""),
        ]
