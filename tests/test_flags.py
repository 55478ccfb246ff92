"""Issue 13: stale and watermelon flags, from a real ledger through the read model."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.errors import ReasonRequired, UnknownRef
from projections.queries.flags import get_flags, is_stale, similarity
from projections.system import System, rebuild

PLAN = "plan"
Q1, Q2, Q3, Q4 = "2024/25 Q1", "2024/25 Q2", "2024/25 Q3", "2024/25 Q4"
TEXT = "Recruitment campaign launched; twelve posts filled and induction under way."


@pytest.fixture
def plan(system: System) -> System:
    ledger = system.ledger
    ledger.register_programme(PLAN, "Council Plan", cadence="quarterly", actor="admin")
    for ref in ("A1", "A2", "A3"):
        ledger.register_item(PLAN, ref, kind="action", title=f"Action {ref}", actor="admin")
    ledger.define_indicator(PLAN, "VAC", name="vacancy rate", unit="%", better="lower", actor="admin")
    ledger.define_indicator(PLAN, "FTE", name="staff in post", unit="FTE", better="higher", actor="admin")
    return system


def kinds(
    system: System, period: str, today: date = date(2024, 4, 1), n: int = 3
) -> list[tuple[str, str, str]]:
    found = get_flags(system.projections_db, PLAN, period, today=today, unchanged_periods=n)
    return [(f.ref, f.kind, f.why) for f in found]


def test_similarity_threshold_edges() -> None:
    assert similarity("a  b\nC", "A b c") == 100
    assert is_stale(TEXT, TEXT.replace("twelve", "twelve ") + ".")  # whitespace and a dot
    assert not is_stale(TEXT, "Campaign paused: no posts filled; budget under review.")
    assert not is_stale("", "")  # nothing written is missing, not stale


def test_stale_identical_near_identical_and_real_change(plan: System) -> None:
    ledger = plan.ledger
    for ref, later in (
        ("A1", TEXT),
        ("A2", TEXT + "!"),
        ("A3", "Campaign paused: budget frozen by Cabinet."),
    ):
        ledger.record_status(PLAN, ref, period=Q1, status="Amber", update=TEXT, mitigation="Plan", actor="jo")
        ledger.record_status(
            PLAN, ref, period=Q2, status="Amber", update=later, mitigation="Plan", actor="jo"
        )
    flags = kinds(plan, Q2)
    assert ("A1", "stale update", f"The update for {Q2} is identical to {Q1}'s.") in flags
    assert [k for r, k, _ in flags if r == "A2"] == ["stale update"]
    assert "nearly identical" in next(w for r, _, w in flags if r == "A2")
    assert not [f for f in flags if f[0] == "A3"]
    assert kinds(plan, Q1) == []  # nothing before Q1 to copy


def test_unchanged_for_n_periods(plan: System) -> None:
    for period in (Q1, Q2, Q3):
        plan.ledger.record_status(PLAN, "A1", period=period, status="Green", update=TEXT, actor="jo")
    assert (
        "A1",
        "unchanged",
        f"Rated Green with the same update for 3 periods running ({Q1} to {Q3}).",
    ) in kinds(plan, Q3)
    assert not [f for f in kinds(plan, Q2) if f[1] == "unchanged"]  # only 2 so far
    assert [f for f in kinds(plan, Q2, n=2) if f[1] == "unchanged"]  # N is a setting
    plan.ledger.record_status(PLAN, "A1", period=Q4, status="Amber", update=TEXT, mitigation="x", actor="jo")
    assert not [f for f in kinds(plan, Q4) if f[1] == "unchanged"]  # the status moved


def test_watermelon_by_indicator_both_directions(plan: System) -> None:
    ledger = plan.ledger
    ledger.link_item_indicators(PLAN, "A1", indicators=["vac"], actor="pm", reason="")
    ledger.link_item_indicators(PLAN, "A2", indicators=["FTE"], actor="pm", reason="")
    ledger.link_item_indicators(PLAN, "A3", indicators=["VAC"], actor="pm", reason="")
    for ref, value_1, value_2 in (("VAC", "12.16", "13.05"), ("FTE", "410", "402")):
        ledger.record_indicator_value(PLAN, ref, period=Q1, value=value_1, actor="pm")
        ledger.record_indicator_value(PLAN, ref, period=Q2, value=value_2, actor="pm")
    ledger.record_status(PLAN, "A1", period=Q2, status="Green", update="Fine", actor="jo")
    ledger.record_status(PLAN, "A2", period=Q2, status="Green", update="Fine", actor="jo")
    ledger.record_status(PLAN, "A3", period=Q2, status="Red", update="Bad", mitigation="m", actor="jo")
    assert kinds(plan, Q2) == [
        (
            "A1",
            "watermelon",
            "Rated Green while vacancy rate worsened from 12.16% to 13.05% (lower is better).",
        ),
        (
            "A2",
            "watermelon",
            "Rated Green while staff in post worsened from 410 FTE to 402 FTE (higher is better).",
        ),
    ]
    ledger.record_indicator_value(PLAN, "VAC", period=Q2, value="11", actor="pm", reason="Typo")
    assert [f[0] for f in kinds(plan, Q2)] == ["A2"]  # vacancy rate improved after all
    with pytest.raises(ReasonRequired):
        ledger.link_item_indicators(PLAN, "A1", indicators=[], actor="pm", reason="")
    with pytest.raises(UnknownRef):
        ledger.link_item_indicators(PLAN, "A2", indicators=["NOPE"], actor="pm", reason="x")


def test_watermelon_by_due_date_passed(plan: System) -> None:
    ledger = plan.ledger
    ledger.set_item_due_date(PLAN, "A1", due_date="31/03/2024", actor="pm")
    ledger.set_item_due_date(PLAN, "A2", due_date="2024-03-31", actor="pm")
    ledger.record_status(PLAN, "A1", period=Q1, status="Green", update="Going well", actor="jo")
    ledger.record_status(PLAN, "A2", period=Q1, status="Complete", update="Done", actor="jo")
    ledger.record_status(PLAN, "A3", period=Q1, status="Green", update="Going well", actor="jo")
    assert kinds(plan, Q1, today=date(2024, 4, 10)) == [
        ("A1", "watermelon", "Rated Green but due 31/03/2024 (10 days ago) and not complete.")
    ]
    assert kinds(plan, Q1, today=date(2024, 3, 31)) == []  # due today is not yet passed
    with pytest.raises(ReasonRequired):
        ledger.set_item_due_date(PLAN, "A1", due_date="2024-06-30", actor="pm")


def test_flags_read_the_same_after_a_rebuild(plan: System, data_dir) -> None:
    ledger = plan.ledger
    ledger.link_item_indicators(PLAN, "A1", indicators=["VAC"], actor="pm")
    ledger.link_item_indicators(PLAN, "A1", indicators=["FTE"], actor="pm", reason="Measured by staff")
    ledger.set_item_due_date(PLAN, "A1", due_date="2024-03-31", actor="pm")
    ledger.record_indicator_value(PLAN, "FTE", period=Q1, value="5", actor="pm")
    ledger.record_indicator_value(PLAN, "FTE", period=Q2, value="4", actor="pm")
    ledger.record_status(PLAN, "A1", period=Q1, status="Green", update=TEXT, actor="jo")
    ledger.record_status(PLAN, "A1", period=Q2, status="Green", update=TEXT, actor="jo")
    live = kinds(plan, Q2, today=date(2024, 7, 1))
    assert len(live) == 3
    plan.close()
    rebuild(data_dir)
    from projections.system import open_system

    again = open_system(data_dir)
    try:
        assert kinds(again, Q2, today=date(2024, 7, 1)) == live
    finally:
        again.close()


def test_rating_story_lists_the_events_in_order_with_the_category_change(plan: System) -> None:
    from projections.queries.why import get_rating_story

    ledger = plan.ledger
    ledger.record_status(PLAN, "A1", period=Q1, status="Green", update="On plan", actor="jo")
    ledger.record_status(PLAN, "A1", period=Q1, status="Green", update="On plan, mostly", actor="jo")
    ledger.record_status(
        PLAN, "A2", period=Q1, status="Amber", update="Other item", mitigation="m", actor="jo"
    )
    ledger.correct_status(
        PLAN,
        "A1",
        period=Q1,
        status="Red",
        update="Contractor failed",
        mitigation="Re-tender",
        actor="pm",
        reason="Contractor went into administration",
    )
    ledger.record_status(
        PLAN, "A1", period=Q2, status="Red", update="Later period", mitigation="m", actor="jo"
    )
    story = get_rating_story(plan.projections_db, PLAN, "A1", Q1)
    assert [(s["event_type"], s["from_status"], s["status"], s["recorded_by"]) for s in story] == [
        ("recorded", "", "Green", "jo"),
        ("recorded", "Green", "Green", "jo"),
        ("corrected", "Green", "Red", "pm"),
    ]
    assert [s["changed_category"] for s in story] == [0, 0, 1]
    assert [s["restatement"] for s in story] == [0, 0, 1]
    assert story[2]["reason"] == "Contractor went into administration"
    assert story[1]["from_update"] == "On plan"
