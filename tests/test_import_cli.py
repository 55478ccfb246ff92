"""`govledger import`: a summary and exit 0, or every problem, "Nothing was recorded."
and exit 1; never a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from import_bombs import bomb_workbook

from govledger.commands.transfer import export_command, import_command
from govledger.demo.load import SEED_DIR as SEED  # the demo's own seed CSVs
from ledger.application import open_ledger


@pytest.fixture(autouse=True)
def _sqlite_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(import_command, list(args), obj={"data_dir": data_dir})


def log_position(data_dir: Path) -> int:
    ledger = open_ledger(data_dir)
    try:
        return ledger.get_log_position()
    finally:
        ledger.close()


def bad_seed(tmp_path: Path) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    for path in SEED.glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    statuses = folder / "statuses.csv"
    lines = statuses.read_text(encoding="utf-8").split("\n")
    lines[5] = lines[5].replace(",Green,", ",Purple,", 1)  # row 6 as Excel numbers it
    statuses.write_text("\n".join(lines), encoding="utf-8")
    return folder


def test_import_records_then_finds_nothing_new(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = run(data, str(SEED), "--as", "alice")
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Recorded ")
    assert "(programmes: 3, items: " in first.output and "statuses: " in first.output
    again = run(data, str(SEED))
    assert again.exit_code == 0
    assert again.output.strip() == "Nothing new to record."

    ledger = open_ledger(data)
    try:
        rating = ledger.get_item("cheshire-east-plan-2024-25", "A1.1.1")["ratings"]["2024/25 Q1"]
        assert rating["actor"] == "alice"
    finally:
        ledger.close()


def test_problems_are_listed_and_nothing_is_recorded(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run(data, str(bad_seed(tmp_path)))
    assert result.exit_code == 1
    assert "statuses.csv row 6, column status: 'Purple' is not a status on the RAG scale" in result.output
    assert result.output.rstrip().endswith("1 problem. Nothing was recorded.")
    assert "Traceback" not in result.output
    assert log_position(data) == 0


def test_a_non_workbook_is_refused_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "plan.xlsx").write_text("not a workbook")
    result = run(tmp_path / "data", str(tmp_path / "plan.xlsx"))
    assert result.exit_code == 1
    assert "plan.xlsx: is not an Excel workbook (.xlsx)" in result.output
    assert "Nothing was recorded." in result.output
    assert "Traceback" not in result.output


def test_a_dry_run_lists_changed_rows_and_records_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, str(SEED)).exit_code == 0
    position = log_position(data)
    changed = tmp_path / "changed"
    changed.mkdir()
    for path in SEED.glob("*.csv"):
        (changed / path.name).write_bytes(path.read_bytes())
    items = changed / "items.csv"
    items.write_text(items.read_text(encoding="utf-8").replace(
        "An open and enabling organisation", "An open and enabling council"), encoding="utf-8")

    result = run(data, str(changed), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "items.csv row 3: changed (Retitled)" in result.output
    assert "items: 1 changed, 98 unchanged rows" in result.output
    assert result.output.rstrip().endswith(
        "Dry run: would record 1 event (items: 1). Nothing was recorded."
    )
    assert log_position(data) == position


def test_verbose_lists_every_row(tmp_path: Path) -> None:
    result = run(tmp_path / "data", str(SEED), "--dry-run", "-v")
    assert "programmes.csv row 2: new (Registered)" in result.output


def test_the_group_context_object_is_understood(tmp_path: Path) -> None:
    """The govledger group passes a LedgerContext with .data_dir, not a dict."""

    @dataclass(frozen=True)
    class LedgerContext:
        data_dir: Path

    @click.group()
    @click.pass_context
    def main(ctx: click.Context) -> None:
        ctx.obj = LedgerContext(tmp_path / "data")

    main.add_command(import_command)
    main.add_command(export_command)
    result = CliRunner().invoke(main, ["import", str(SEED)])
    assert result.exit_code == 0, result.output
    assert log_position(tmp_path / "data") > 0
    exported = CliRunner().invoke(main, ["export", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output


def test_import_help() -> None:
    result = CliRunner().invoke(import_command, ["--help"])
    assert result.exit_code == 0
    for text in ("--dry-run", "--as USERNAME", "docs/import-format.md", "Exit status"):
        assert text in result.output


def test_govledger_import_refuses_a_bomb_with_exit_1(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = bomb_workbook(tmp_path / "plan.xlsx")
    result = run(data, str(path))
    assert result.exit_code == 1
    assert "plan.xlsx: is compressed far more than any real workbook" in result.output
    assert result.output.rstrip().endswith("1 problem. Nothing was recorded.")
    assert "Traceback" not in result.output
    assert log_position(data) == 0
