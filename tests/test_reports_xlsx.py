"""XLSX reports: a sheet per section, the same counts as the HTML, text that looks like a
formula stays text, and the same data gives the same bytes."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from test_reports_support import PLAN, Q1, record_highlight, record_partnership, record_plan

from projections.reports import build_report, render_xlsx
from projections.system import System, open_system

INJECTIONS = [
    '=HYPERLINK("http://evil.example/x","Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
]


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    with open_system(tmp_path / "data") as opened:
        yield opened


def workbook(content: bytes) -> Workbook:
    return load_workbook(io.BytesIO(content))


def test_committee_workbook_has_a_sheet_per_section_with_the_reports_counts(system: System) -> None:
    record_plan(system.ledger)
    wb = workbook(render_xlsx(build_report(system.projections_db, PLAN, "committee", Q1)))
    assert wb.sheetnames == ["Summary", "Amber", "Red", "Appendix", "Indicators", "Narrative", "About"]
    summary = [tuple(row) for row in wb["Summary"].iter_rows(min_row=2, values_only=True)]
    assert summary[:3] == [
        ("Green", "On track", 1),
        ("Amber", "Mainly on track with some minor issues", 1),
        ("Red", "Off track with major issues", 1),
    ]
    assert summary[-1] == ("Total", None, 5)
    assert [r[0] for r in wb["Red"].iter_rows(min_row=2, values_only=True)] == ["A1.2.1"]
    appendix = list(wb["Appendix"].iter_rows(min_row=2, values_only=True))
    assert appendix[0][:3] == ("Aim 1 – An open organisation", "P1.1 – Be transparent", "A1.1.1")
    assert [r[6] for r in appendix] == ["Green", "Amber", "Red", "Not yet due", "Not recorded"]
    vacancy = next(r for r in wb["Indicators"].iter_rows(min_row=2, values_only=True) if r[0] == "VACANCY")
    assert vacancy[5:] == ("12.16%", "13.05%", "+0.89 percentage points", "worse")
    assert wb["Summary"].print_title_rows == "$1:$1"  # header row repeats on printed pages


def test_highlight_and_partnership_workbooks(system: System) -> None:
    record_highlight(system.ledger)
    record_partnership(system.ledger)
    highlight = workbook(
        render_xlsx(build_report(system.projections_db, "send-programme", "highlight", "2026-01"))
    )
    assert highlight.sheetnames == ["Workstreams", "Progress", "Risks", "Issues", "Dependencies", "About"]
    assert highlight["Risks"]["A2"].value == "None recorded"
    partnership = workbook(
        render_xlsx(build_report(system.projections_db, "childrens-trust", "partnership", "2007/08 Q3"))
    )
    assert partnership.sheetnames == ["Partnership", "Narrative", "Core areas", "About"]
    assert [r[1] for r in partnership["Partnership"].iter_rows(min_row=2, values_only=True)][2:] == [
        "Rick Howell",
        "01244 603228",
        "rick.howell@example.gov.uk",
    ]


def test_text_that_looks_like_a_formula_is_written_as_text_never_as_a_formula(system: System) -> None:
    record_plan(system.ledger)
    for ref, text in zip(("A1.1.1", "A1.1.2", "A1.2.1", "A2.1.1"), INJECTIONS, strict=True):
        system.ledger.record_status(
            PLAN,
            ref,
            period=Q1,
            status="Amber",
            update=text,
            mitigation=text,
            actor="officer",
            reason="Testing formula text",
        )
    system.ledger.retitle_item(PLAN, "A2.1.2", "=1+1", actor="officer", reason="Testing formula text")
    content = render_xlsx(build_report(system.projections_db, PLAN, "committee", Q1))

    wb = workbook(content)
    cells = [cell for ws in wb for row in ws.iter_rows() for cell in row if isinstance(cell.value, str)]
    dangerous = [cell for cell in cells if cell.value.startswith(("=", "+", "-", "@"))]
    assert {cell.value for cell in dangerous} >= {*INJECTIONS, "=1+1"}
    assert all(cell.data_type == "s" for cell in dangerous)
    # And in the file itself: no formula element anywhere.
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            assert not re.search(rb"<f[ >]", archive.read(name)), name


def test_the_same_report_gives_byte_identical_workbooks_with_no_clock_inside(system: System) -> None:
    record_plan(system.ledger)
    first = render_xlsx(build_report(system.projections_db, PLAN, "committee", Q1))
    second = render_xlsx(build_report(system.projections_db, PLAN, "committee", Q1))
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    props = workbook(first).properties
    recorded = build_report(system.projections_db, PLAN, "committee", Q1).as_at.recorded_at
    assert props.modified.isoformat()[:19] == recorded[:19]  # the as-at time, not now
