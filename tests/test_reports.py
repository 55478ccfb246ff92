"""Report content: what a committee, highlight and partnership report says, from a small
ledger counted by hand, and that the same data always renders to the same bytes."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_reports_support import PLAN, Q1, record_highlight, record_partnership, record_plan

from ledger.errors import UnknownRef
from projections.reports import build_report, render_html, render_xlsx
from projections.reports.model import Report
from projections.system import System, open_system


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    with open_system(tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def plan(system: System) -> Report:
    record_plan(system.ledger)
    return build_report(system.projections_db, PLAN, "committee", Q1)


def text_of(document: bytes) -> str:
    """The document's visible text, whitespace collapsed (good enough to read tables)."""
    body = re.sub(r"<style>.*?</style>", " ", document.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_the_summary_counts_every_status_in_scale_order_with_a_total(plan: Report) -> None:
    assert [(row.name, row.count) for row in plan.summary] == [
        ("Green", 1),
        ("Amber", 1),
        ("Red", 1),
        ("To be added", 0),
        ("Not yet due", 1),  # recorded as "Measure not due": one status, two spellings
        ("Complete", 0),
        ("Not recorded", 1),  # A2.1.2: nothing recorded for Q1
    ]
    assert plan.total == 5
    text = text_of(render_html(plan))
    assert "Green On track 1 Amber Mainly on track with some minor issues 1" in text
    assert "Total 5" in text


def test_amber_and_red_exceptions_list_the_action_lead_update_and_mitigation(plan: Report) -> None:
    assert [(e.ref, e.title, e.lead_officer, e.update, e.mitigation) for e in plan.exceptions("amber")] == [
        (
            "A1.1.2",
            "Train report authors",
            "Lead of A1.1.2",
            "Two sessions slipped.",
            "Extra sessions booked for November.",
        ),
    ]
    assert [e.ref for e in plan.exceptions("red")] == ["A1.2.1"]
    text = text_of(render_html(plan))
    assert (
        "A1.2.1 Deliver the savings Lead of A1.2.1 Red Savings proposals are late. "
        "Weekly board reviews each proposal." in text
    )


def test_the_appendix_groups_actions_by_aim_then_priority_with_status_as_text(plan: Report) -> None:
    outline = [
        (g.heading, [(s.heading, [(e.ref, e.status_text) for e in s.entries]) for s in g.groups])
        for g in plan.groups
    ]
    assert outline == [
        (
            "Aim 1 – An open organisation",
            [
                ("P1.1 – Be transparent", [("A1.1.1", "Green"), ("A1.1.2", "Amber")]),
                ("P1.2 – Balance the budget", [("A1.2.1", "Red")]),
            ],
        ),
        (
            "Aim 2 – A thriving place",
            [
                ("P2.1 – Reduce carbon", [("A2.1.1", "Not yet due"), ("A2.1.2", "Not recorded")]),
            ],
        ),
    ]
    html = render_html(plan)
    appendix = text_of(html[html.index(b'id="appendix"') :])
    assert "Aim 1 – An open organisation" in appendix
    assert "P1.2 – Balance the budget A1.2.1 Deliver the savings Lead of A1.2.1 CPC Red" in appendix
    # Colour is never the only signal: every status cell carries its name.
    assert b'<td class="status status-red">Red</td>' in html
    assert b'<td class="status status-none">Not recorded</td>' in html


def test_indicators_show_value_previous_change_and_direction_in_words(plan: Report) -> None:
    rows = {(i.ref, i.breakdown): i for i in plan.indicators}
    assert [i.label for i in plan.indicators] == [
        "Staff (full-time equivalent)",
        "Vacancy rate",
        "Vacancy rate – Corporate",
        "Agency staff",
    ]  # the order they were defined in, breakdowns after their overall figure
    vacancy = rows[("VACANCY", "")]
    assert (vacancy.previous, vacancy.value, vacancy.change_text, vacancy.direction) == (
        "12.16",
        "13.05",
        "+0.89 percentage points",
        "worse",
    )
    assert rows[("AGENCY", "")].direction == "better"  # fewer agency staff, and lower is better
    assert (rows[("FTE", "")].change_text, rows[("FTE", "")].direction) == ("−40 FTE", "down")
    assert rows[("VACANCY", "Corporate")].direction == "no previous figure"
    text = text_of(render_html(plan))
    assert "Vacancy rate 12.16% 13.05% +0.89 percentage points worse" in text
    assert "Staff (full-time equivalent) 2,869 2,829 −40 FTE down" in text


def test_the_committee_report_reads_like_a_committee_paper(plan: Report) -> None:
    html = render_html(plan)
    text = text_of(html)
    assert plan.title == "Performance Report – Test plan, Quarter 1 2024/25"
    assert "<title>Performance Report – Test plan, Quarter 1 2024/25</title>" in html.decode()
    assert "This report covers Quarter 1 2024/25, 1 April 2024 to 30 June 2024." in text
    assert "Most actions are on track." in text  # the narrative summary
    assert f"log position {plan.as_at.position}" in text


def test_html_is_self_contained_print_ready_and_escaped(system: System) -> None:
    record_plan(system.ledger)
    system.ledger.record_status(
        PLAN,
        "A1.1.1",
        period=Q1,
        status="Green",
        update='<script>alert("x")</script> & <b>bold</b>',
        actor="officer",
    )
    html = render_html(build_report(system.projections_db, PLAN, "committee", Q1)).decode()
    assert "@page { size: A4; margin: 18mm; }" in html
    assert "thead { display: table-header-group; }" in html  # headers repeat on every page
    assert "<thead>" in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    for external in ("<script", "<link", "<img", "src=", "href=", "url(", "@import", "http:", "https:"):
        assert external not in html, external


def test_the_same_data_renders_to_identical_bytes(system: System) -> None:
    record_plan(system.ledger)
    first = build_report(system.projections_db, PLAN, "committee", Q1)
    second = build_report(system.projections_db, PLAN, "committee", Q1)
    assert render_html(first) == render_html(second)
    assert render_xlsx(first) == render_xlsx(second)


def test_a_change_of_data_changes_the_report(system: System) -> None:
    record_plan(system.ledger)
    before = render_html(build_report(system.projections_db, PLAN, "committee", Q1))
    system.ledger.record_status(
        PLAN,
        "A1.2.1",
        period=Q1,
        status="Amber",
        update="Recovering.",
        mitigation="Board review.",
        actor="officer",
        reason="Proposals arrived",
    )
    after = build_report(system.projections_db, PLAN, "committee", Q1)
    assert render_html(after) != before
    assert [(r.name, r.count) for r in after.summary][:3] == [("Green", 1), ("Amber", 2), ("Red", 0)]


def test_a_highlight_report_has_workstreams_progress_and_empty_registers_say_none_recorded(
    system: System,
) -> None:
    record_highlight(system.ledger)
    report = build_report(system.projections_db, "send-programme", "highlight", "2026-01")
    assert [(e.ref, e.status_text, e.update) for e in report.entries] == [
        ("WS1", "Green", "Session 1 delivered."),
        ("WS12", "Not rated", "Scope being refined."),
    ]
    html = render_html(report)
    text = text_of(html)
    assert report.title == "Highlight Report – SEND inclusion programme, January 2026"
    assert "Not accomplished against plan since the last highlight report, and why" in text
    assert "<li>WS1: Charter not circulated due to meeting delays</li>" in html.decode()
    assert "Planned deliverables for next period WS1: Circulate the charter" in text
    # Risks, issues and dependencies are empty in this issue of the report, as in the seed.
    assert text.count("None recorded") == 3
    assert "Re-rated RAG after mitigation" in text
    assert "Jointly agreed plan in place Confidence" in text


def test_a_highlight_report_lists_risks_before_and_after_mitigation_and_dependencies(system: System) -> None:
    record_highlight(system.ledger)
    ledger = system.ledger
    ledger.raise_risk(
        "send-programme",
        "R1",
        description="Schools do not engage",
        rag_before="Red",
        mitigation="Head teacher briefings",
        rag_after="Amber",
        owner="Rachel D",
        period="2026-01",
        actor="lead",
    )
    ledger.raise_risk(
        "send-programme",
        "I1",
        kind="issue",
        description="Meeting dates slipped",
        rag_before="Amber",
        period="2026-01",
        actor="lead",
    )
    ledger.raise_risk(
        "send-programme",
        "R2",
        description="Raised next month",
        rag_before="Green",
        period="2026-02",
        actor="lead",
    )
    ledger.register_dependency(
        "send-programme",
        "D1",
        description="South Glos workshop dates",
        plan_agreed="yes",
        confidence="High",
        period="2026-01",
        actor="lead",
    )
    report = build_report(system.projections_db, "send-programme", "highlight", "2026-01")
    assert [(r.ref, r.rag_before, r.mitigation, r.rag_after) for r in report.risks] == [
        ("R1", "Red", "Head teacher briefings", "Amber")  # R2 belongs to a later period
    ]
    assert [(r.ref, r.rag_after) for r in report.issues] == [("I1", "")]
    assert [(d.ref, d.plan_agreed_text, d.confidence) for d in report.dependencies] == [("D1", "Yes", "High")]
    text = text_of(render_html(report))
    assert "R1 Schools do not engage Rachel D Red Head teacher briefings Amber Open" in text
    assert "I1 Meeting dates slipped Not stated Amber None recorded Not re-rated Open" in text
    assert "D1 South Glos workshop dates Not stated Yes High" in text


def test_a_partnership_report_has_contact_officer_core_areas_and_issues(system: System) -> None:
    record_partnership(system.ledger)
    report = build_report(system.projections_db, "childrens-trust", "partnership", "2007/08 Q3")
    text = text_of(render_html(report))
    assert (
        "Partnership Children's Trust Period Quarter 3 2007/08 (1 October 2007 to 31 December 2007)" in text
    )
    assert "Contact officer Rick Howell Telephone 01244 603228 Email rick.howell@example.gov.uk" in text
    assert "Recent achievements Governance documents agreed." in text
    assert (
        "(1) Child-centred, outcome-led vision Work on child-centred, outcome-led vision. "
        "(2) Integrated front line delivery" in text
    )
    assert "Future challenges Delivering the new Plan." in text
    assert "Issues for the wider partnership Sustaining momentum." in text
    assert "Not rated" not in text  # narrative-only core areas: no status column at all


def test_unknown_programmes_and_report_kinds_are_refused(system: System) -> None:
    record_plan(system.ledger)
    with pytest.raises(UnknownRef, match="no programme"):
        build_report(system.projections_db, "nope", "committee", Q1)
    with pytest.raises(UnknownRef, match="not a kind of report"):
        build_report(system.projections_db, PLAN, "gossip", Q1)
