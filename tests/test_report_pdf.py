"""The committee report printed to PDF by a real Chromium: A4 pages, and the summary
table readable in the PDF's text (the demo data: Cheshire East Plan, Q1 2024/25)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import launch_chromium
from test_reports_support import DEMO_PLAN, Q1

from govledger.demo.load import SEED_DIR
from projections.reports import build_report, render_html
from projections.system import System, open_system

pytestmark = pytest.mark.browser

A4_POINTS = (595.3, 841.9)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[System]:
    from ledger.transfer.importing import import_file

    with open_system(tmp_path / "data") as system:
        result = import_file(system.ledger, SEED_DIR, actor="demo")
        assert not result.problems
        yield system


def print_to_pdf(html: bytes) -> bytes:
    with launch_chromium() as browser:
        page = browser.new_page()
        # Offline on purpose: a self-contained report needs no network at all.
        page.route("**/*", lambda route: route.abort())
        page.set_content(html.decode("utf-8"))
        return page.pdf(format="A4")


def test_the_committee_report_prints_to_a4_with_its_summary_table(demo: System) -> None:
    from pypdf import PdfReader

    report = build_report(demo.projections_db, DEMO_PLAN, "committee", Q1)
    pdf = PdfReader(io.BytesIO(print_to_pdf(render_html(report))))

    assert len(pdf.pages) > 3  # 66 actions with their updates run to many pages
    for page in pdf.pages:
        width, height = (float(v) for v in page.mediabox[2:])
        assert width == pytest.approx(A4_POINTS[0], abs=1.5) and height == pytest.approx(
            A4_POINTS[1], abs=1.5
        )
    first_pages = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages[:2])
    assert "Performance Report – Cheshire East Plan 2024/25, Quarter 1 2024/25" in first_pages
    # The summary table, as the published paper counts it: 48, 12, 2, 2, 2 of 66.
    for status, description, count in [
        ("Green", "On track", 48),
        ("Amber", "Mainly on track with some minor issues", 12),
        ("Red", "Off track with major issues", 2),
        ("To be added", "Measure or milestone still to be set", 2),
        ("Not yet due", "Not due this period", 2),
    ]:
        assert re.search(rf"{status} {description} {count}\b", first_pages), status
    assert re.search(r"Total 66\b", first_pages)
    everything = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert "A1.1.4" in everything and "A3.6.2" in everything  # first red action, last action


def test_a_table_that_runs_over_a_page_repeats_its_header(demo: System) -> None:
    from pypdf import PdfReader

    report = build_report(demo.projections_db, DEMO_PLAN, "committee", Q1)
    pdf = PdfReader(io.BytesIO(print_to_pdf(render_html(report))))
    texts = [" ".join(p.extract_text().split()) for p in pdf.pages]
    start = next(i for i, text in enumerate(texts) if "Appendix – Cheshire East Plan" in text)
    continued = texts[start + 1 :]
    assert len(continued) >= 3, "the appendix should run over several pages"
    for text in continued:
        # Each page goes on with the table's header row, or starts the next aim's table.
        squeezed = text.replace(" ", "")
        assert squeezed.startswith(("RefWhatwewilldoLeadofficerCommitteeQ1progressUpdate", "Aim")), text[:80]
