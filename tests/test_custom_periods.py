"""Issue 11 item 7: reporting periods as councils define them. A programme on the custom
cadence defines its periods as data (periods.csv, govledger define-periods); its periods
are ordered and compared by those dates (status history, the quarter-over-quarter
comparison, the committee report), and a period it did not define is refused."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from govledger.cli import main
from ledger.transfer.export import export
from ledger.transfer.importing import import_file
from projections.reports.build import build_report
from projections.system import System, open_system

P2, P4 = "2024/25 P2", "2024/25 P4"
FILES: dict[str, list[list[str]]] = {
    "programmes": [
        ["programme", "name", "cadence", "scale", "requires_mitigation", "description",
         "contact_name", "contact_phone", "contact_email"],
        ["trust", "Children's Trust", "custom", "rag", "no", "", "", "", ""],
    ],
    # P4 first: a period's place is its dates, not the row order
    "periods": [
        ["programme", "period", "start", "end"],
        ["trust", P4, "2024-08-01", "2024-11-30"],
        ["trust", P2, "2024-04-01", "2024-07-31"],
    ],
    "items": [
        ["programme", "ref", "kind", "title", "parent_ref", "lead_officer", "committee"],
        ["trust", "CA1", "core area", "Early help", "", "", ""],
        ["trust", "CA2", "core area", "Education", "", "", ""],
    ],
    "statuses": [
        ["programme", "ref", "period", "status", "update", "mitigation", "reason"],
        ["trust", "CA1", P4, "Green", "Back on track", "", ""],
        ["trust", "CA1", P2, "Amber", "Waiting lists long", "", ""],
        ["trust", "CA2", "2024/25 p2", "Green", "Good", "", ""],
        ["trust", "CA2", P4, "Red", "Funding cut", "", ""],
    ],
}


def write(folder: Path, files: dict[str, list[list[str]]]) -> Path:
    folder.mkdir(parents=True)
    for kind, rows in files.items():
        with (folder / f"{kind}.csv").open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
    return folder


def read(system: System, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(system.projections_db) as conn:
        return conn.execute(sql).fetchall()


def imported(system: System, tmp_path: Path) -> System:
    result = import_file(system.ledger, write(tmp_path / "trust", FILES), actor="pm")
    assert result.problems == [], result.problems
    return system


def test_periods_are_ordered_by_their_dates(system: System, tmp_path: Path) -> None:
    imported(system, tmp_path)
    assert read(system, "SELECT period, period_start, period_end FROM periods ORDER BY period_start") == [
        (P2, "2024-04-01", "2024-07-31"), (P4, "2024-08-01", "2024-11-30"),
    ]
    rows = read(system, "SELECT ref, period, previous_period FROM status_history ORDER BY ref, period_start")
    assert rows == [("CA1", P2, ""), ("CA1", P4, P2), ("CA2", P2, ""), ("CA2", P4, P2)]


def test_quarter_over_quarter_compares_each_period_with_the_one_defined_before(
    system: System, tmp_path: Path
) -> None:
    imported(system, tmp_path)
    directions = read(
        system,
        "SELECT ref, previous_period, previous_status, status, direction FROM transitions "
        "WHERE period = '2024/25 P4' ORDER BY ref",
    )
    assert directions == [
        ("CA1", P2, "Amber", "Green", "improved"), ("CA2", P2, "Green", "Red", "deteriorated"),
    ]


def test_the_committee_report_uses_the_programme_s_periods(system: System, tmp_path: Path) -> None:
    imported(system, tmp_path)
    report = build_report(system.projections_db, "trust", "committee", P4)
    assert report.period == P4
    assert report.period_name == P4 and report.previous_period_name == P2
    assert report.period_dates == "1 August 2024 to 30 November 2024"
    assert {(e.ref, e.status) for e in report.entries} == {("CA1", "Green"), ("CA2", "Red")}


def test_a_period_not_defined_is_refused_with_nothing_recorded(system: System, tmp_path: Path) -> None:
    files = {**FILES, "statuses": [*FILES["statuses"], ["trust", "CA1", "2024/25 P3", "Red", "x", "", ""],
                                   ["trust", "CA2", "2024/25 Q1", "Red", "x", "", ""]]}
    result = import_file(system.ledger, write(tmp_path / "bad", files), actor="pm")
    assert [(p.file, p.row, p.column) for p in result.problems] == [
        ("statuses.csv", 6, "period"), ("statuses.csv", 7, "period"),
    ]
    assert "'2024/25 P3' is not one of this programme's periods: use one of 2024/25 P2, 2024/25 P4." in str(
        result.problems[0]
    )
    assert system.ledger.get_log_position() == 0


def test_bad_definitions_are_refused_by_row_and_column(system: System, tmp_path: Path) -> None:
    files = {
        "programmes": [*FILES["programmes"], ["plan", "Plan", "quarterly", "rag", "no", "", "", "", ""]],
        "periods": [
            ["programme", "period", "start", "end"],
            ["trust", P2, "2024-04-01", "2024-07-31"],
            ["trust", "2024/25 P3", "2024-07-01", "2024-09-30"],  # overlaps P2
            ["trust", "2024/25 p2", "2025-04-01", "2025-07-31"],  # P2 again
            ["trust", "P5", "2024-12-01", "2024-11-30"],  # ends before it starts
            ["trust", "P6", "1 Dec 2024", "2025-03-31"],  # not an ISO date
            ["plan", "P1", "2024-04-01", "2024-06-30"],  # a quarterly programme
        ],
    }
    result = import_file(system.ledger, write(tmp_path / "bad", files), actor="pm")
    assert [(p.row, p.column) for p in result.problems] == [
        (3, "start"), (4, "period"), (5, "end"), (6, "start"), (7, "programme"),
    ]
    assert "overlaps '2024/25 P2'" in str(result.problems[0])
    assert system.ledger.get_log_position() == 0


def test_export_then_import_round_trips_the_periods(system: System, tmp_path: Path) -> None:
    imported(system, tmp_path)
    export(system, tmp_path / "out")
    with open_system(tmp_path / "fresh") as fresh:
        assert import_file(fresh.ledger, tmp_path / "out", actor="pm").problems == []
        sql = "SELECT ref, period, period_start, previous_period, status FROM status_history ORDER BY 1, 3"
        assert read(fresh, sql) == read(system, sql)
    assert import_file(system.ledger, tmp_path / "out", actor="pm").event_count == 0


def test_define_periods_on_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with open_system(data) as system:
        import_file(system.ledger, write(tmp_path / "p", {"programmes": FILES["programmes"]}), actor="pm")
    runner = CliRunner()
    args = ["--data-dir", str(data), "define-periods", "trust", "--as", "pm"]
    done = runner.invoke(main, [*args, f"{P2}=2024-04-01..2024-07-31", f"{P4}=2024-08-01..2024-11-30"])
    assert done.exit_code == 0, done.output
    # A redefinition must keep every period: refused, exit 1, nothing recorded.
    refused = runner.invoke(main, [*args, "--reason", "New year", f"{P4}=2024-08-01..2024-11-30"])
    assert refused.exit_code == 1 and "2024/25 P2 (2024-04-01 to 2024-07-31) missing" in refused.output
    assert runner.invoke(main, [*args, "P2 from April"]).exit_code == 2
    with open_system(data) as system:
        assert system.ledger.get_programme("trust")["calendar"].parse("2024/25 p4").label == P4
        assert read(system, "SELECT periods FROM programmes") == [
            (f'[["{P2}", "2024-04-01", "2024-07-31"], ["{P4}", "2024-08-01", "2024-11-30"]]',)
        ]


GRID = [
    ["programme", "ref", "title", P2, "2024/25 p4"],
    ["trust", "CA1", "Early help", "Amber", "Green"],
    ["trust", "CA2", "Education", "Green", ""],
]


def test_a_history_grid_headed_by_the_programme_s_periods_is_recorded(system: System, tmp_path: Path) -> None:
    # The periods defined in the same file, then a later grid against the ledger's.
    files = {"programmes": FILES["programmes"], "periods": FILES["periods"], "history": GRID}
    result = import_file(system.ledger, write(tmp_path / "grid", files), actor="pm")
    assert result.problems == [], result.problems
    later = [["programme", "ref", "2024/25 P2", P4], ["trust", "CA2", "Green", "Red"]]
    result = import_file(system.ledger, write(tmp_path / "later", {"history": later}), actor="pm")
    assert result.problems == [], result.problems
    sql = "SELECT ref, period, previous_period, status FROM status_history ORDER BY 1, period_start"
    assert read(system, sql) == [
        ("CA1", P2, "", "Amber"), ("CA1", P4, P2, "Green"), ("CA2", P2, "", "Green"), ("CA2", P4, P2, "Red"),
    ]


def test_a_grid_header_no_programme_defines_is_refused_on_the_header_row(
    system: System, tmp_path: Path
) -> None:
    grid = [[*GRID[0], "2024/25 P9"], [*GRID[1], ""], [*GRID[2], "Red"]]
    files = {"programmes": FILES["programmes"], "periods": FILES["periods"], "history": grid}
    result = import_file(system.ledger, write(tmp_path / "grid", files), actor="pm")
    assert [(p.file, p.row, p.column) for p in result.problems] == [("history.csv", 1, "2024/25 P9")]
    assert "'2024/25 P9' is not a period" in result.problems[0].message
    assert system.ledger.get_log_position() == 0


def test_exported_history_grid_holds_the_programme_s_periods_and_imports_back(
    system: System, tmp_path: Path
) -> None:
    imported(system, tmp_path)
    export(system, tmp_path / "out")
    with (tmp_path / "out" / "history.csv").open(encoding="utf-8-sig") as handle:
        header, *rows = csv.reader(handle)
    assert header[-2:] == [P2, P4]
    assert [row[1:3] + row[-2:] for row in rows] == [["CA1", "Early help", "Amber", "Green"],
                                                     ["CA2", "Education", "Green", "Red"]]
    (tmp_path / "out" / "statuses.csv").unlink()  # the grid alone carries the history
    with open_system(tmp_path / "fresh") as fresh:
        assert import_file(fresh.ledger, tmp_path / "out", actor="pm").problems == []
        sql = "SELECT ref, period, previous_period, status FROM status_history ORDER BY 1, period_start"
        assert read(fresh, sql) == read(system, sql)
