"""Narrative scenario tests, one per aggregate: record, re-rate, correct, hit a conflict.

Each reads like the story of a quarter, and asserts on the events the ledger holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.application import Ledger, open_ledger
from ledger.domain import Item, Programme
from ledger.errors import Conflict, ReasonRequired
from ledger.scales import FIVE_POINT

PLAN = "cheshire-east-plan-2024-25"
Q1 = "2024/25 Q1"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    app = open_ledger(tmp_path)
    yield app
    app.close()


@pytest.fixture
def plan(ledger: Ledger) -> Ledger:
    ledger.register_programme(PLAN, "Cheshire East Plan 2024/25", cadence="quarterly", actor="perf.team")
    ledger.register_item(PLAN, "Aim 1", kind="aim", title="Open", actor="perf.team")
    ledger.register_item(
        PLAN,
        "P1.1",
        kind="priority",
        title="Listen, learn and respond",
        parent_ref="Aim 1",
        actor="perf.team",
    )
    ledger.register_item(
        PLAN,
        "A1.1.1",
        kind="action",
        title="Deliver the residents survey",
        parent_ref="P1.1",
        lead_officer="Head of Communications",
        committee="CPC",
        actor="perf.team",
    )
    return ledger


def event_names(ledger: Ledger, aggregate_id: object) -> list[str]:
    return [type(e).__name__ for e in ledger.events.get(aggregate_id)]


def test_an_action_is_rated_rerated_corrected_and_a_stale_form_conflicts(plan: Ledger) -> None:
    item_id = plan.record_status(
        PLAN, "A1.1.1", period=Q1, status="Green", update="Survey live.", actor="officer.a"
    )
    seen = plan.get_item(PLAN, "A1.1.1")["version"]

    # Mid-quarter the survey slips: a re-rating needs a reason and mitigation for Amber.
    plan.record_status(
        PLAN,
        "A1.1.1",
        period=Q1,
        status="Amber",
        update="Response rate low.",
        mitigation="Extra reminders by text.",
        reason="Response rate below target",
        actor="officer.a",
        seen_version=seen,
    )
    # A colleague working from the page they opened earlier is stopped, not overwriting.
    with pytest.raises(Conflict) as conflict:
        plan.record_status(
            PLAN,
            "A1.1.1",
            period=Q1,
            status="Green",
            update="All fine.",
            actor="officer.b",
            seen_version=seen,
        )
    assert "officer.a" in str(conflict.value) and "recorded Amber" in str(conflict.value)
    assert conflict.value.changes[0].actor == "officer.a"

    # A typo is corrected by a new event that names what it corrects and why.
    plan.correct_status(
        PLAN,
        "A1.1.1",
        period=Q1,
        status="Amber",
        update="Response rate low (22%).",
        mitigation="Extra reminders by text.",
        reason="Rate was missing from the update",
        actor="officer.a",
    )
    events = list(plan.events.get(item_id))
    assert [type(e).__name__ for e in events] == [
        "Registered",
        "StatusRecorded",
        "StatusRecorded",
        "StatusCorrected",
    ]
    assert events[-1].corrects == 3 and events[-1].reason == "Rate was missing from the update"
    assert events[2].reason == "Response rate below target"
    rating = plan.get_item(PLAN, "A1.1.1")["ratings"][Q1]
    assert (rating["status"], rating["update"], rating["version"]) == ("Amber", "Response rate low (22%).", 4)


def test_repeating_the_same_update_records_nothing(plan: Ledger) -> None:
    plan.record_status(PLAN, "A1.1.1", period=Q1, status="Green", update="On track.", actor="officer.a")
    before = plan.get_log_position()
    plan.record_status(PLAN, "A1.1.1", period=Q1, status="green", update="On track. ", actor="officer.a")
    assert plan.get_log_position() == before


def test_a_second_update_for_the_same_status_needs_no_reason(plan: Ledger) -> None:
    # The covering report's longer update sits beside Appendix 1's short one.
    plan.record_status(
        PLAN, "A1.1.1", period=Q1, status="Red", update="Short.", mitigation="Plan B.", actor="a"
    )
    plan.record_status(
        PLAN, "A1.1.1", period=Q1, status="Red", update="Longer text.", mitigation="Plan B.", actor="a"
    )
    item = plan.get_item(PLAN, "A1.1.1")
    assert item["ratings"][Q1]["update"] == "Longer text."
    assert event_names(plan, item["id"]).count("StatusRecorded") == 2


def test_an_item_is_retitled_and_its_lead_reassigned_as_events(plan: Ledger) -> None:
    item_id = plan.retitle_item(
        PLAN, "A1.1.1", "Deliver the 2024 residents survey", reason="Scope clarified", actor="pm"
    )
    plan.reassign_lead(PLAN, "A1.1.1", "Director of Policy", reason="Restructure", actor="pm")
    plan.change_committee(PLAN, "A1.1.1", "E+C", reason="Moved", actor="pm")
    assert event_names(plan, item_id)[-3:] == ["Retitled", "LeadReassigned", "CommitteeChanged"]
    item = plan.get_item(PLAN, "A1.1.1")
    assert (item["title"], item["lead_officer"], item["committee"]) == (
        "Deliver the 2024 residents survey",
        "Director of Policy",
        "E+C",
    )
    with pytest.raises(Conflict):
        plan.retitle_item(PLAN, "A1.1.1", "Another title", actor="pm", seen_version=1)


def test_a_risk_is_raised_rerated_after_mitigation_closed_and_reopened(ledger: Ledger) -> None:
    ledger.register_programme("send", "Cornwall SEND inclusion", cadence="monthly", actor="pm")
    risk_id = ledger.raise_risk(
        "send",
        "R1",
        description="Workshop dates slip",
        rag_before="Red",
        mitigation="Book venues now",
        owner="WS7 lead",
        period="2026-01",
        actor="pm",
    )
    with pytest.raises(ReasonRequired):
        ledger.rerate_risk(
            "send",
            "R1",
            rag_before="Red",
            mitigation="Book venues now",
            rag_after="Amber",
            period="2026-02",
            actor="pm",
            reason="",
        )
    ledger.rerate_risk(
        "send",
        "R1",
        rag_before="Red",
        mitigation="Book venues now",
        rag_after="Amber",
        period="2026-02",
        actor="pm",
        reason="Venues booked",
    )
    with pytest.raises(Conflict):
        ledger.close_risk("send", "R1", period="2026-02", actor="other", reason="Done", seen_version=1)
    ledger.close_risk("send", "R1", period="2026-03", actor="pm", reason="Workshops held", seen_version=2)
    ledger.reopen_risk("send", "R1", period="2026-04", actor="pm", reason="New dates needed")
    ledger.correct_risk(
        "send",
        "R1",
        description="Workshop dates slip (South Glos)",
        owner="WS7 lead",
        actor="pm",
        reason="Clarify",
    )
    ledger.raise_risk(
        "send",
        "I1",
        kind="issue",
        description="Membership unconfirmed",
        rag_before="Amber",
        period="2026-01",
        actor="pm",
    )
    assert event_names(ledger, risk_id) == ["Raised", "Rerated", "Closed", "Reopened", "Corrected"]
    rerated = list(ledger.events.get(risk_id))[1]
    assert (rerated.rag_before, rerated.rag_after, rerated.reason) == ("Red", "Amber", "Venues booked")


def test_a_dependency_is_registered_reviewed_and_corrected(ledger: Ledger) -> None:
    ledger.register_programme("send", "Cornwall SEND inclusion", cadence="monthly", actor="pm")
    dep_id = ledger.register_dependency(
        "send",
        "D1",
        description="South Glos present at workshop",
        plan_agreed="no",
        confidence="Low",
        period="2026-01",
        actor="pm",
    )
    ledger.review_dependency(
        "send", "D1", plan_agreed=True, confidence="high", period="2026-02", actor="pm", seen_version=1
    )
    with pytest.raises(Conflict):
        ledger.review_dependency(
            "send", "D1", plan_agreed=False, confidence="Low", period="2026-02", actor="x", seen_version=1
        )
    ledger.correct_dependency(
        "send", "D1", description="South Glos present at first workshop", actor="pm", reason="Precision"
    )
    events = list(ledger.events.get(dep_id))
    assert [type(e).__name__ for e in events] == ["Registered", "Reviewed", "Corrected"]
    assert (events[1].plan_agreed, events[1].confidence) == ("yes", "High")


def test_an_indicator_value_is_recorded_and_a_changed_value_is_a_correction(ledger: Ledger) -> None:
    ledger.register_programme(PLAN, "Cheshire East Plan", cadence="quarterly", actor="pm")
    ind = ledger.define_indicator(PLAN, "VACANCY", name="Vacancy rate", unit="%", better="lower", actor="pm")
    ledger.record_indicator_value(PLAN, "VACANCY", period="2023/24 Q4", value="12.16%", actor="hr")
    ledger.record_indicator_value(PLAN, "VACANCY", period="2024/25 Q1", value="13.05", actor="hr")
    ledger.record_indicator_value(
        PLAN, "VACANCY", period="2024/25 Q1", value="9.1", breakdown="Place", actor="hr"
    )
    with pytest.raises(ReasonRequired):
        ledger.record_indicator_value(PLAN, "VACANCY", period="2024/25 Q1", value="13.5", actor="hr")
    ledger.record_indicator_value(
        PLAN, "VACANCY", period="2024/25 Q1", value="13.5", actor="hr", reason="Late leavers"
    )
    events = list(ledger.events.get(ind))
    assert [type(e).__name__ for e in events] == [
        "Defined",
        "ValueRecorded",
        "ValueRecorded",
        "ValueRecorded",
        "ValueCorrected",
    ]
    assert (events[-1].value, events[-1].corrects) == ("13.5", 3)
    with pytest.raises(Conflict):
        ledger.record_indicator_value(
            PLAN, "VACANCY", period="2024/25 Q2", value="1", actor="hr", seen_version=2
        )


def test_report_narrative_sections_are_written_per_period(ledger: Ledger) -> None:
    ledger.register_programme("trust", "Cheshire Children's Trust", cadence="quarterly", actor="pm")
    narrative = ledger.write_narrative(
        "trust", period="2007/08 Q3", section="achievements", text="Governance agreed.", actor="rick"
    )
    ledger.write_narrative(
        "trust", period="2007/08 Q3", section="challenges", text="Delivering the new Plan.", actor="rick"
    )
    ledger.write_narrative(
        "trust",
        period="2007/08 Q3",
        section="achievements",
        text="Governance agreed and signed off.",
        actor="rick",
        seen_version=3,
    )
    with pytest.raises(Conflict):
        ledger.write_narrative(
            "trust", period="2007/08 Q3", section="challenges", text="x", actor="other", seen_version=3
        )
    assert event_names(ledger, narrative) == ["Started", "SectionWritten", "SectionWritten", "SectionWritten"]


def test_a_five_point_scale_is_data(ledger: Ledger) -> None:
    ledger.register_programme("board", "Programme board", cadence="monthly", scale=FIVE_POINT, actor="pm")
    ledger.register_item("board", "WS1", kind="workstream", title="Charter", actor="pm")
    ledger.record_status(
        "board", "WS1", period="2026-01", status="amber-green", update="x", mitigation="y", actor="o"
    )
    assert ledger.get_item("board", "WS1")["ratings"]["2026-01"]["status"] == "Amber/Green"
    assert ledger.get_programme("board")["scale"].name == "Five-point RAG"


def test_accounts_record_who_gave_whom_access(ledger: Ledger) -> None:
    ledger.register_programme(PLAN, "Cheshire East Plan", cadence="quarterly", actor="pm")
    acc = ledger.open_account("Officer.A", display_name="Officer A", role="officer", actor="admin")
    ledger.assign_programme("officer.a", PLAN, actor="admin")
    ledger.grant_role("officer.a", "auditor", actor="admin", reason="Covering internal audit")
    ledger.revoke_role("officer.a", "auditor", actor="admin", reason="Cover ended")
    ledger.deactivate_account("officer.a", actor="admin", reason="Left the council")
    events = list(ledger.events.get(acc))
    assert [type(e).__name__ for e in events] == [
        "Opened",
        "ProgrammeAssigned",
        "RoleGranted",
        "RoleRevoked",
        "Deactivated",
    ]
    assert all(e.actor == "admin" for e in events)
    assert not any("password" in name for e in events for name in vars(e))


def test_publishing_again_needs_a_reason_and_keeps_both_editions(plan: Ledger) -> None:
    pub = plan.publish_report(
        PLAN, report="committee", period=Q1, log_position=5, content_sha256="ab" * 32, title="Q1", actor="pm"
    )
    with pytest.raises(ReasonRequired):
        plan.publish_report(
            PLAN,
            report="committee",
            period=Q1,
            log_position=9,
            content_sha256="cd" * 32,
            title="Q1",
            actor="pm",
        )
    plan.publish_report(
        PLAN,
        report="committee",
        period=Q1,
        log_position=9,
        content_sha256="cd" * 32,
        title="Q1",
        actor="pm",
        reason="Late correction to A1.1.1",
    )
    assert event_names(plan, pub) == ["Published", "Republished"]
    published = plan.get_publication(PLAN, "committee", "Q1 2024/25")
    assert published is not None
    assert (published["id"], published["period"], published["title"]) == (pub, Q1, "Q1")
    assert [(e["log_position"], e["content_sha256"]) for e in published["editions"]] == [
        (5, "ab" * 32),
        (9, "cd" * 32),
    ]
    assert plan.get_publication(PLAN, "highlight", Q1) is None


def test_an_items_status_history_is_read_once_into_the_batch(plan: Ledger) -> None:
    plan.record_status(PLAN, "A1.1.1", period=Q1, status="Green", update="Survey live.", actor="officer.a")
    plan.correct_status(
        PLAN, "A1.1.1", period=Q1, status="Green", update="Survey live online.", actor="pm", reason="Typo"
    )
    plan.retitle_item(PLAN, "A1.1.1", "Deliver the survey", actor="pm")
    item_id = Item.create_id(Programme.create_id(PLAN), "A1.1.1")
    with plan.batch() as batch:
        history = plan.get_status_history(item_id, batch)
        assert history == {Q1: [("Green", "Survey live.", ""), ("Green", "Survey live online.", "")]}
        loaded = batch.find(Item, item_id)
        assert loaded is not None and loaded.version == 4 and loaded.title == "Deliver the survey"
        # The commands that follow change the very version whose history was read.
        plan.record_status(
            PLAN, "A1.1.1", period="2024/25 Q2", status="Green", actor="officer.a", batch=batch
        )
        assert batch.find(Item, item_id) is loaded and len(loaded.pending_events) == 1
    assert plan.get_item(PLAN, "A1.1.1")["version"] == 5
    with plan.batch() as batch:
        assert plan.get_status_history(Item.create_id(Programme.create_id(PLAN), "A9"), batch) is None
        assert plan.get_status_history(Programme.create_id(PLAN), batch) is None  # not an item
        assert batch.aggregates() == []


def test_ids_are_deterministic_from_natural_keys(plan: Ledger) -> None:
    programme_id = Programme.create_id(PLAN)
    assert plan.get_item(PLAN, "a1.1.1")["id"] == Item.create_id(programme_id, "A1.1.1")
