"""Trend charts (issue 13, item 5): counts per status over the last periods, and each
indicator's direction of travel, drawn as SVG by projections.reports.charts for the
committee report and the dashboard; the numbers are rag_summary's, a table of them sits
beside the chart, and the report's bytes stay the same for the same log position."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_reports_support import PLAN, Q1, record_plan

from ledger.periods import Period
from projections.reports import build_report, charts, render_html
from projections.system import System, open_system

Q2, Q3 = "2024/25 Q2", "2024/25 Q3"
SEGMENT = re.compile(r'<g data-period="([^"]+)" data-status="([^"]+)" data-count="(\d+)">')


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    with open_system(tmp_path / "data") as opened:
        record_plan(opened.ledger)
        rate = opened.ledger.record_status
        rate(PLAN, "A1.1.1", period=Q2, status="Amber", update="Slipped.", mitigation="Catch up.", actor="o")
        rate(PLAN, "A1.2.1", period=Q2, status="Green", update="Savings found.", actor="o")
        rate(PLAN, "A1.1.2", period=Q3, status="Complete", update="Done.", actor="o")
        yield opened


def rag_summary(system: System, period: str) -> dict[str, int]:
    with sqlite3.connect(system.projections_db) as conn:
        found = conn.execute(
            "SELECT status, count FROM rag_summary WHERE programme = ? AND period = ? AND count > 0",
            (PLAN, period),
        ).fetchall()
    return dict(found)


def drawn(svg: str) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for period, status, count in SEGMENT.findall(svg):
        counts.setdefault(period, {})[status] = int(count)
    return counts


def test_the_charts_numbers_are_rag_summarys(system: System) -> None:
    report = build_report(system.projections_db, PLAN, "committee", Q3)
    assert [p.period for p in report.trend] == [Q1, Q2, Q3]
    svg = str(charts.status_trend_svg(report.trend))
    assert drawn(svg) == {p: rag_summary(system, p) for p in (Q1, Q2, Q3)}
    assert drawn(svg)[Q2] == {"Green": 1, "Amber": 1}  # by hand: the two Q2 ratings


def test_the_committee_report_has_the_chart_and_a_table_of_the_same_numbers(system: System) -> None:
    html = render_html(build_report(system.projections_db, PLAN, "committee", Q3)).decode()
    section = html[html.index('<section class="section" id="trend">') :]
    section = section[: section.index("</section>")]
    assert 'role="img"' in section and "<title" in section and "<desc" in section
    table = section[section.index("<table") :]
    rows = {
        m[1]: [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', m[2])]
        for m in re.finditer(r'<tr(?: class="total")?><th scope="row">([^<]+)</th>(.*?)</tr>', table)
    }
    expected = {p: rag_summary(system, p) for p in (Q1, Q2, Q3)}
    for status, counts in rows.items():
        if status != "Total":
            assert counts == [expected[p].get(status, 0) for p in (Q1, Q2, Q3)], status
    assert rows["Total"] == [sum(expected[p].values()) for p in (Q1, Q2, Q3)]
    # Other reports carry no trend.
    assert build_report(system.projections_db, PLAN, "highlight", Q3).trend == ()


def test_the_trend_shows_at_most_eight_rated_periods_ending_with_the_reports(tmp_path: Path) -> None:
    with open_system(tmp_path / "data") as system:
        record_plan(system.ledger)
        period = Period.parse(Q1, "quarterly")
        labels = []
        for _ in range(10):
            period = period.next()
            labels.append(period.label)
            system.ledger.record_status(PLAN, "A1.1.1", period=period.label, status="Green", actor="o")
        report = build_report(system.projections_db, PLAN, "committee", labels[-2])
        assert [p.period for p in report.trend] == labels[1:9]
        # A period with indicators but no ratings (2023/24 Q4) is not a column.
        early = build_report(system.projections_db, PLAN, "committee", Q1)
        assert [p.period for p in early.trend] == [Q1]


def test_each_indicator_has_a_direction_of_travel_chart(system: System) -> None:
    report = build_report(system.projections_db, PLAN, "committee", Q1)
    vacancy = next(i for i in report.indicator_trends if i.ref == "VACANCY" and not i.breakdown)
    assert vacancy.points == (("2023/24 Q4", "12.16"), (Q1, "13.05"))
    assert charts.direction(vacancy) == "worse"  # lower is better, and it rose
    svg = str(charts.indicator_svg(vacancy, "v"))
    assert 'stroke="#d4351c" stroke-width="3"' in svg  # the latest step, in red
    assert "2023/24 Q4: 12.16%; 2024/25 Q1: 13.05%" in svg
    html = render_html(report).decode()
    assert html.count('<figure class="chart">') == 1 + len(report.indicator_trends)


def test_the_committee_report_with_charts_is_the_same_bytes_every_time(system: System) -> None:
    first = render_html(build_report(system.projections_db, PLAN, "committee", Q3))
    second = render_html(build_report(system.projections_db, PLAN, "committee", Q3))
    assert first == second
    png = charts.svg_to_png(
        str(charts.status_trend_svg(build_report(system.projections_db, PLAN, "committee", Q3).trend))
    )
    assert png.startswith(b"\x89PNG") and png == charts.svg_to_png(
        str(charts.status_trend_svg(build_report(system.projections_db, PLAN, "committee", Q3).trend))
    )


def test_a_status_without_a_colour_of_its_own_is_drawn_in_its_bands() -> None:
    assert charts.fill("", "amber") == "#f47738"
    assert charts.fill("#123456", "amber") == "#123456"
    assert charts.fill(None, "no such band") == charts.BAND_FILLS["unrated"]
