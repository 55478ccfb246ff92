"""Issue 13, items 2 and 3 in the committee report: the flags in the appendix (judged on
the report's own date, never the clock, so the bytes stay the same), and narrative that
no longer matches the numbers: written before a re-rating, or quoting counts by status
that differ from the computed ones, naming both."""

from __future__ import annotations

import pytest

from projections.queries.narrative_checks import get_narrative_checks
from projections.reports import build_report, render_html
from projections.system import System

PLAN = "plan"
Q1, Q2 = "2024/25 Q1", "2024/25 Q2"
TEXT = "Recruitment campaign launched; twelve posts filled and induction under way."


@pytest.fixture
def plan(system: System) -> System:
    """Q1: A1 to A3 Green; Q2: A1 Green with Q1's update copied, A2 Green, A3 Amber."""
    ledger = system.ledger
    ledger.register_programme(PLAN, "Council Plan", cadence="quarterly", actor="admin")
    for ref in ("A1", "A2", "A3"):
        ledger.register_item(PLAN, ref, kind="action", title=f"Action {ref}", actor="admin")
        ledger.record_status(PLAN, ref, period=Q1, status="Green", update=f"{TEXT} {ref}", actor="jo")
    ledger.record_status(PLAN, "A1", period=Q2, status="Green", update=f"{TEXT} A1", actor="jo")
    ledger.record_status(PLAN, "A2", period=Q2, status="Green", update="Moved on to phase two.", actor="jo")
    ledger.record_status(
        PLAN, "A3", period=Q2, status="Amber", update="Late", mitigation="Extra staff", actor="jo"
    )
    return system


def checks(system: System, period: str = Q2) -> list[tuple[str, str, str]]:
    return [(c.section, c.kind, c.why) for c in get_narrative_checks(system.projections_db, PLAN, period)]


# ---------------------------------------------------------------- flags in the appendix


def test_the_appendix_lists_each_flag_in_words(plan: System) -> None:
    plan.ledger.set_item_due_date(PLAN, "A2", due_date="2024-08-31", actor="pm")
    report = build_report(plan.projections_db, PLAN, "committee", Q2)
    assert [(f.ref, f.kind) for f in report.flags] == [("A1", "stale update"), ("A2", "watermelon")]
    appendix = render_html(report).decode().split('id="appendix"')[1]
    flags = appendix.split('id="flags"')[1]
    assert f"The update for {Q2} is identical to {Q1}&#39;s." in flags
    # Judged on the period's end (30 September), not today: the bytes never depend on the clock.
    assert "Rated Green but due 31/08/2024 (30 days ago) and not complete." in flags
    assert render_html(build_report(plan.projections_db, PLAN, "committee", Q2)) == render_html(report)


def test_a_report_with_nothing_flagged_says_so(plan: System) -> None:
    html = render_html(build_report(plan.projections_db, PLAN, "committee", Q1)).decode()
    assert "No actions are flagged for Quarter 1 2024/25." in html.split('id="flags"')[1]


# ---------------------------------------------------------------- narrative against numbers


def test_a_narrative_written_before_a_re_rating_is_flagged_and_one_written_after_is_not(
    plan: System,
) -> None:
    ledger = plan.ledger
    ledger.write_narrative(PLAN, period=Q2, section="summary", text="A steady quarter.", actor="pm")
    ledger.write_narrative(PLAN, period=Q2, section="achievements", text="Phase two began.", actor="pm")
    assert checks(plan) == []
    ledger.record_status(
        PLAN, "A2", period=Q2, status="Red", update="Stopped", mitigation="Re-tender", reason="Bust",
        actor="sam",
    )
    ledger.record_status(PLAN, "A1", period=Q2, status="Green", update="Same status, new words", actor="sam")
    assert checks(plan) == [(
        "summary", "written before a re-rating",
        f"“Summary” was written before 1 later change to {Q2}'s ratings: A2 Green to Red.",
    )]  # the section naming no status is not a summary of the ratings; A1's text-only change is no re-rating
    ledger.write_narrative(PLAN, period=Q2, section="summary", text="A hard quarter.", actor="pm")
    assert checks(plan) == []


def test_counts_quoted_by_status_that_differ_are_flagged_naming_both(plan: System) -> None:
    plan.ledger.write_narrative(
        PLAN, period=Q2, section="summary", text="Green 3, Amber: 1. Of the actions, 0 are rated Red.",
        actor="pm",
    )
    assert checks(plan) == [
        ("summary", "count differs", f"“Summary” says Green 3, but 2 are rated Green for {Q2}."),
    ]
    plan.ledger.write_narrative(
        PLAN, period=Q2, section="summary", text="2 actions are Green and Amber 1.", actor="pm"
    )
    assert checks(plan) == []


def test_a_paper_listing_counts_one_a_line_is_read_line_by_line(plan: System) -> None:
    """As the demo's paper prints them ("Green – on track: 48"): a count is never read as
    the next line's status."""
    plan.ledger.write_narrative(
        PLAN, period=Q2, section="summary",
        text="Progress:\nGreen – on track: 3\nAmber – minor issues: 1\nRed – off track: 1", actor="pm",
    )
    assert [why for _, kind, why in checks(plan)] == [
        f"“Summary” says Green 3, but 2 are rated Green for {Q2}.",
        f"“Summary” says Red 1, but 0 are rated Red for {Q2}.",
    ]
