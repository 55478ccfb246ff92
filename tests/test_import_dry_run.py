"""Issue 11 item 9: `govledger import --dry-run` on a council's workbook says what an
onboarding needs to know, and records nothing: the statuses not on the programme's scale
with every cell using each (so the scale can be defined first), the periods it covers,
and what would be new, changed or restated."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner, Result
from test_import_cli import _sqlite_event_store, log_position  # noqa: F401  (the SQLite store, as there)

from govledger.cli import main

PROGRAMMES = [
    ["programme", "name", "cadence", "scale", "requires_mitigation", "description", "contact_name",
     "contact_phone", "contact_email"],
    ["outcomes-plan", "Council outcomes", "quarterly", "outcomes", "no", "", "", "", ""],
]
SCALE = [
    ["scale", "name", "status", "category", "colour", "aliases", "needs_mitigation", "group"],
    ["outcomes", "Outcomes", "Achieved", "on track", "#00703c", "Met", "no", ""],
    ["outcomes", "Outcomes", "Partly achieved", "minor issues", "#ffdd00", "PA", "no", ""],
    ["outcomes", "Outcomes", "Not achieved", "major issues", "#d4351c", "", "no", ""],
]
GRID = [  # as a council prints it: a column per quarter, its own words
    ["programme", "ref", "title", "22/23 Q1", "22/23 Q2", "22/23 Q3"],
    ["outcomes-plan", "O1", "Recycling rate", "Achieved", "Achieved", "Partly achieved"],
    ["outcomes-plan", "O2", "Pothole repairs", "Carried forward", "Not achieved", ""],
    ["outcomes-plan", "O3", "Library visits", "Carried forward", "", "On hold"],
]


def workbook(path: Path, **sheets: list[list[str]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), "import", *args, "--as", "pm"])


def test_a_dry_run_lists_statuses_not_on_the_scale_with_their_cells_and_the_periods(tmp_path: Path) -> None:
    book = workbook(tmp_path / "council.xlsx", scales=SCALE, programmes=PROGRAMMES, history=GRID)
    result = run(tmp_path / "data", str(book), "--dry-run")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    start = lines.index("Statuses not on the programme's scale (define them in scales.csv first):")
    assert lines[start + 1:start + 3] == [
        "  outcomes-plan: 'Carried forward' in 2 cells: council.xlsx, sheet history, row 3, column 22/23 Q1, "
        "council.xlsx, sheet history, row 4, column 22/23 Q1",
        "  outcomes-plan: 'On hold' in 1 cell: council.xlsx, sheet history, row 4, column 22/23 Q3",
    ]
    assert "Periods for outcomes-plan (3): 2022/23 Q1, 2022/23 Q2, 2022/23 Q3" in lines
    # The rows that passed would be new: the scale, the programme and O1.
    assert [line for line in lines if line.startswith("Would be")] == [
        "Would be new in scales: 1 (outcomes)", "Would be new in programmes: 1 (outcomes-plan)",
        "Would be new in history: 1 (O1)",
    ]
    assert log_position(tmp_path / "data") == 0


def test_a_dry_run_says_what_would_be_new_changed_or_restated(tmp_path: Path) -> None:
    data = tmp_path / "data"
    known = [GRID[0], GRID[1], ["outcomes-plan", "O2", "Pothole repairs", "", "Not achieved", ""]]
    first = workbook(tmp_path / "q3.xlsx", scales=SCALE, programmes=PROGRAMMES, history=known)
    assert run(data, str(first)).exit_code == 0
    before = log_position(data)
    later = [
        ["programme", "ref", "title", "22/23 Q3", "22/23 Q4"],
        ["outcomes-plan", "O1", "Recycling rate", "Achieved", "Achieved"],  # Q3 restated
        ["outcomes-plan", "O2", "Pothole repairs", "", "PA"],
        ["outcomes-plan", "O4", "Council tax collected", "Met", "Met"],  # a new item
    ]
    second = workbook(tmp_path / "q4.xlsx", history=later)
    result = run(data, str(second), "--dry-run", "--restate-reason", "Audit")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Periods for outcomes-plan (2): 2022/23 Q3, 2022/23 Q4" in lines
    assert "Would be new in history: 1 (O4)" in lines
    assert "Would be changed in history: 2 (O1, O2)" in lines
    assert lines[lines.index("Would restate 1 period already recorded:") + 1] == (
        "  outcomes-plan O1 2022/23 Q3: Partly achieved -> Achieved"
    )
    assert log_position(data) == before  # a dry run records nothing

    refused = run(data, str(second), "--dry-run")  # without a reason the restatement is refused,
    assert refused.exit_code == 1  # and the dry run still says what it would restate
    assert "q4.xlsx, sheet history, row 2, column 22/23 Q3" in refused.output
    assert "  outcomes-plan O1 2022/23 Q3: Partly achieved -> Achieved" in refused.output.splitlines()
