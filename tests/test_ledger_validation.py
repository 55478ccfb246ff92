"""Every validation error: a message a user can act on, the field at fault, nothing recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.application import Ledger, open_ledger
from ledger.domain import yes_no
from ledger.errors import (
    DuplicateRef,
    EmptyTitle,
    InvalidPeriod,
    InvalidValue,
    LedgerError,
    MitigationRequired,
    NothingToCorrect,
    ReasonRequired,
    UnknownRef,
    UnknownStatus,
)

PLAN = "plan"
Q1 = "2024/25 Q1"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    app = open_ledger(tmp_path)
    app.register_programme(PLAN, "Council Plan", cadence="quarterly", actor="pm")
    app.register_programme(
        "relaxed", "No mitigation needed", cadence="monthly", requires_mitigation=False, actor="pm"
    )
    app.register_item(PLAN, "P1", kind="priority", title="Priority", actor="pm")
    app.register_item(PLAN, "A1", kind="action", title="Action", parent_ref="P1", actor="pm")
    app.register_item("relaxed", "WS1", kind="workstream", title="Workstream", actor="pm")
    app.record_status(PLAN, "A1", period=Q1, status="Green", update="Fine", actor="o")
    app.register_dependency(PLAN, "D1", description="Dep", period=Q1, actor="pm")
    app.define_indicator(PLAN, "FTE", name="FTE", actor="pm")
    app.raise_risk(PLAN, "R1", description="Risk", rag_before="Red", period=Q1, actor="pm")
    app.open_account("officer.y", display_name="Y", role="officer", actor="admin")
    yield app
    app.close()


CASES: list[tuple[str, type[LedgerError], str, str, Callable[[Ledger], Any]]] = [
    (
        "unknown status",
        UnknownStatus,
        "status",
        "'Purple' is not a status on the RAG scale. Use one of: Green, Amber",
        lambda app: app.record_status(PLAN, "A1", period=Q1, status="Purple", update="x", actor="o"),
    ),
    (
        "monthly period on a quarterly programme",
        InvalidPeriod,
        "period",
        "This programme reports quarterly: write it like '2024/25 Q1'",
        lambda app: app.record_status(PLAN, "A1", period="2024-05", status="Green", actor="o"),
    ),
    (
        "quarter on a monthly programme",
        InvalidPeriod,
        "period",
        "This programme reports monthly",
        lambda app: app.record_status("relaxed", "WS1", period="2024/25 Q1", status="Green", actor="o"),
    ),
    (
        "non-consecutive municipal year",
        InvalidPeriod,
        "period",
        "should be consecutive years",
        lambda app: app.record_status(PLAN, "A1", period="2024/26 Q1", status="Green", actor="o"),
    ),
    (
        "month 13",
        InvalidPeriod,
        "period",
        "is not a month",
        lambda app: app.record_status("relaxed", "WS1", period="2026-13", status="Green", actor="o"),
    ),
    (
        "empty title",
        EmptyTitle,
        "title",
        "Enter a title for A2",
        lambda app: app.register_item(PLAN, "A2", kind="action", title="  ", actor="pm"),
    ),
    (
        "empty retitle",
        EmptyTitle,
        "title",
        "Enter a title for A1",
        lambda app: app.retitle_item(PLAN, "A1", "", actor="pm"),
    ),
    (
        "unknown ref",
        UnknownRef,
        "ref",
        "Council Plan has no item 'A9'",
        lambda app: app.record_status(PLAN, "A9", period=Q1, status="Green", actor="o"),
    ),
    (
        "unknown parent ref",
        UnknownRef,
        "parent_ref",
        "Council Plan has no item 'P9'",
        lambda app: app.register_item(PLAN, "A3", kind="action", title="T", parent_ref="P9", actor="pm"),
    ),
    (
        "unknown programme",
        UnknownRef,
        "programme",
        "There is no programme 'nope'",
        lambda app: app.register_item("nope", "A3", kind="action", title="T", actor="pm"),
    ),
    (
        "duplicate ref, other case",
        DuplicateRef,
        "ref",
        "Council Plan already has an item 'a1'",
        lambda app: app.register_item(PLAN, "a1", kind="action", title="Again", actor="pm"),
    ),
    (
        "re-rating without a reason",
        ReasonRequired,
        "reason",
        "already rated Green for 2024/25 Q1. Give a reason",
        lambda app: app.record_status(PLAN, "A1", period=Q1, status="Red", mitigation="m", actor="o"),
    ),
    (
        "correction without a reason",
        ReasonRequired,
        "reason",
        "Give a reason",
        lambda app: app.correct_status(
            PLAN, "A1", period=Q1, status="Green", update="Better", actor="o", reason=" "
        ),
    ),
    (
        "correcting a period never recorded",
        NothingToCorrect,
        "period",
        "nothing to correct",
        lambda app: app.correct_status(
            PLAN, "A1", period="2024/25 Q2", status="Green", actor="o", reason="r"
        ),
    ),
    (
        "amber without mitigation",
        MitigationRequired,
        "mitigation",
        "A1 for 2024/25 Q2 is rated Amber: describe the mitigation",
        lambda app: app.record_status(PLAN, "A1", period="2024/25 Q2", status="Amber", actor="o"),
    ),
    (
        "red correction without mitigation",
        MitigationRequired,
        "mitigation",
        "rated Red",
        lambda app: app.correct_status(
            PLAN, "A1", period=Q1, status="Red", update="x", actor="o", reason="r"
        ),
    ),
    (
        "unknown kind of item",
        InvalidValue,
        "kind",
        "'spaceship' is not a kind of item",
        lambda app: app.register_item(PLAN, "X1", kind="spaceship", title="T", actor="pm"),
    ),
    (
        "risk rated with an unrated status",
        InvalidValue,
        "rag_before",
        "Complete is not a RAG rating",
        lambda app: app.raise_risk(PLAN, "R2", description="d", rag_before="Complete", period=Q1, actor="pm"),
    ),
    (
        "risk re-rated without a reason",
        ReasonRequired,
        "reason",
        "why R1 is re-rated",
        lambda app: app.rerate_risk(
            PLAN, "R1", rag_before="Red", rag_after="Amber", period=Q1, actor="pm", reason=""
        ),
    ),
    (
        "risk with an unknown RAG",
        UnknownStatus,
        "rag_after",
        "'Blue' is not a status",
        lambda app: app.rerate_risk(
            PLAN, "R1", rag_before="Red", rag_after="Blue", period=Q1, actor="pm", reason="r"
        ),
    ),
    (
        "bad confidence",
        InvalidValue,
        "confidence",
        "'Certain' is not a confidence level",
        lambda app: app.review_dependency(
            PLAN, "D1", plan_agreed="yes", confidence="Certain", period=Q1, actor="pm"
        ),
    ),
    (
        "bad plan agreed",
        InvalidValue,
        "plan_agreed",
        "'maybe' is not yes or no",
        lambda app: app.review_dependency(
            PLAN, "D1", plan_agreed="maybe", confidence="High", period=Q1, actor="pm"
        ),
    ),
    (
        "non-numeric indicator value",
        InvalidValue,
        "value",
        "'about 2,800' is not a number",
        lambda app: app.record_indicator_value(PLAN, "FTE", period=Q1, value="about 2,800", actor="hr"),
    ),
    (
        "unknown report section",
        InvalidValue,
        "section",
        "'gossip' is not a report section",
        lambda app: app.write_narrative(PLAN, period=Q1, section="gossip", text="x", actor="pm"),
    ),
    (
        "unknown cadence",
        InvalidPeriod,
        "cadence",
        "Unknown cadence 'weekly'",
        lambda app: app.register_programme("weekly", "Weekly", cadence="weekly", actor="pm"),
    ),
    (
        "unknown role",
        InvalidValue,
        "role",
        "'superuser' is not a role",
        lambda app: app.open_account("x", display_name="X", role="superuser", actor="admin"),
    ),
    (
        "role grant without a reason",
        ReasonRequired,
        "reason",
        "Give a reason: granting auditor",
        lambda app: app.grant_role("officer.y", "auditor", actor="admin", reason=""),
    ),
]


@pytest.mark.parametrize(
    ("error", "field", "message", "command"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_recorded(
    ledger: Ledger, error: type[LedgerError], field: str, message: str, command: Callable[[Ledger], Any]
) -> None:
    before = ledger.get_log_position()
    with pytest.raises(error) as raised:
        command(ledger)
    assert message in str(raised.value)
    assert raised.value.field == field
    assert ledger.get_log_position() == before


def test_a_failed_command_in_a_batch_records_nothing_from_the_batch(ledger: Ledger) -> None:
    before = ledger.get_log_position()
    with pytest.raises(UnknownStatus), ledger.batch() as batch:
        ledger.register_item(
            PLAN, "A5", kind="action", title="New", parent_ref="P1", actor="imp", batch=batch
        )
        ledger.record_status(PLAN, "A5", period=Q1, status="Green", actor="imp", batch=batch)
        ledger.record_status(PLAN, "A1", period="2024/25 Q2", status="Mauve", actor="imp", batch=batch)
    assert ledger.get_log_position() == before
    with pytest.raises(UnknownRef):
        ledger.get_item(PLAN, "A5")


@pytest.mark.parametrize(
    ("typed", "default", "expected"),
    [
        ("Y", None, "yes"),
        (" true ", None, "yes"),
        ("0", None, "no"),
        (False, None, "no"),
        ("", None, ""),  # a form left blank: not stated
        ("", True, "yes"),  # an import column left blank: the column's default
        ("  ", False, "no"),
        ("No", True, "no"),
    ],
)
def test_yes_or_no_is_read_one_way_for_forms_and_imports(
    typed: str | bool, default: bool | None, expected: str
) -> None:
    assert yes_no(typed, "plan_agreed", default) == expected


def test_anything_else_is_not_yes_or_no() -> None:
    with pytest.raises(InvalidValue) as raised:
        yes_no("maybe", "correction", False)
    assert (str(raised.value), raised.value.field) == ("'maybe' is not yes or no.", "correction")
