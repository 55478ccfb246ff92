"""The reporting cycle on the write side (issue 12, items 1 to 3): leads linked to
accounts, email addresses, periods opened with a due date and extended, reminders once
per lead, programme and day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.domain import Item, LeadDirectory, Reminder, ReportingPeriod
from ledger.errors import DuplicateRef, InvalidValue, ReasonRequired, UnknownRef
from ledger.transfer.importing import import_file

PLAN = "plan"


@pytest.fixture
def plan(ledger: Ledger) -> Ledger:
    ledger.register_programme(PLAN, "Council Plan", cadence="quarterly", actor="admin")
    ledger.register_item(PLAN, "A1", kind="action", title="Roads", lead_officer="Jo Bloggs", actor="admin")
    ledger.open_account("jo", display_name="Jo Bloggs", role="officer", actor="admin")
    ledger.open_account("sam", display_name="Sam Smith", role="officer", actor="admin")
    return ledger


def events_of(ledger: Ledger, aggregate_id: object) -> list[object]:
    return list(ledger.events.get(aggregate_id))  # type: ignore[arg-type]


def test_a_lead_is_linked_to_an_account_with_who_and_why(plan: Ledger) -> None:
    plan.link_lead(PLAN, "A1", "jo", actor="admin", reason="Jo leads roads")
    item = plan.get_item(PLAN, "A1")
    assert item["lead_account"] == "jo"
    assert item["lead_officer"] == "Jo Bloggs"  # the text as recorded stays
    linked = events_of(plan, item["id"])[-1]
    assert isinstance(linked, Item.LeadLinked)
    assert (linked.lead_account, linked.actor, linked.reason) == ("jo", "admin", "Jo leads roads")
    # Reassigning to the same account records nothing; another account needs a reason.
    plan.link_lead(PLAN, "A1", "jo", actor="admin", reason="again")
    assert plan.get_item(PLAN, "A1")["version"] == item["version"]
    with pytest.raises(ReasonRequired):
        plan.link_lead(PLAN, "A1", "sam", actor="admin", reason=" ")
    with pytest.raises(UnknownRef):
        plan.link_lead(PLAN, "A1", "nobody", actor="admin", reason="typo")
    plan.link_lead(PLAN, "A1", "", actor="admin", reason="Jo left")
    assert plan.get_item(PLAN, "A1")["lead_account"] == ""


def test_a_deactivated_account_cannot_lead(plan: Ledger) -> None:
    plan.deactivate_account("sam", actor="admin", reason="Left")
    with pytest.raises(InvalidValue, match="deactivated"):
        plan.link_lead(PLAN, "A1", "sam", actor="admin", reason="cover")


def test_lead_text_matches_one_account_by_name_or_username_ignoring_case_and_spaces() -> None:
    directory = LeadDirectory([("jo", "Jo Bloggs"), ("sam", "Sam Smith"), ("sam2", "Sam  Smith")])
    assert directory.match("jo bloggs") == "jo"
    assert directory.match("  JO   BLOGGS ") == "jo"
    assert directory.match("JO") == "jo"
    assert directory.match("Sam Smith") is None  # two accounts: ambiguous, no match
    assert directory.match("Jo Blogs") is None  # exact only
    assert directory.match("") is None


def test_the_import_links_leads_it_can_match_and_leaves_the_rest_as_text(
    plan: Ledger, tmp_path: Path
) -> None:
    (tmp_path / "items.csv").write_text(
        "programme,ref,kind,title,parent_ref,lead_officer,committee\n"
        "plan,A2,action,Parks,,jo bloggs,\n"
        "plan,A3,action,Libraries,,Director of Place,\n"
        "plan,A1,action,Roads,,SAM SMITH,\n"
    )
    result = import_file(plan, tmp_path / "items.csv", actor="importer")
    assert not result.problems, result.problems
    assert plan.get_item(PLAN, "A2")["lead_account"] == "jo"
    assert plan.get_item(PLAN, "A3")["lead_account"] == ""
    assert plan.get_item(PLAN, "A3")["lead_officer"] == "Director of Place"
    a1 = plan.get_item(PLAN, "A1")
    assert (a1["lead_officer"], a1["lead_account"]) == ("SAM SMITH", "sam")
    linked = events_of(plan, a1["id"])[-1]
    assert isinstance(linked, Item.LeadLinked) and linked.actor == "importer"
    assert "items.csv" in linked.reason


def test_an_email_address_is_set_validated_and_an_event(plan: Ledger) -> None:
    plan.set_email("jo", " Jo.Bloggs@Example.gov.uk ", actor="admin", reason="For reminders")
    assert plan.get_account("jo")["email"] == "Jo.Bloggs@example.gov.uk"
    with pytest.raises(InvalidValue, match="email address") as bad:
        plan.set_email("jo", "not an address", actor="admin", reason="x")
    assert bad.value.field == "email"
    with pytest.raises(ReasonRequired):
        plan.set_email("sam", "sam@example.gov.uk", actor="admin", reason="")
    assert plan.get_account("jo")["email"] == "Jo.Bloggs@example.gov.uk"


def test_a_period_is_opened_with_a_due_date_and_extended_with_a_reason(plan: Ledger) -> None:
    period_id = plan.open_period(PLAN, "2024/25 q1", due_date="2024-07-15", actor="pm")
    assert plan.get_reporting_period(PLAN, "2024/25 Q1") == {
        "programme": PLAN,
        "period": "2024/25 Q1",
        "due_date": "2024-07-15",
        "version": 1,
    }
    assert plan.get_reporting_period(PLAN, "2024/25 Q2") is None  # never opened: as before
    with pytest.raises(DuplicateRef, match="already open"):
        plan.open_period(PLAN, "2024/25 Q1", due_date="2024-07-20", actor="pm")
    with pytest.raises(ReasonRequired):
        plan.extend_period(PLAN, "2024/25 Q1", due_date="2024-07-31", actor="pm", reason="")
    with pytest.raises(InvalidValue, match="must be later"):
        plan.extend_period(PLAN, "2024/25 Q1", due_date="2024-07-01", actor="pm", reason="x")
    plan.extend_period(PLAN, "2024/25 Q1", due_date=date(2024, 7, 31), actor="pm", reason="Election")
    assert plan.get_reporting_period(PLAN, "2024/25 Q1")["due_date"] == "2024-07-31"
    extended = events_of(plan, period_id)[-1]
    assert isinstance(extended, ReportingPeriod.Extended)
    assert (extended.due_date, extended.reason, extended.actor) == ("2024-07-31", "Election", "pm")


@pytest.mark.parametrize(
    ("period", "due", "field", "message"),
    [
        ("2024/25 Q1", "15/07/2024", "due_date", "not a date"),
        ("2024/25 Q1", "", "due_date", "Enter the date"),
        ("2024/25 Q1", "2024-03-31", "due_date", "before the period starts"),
        ("2024-07", "2024-07-31", "period", "not a quarter"),
    ],
)
def test_a_bad_opening_is_refused_with_nothing_recorded(
    plan: Ledger, period: str, due: str, field: str, message: str
) -> None:
    before = plan.get_log_position()
    with pytest.raises(Exception, match=message) as refused:
        plan.open_period(PLAN, period, due_date=due, actor="pm")
    assert refused.value.field == field  # type: ignore[attr-defined]
    assert plan.get_log_position() == before


def test_a_reminder_is_recorded_once_per_lead_programme_and_day(plan: Ledger) -> None:
    items = [{"ref": "A1", "period": "2024/25 Q1", "due_date": "2024-07-15"}]
    day = date(2024, 7, 16)
    reminder_id = plan.record_reminder(
        PLAN, "jo", day=day, items=items, run="run-1", actor="govledger remind"
    )
    sent = events_of(plan, reminder_id)[0]
    assert isinstance(sent, Reminder.Sent)
    assert (sent.lead_account, sent.day, sent.items, sent.run) == ("jo", "2024-07-16", items, "run-1")
    assert plan.was_reminded(PLAN, "jo", day)
    assert not plan.was_reminded(PLAN, "jo", date(2024, 7, 17))
    with pytest.raises(DuplicateRef, match="already reminded"):
        plan.record_reminder(PLAN, "jo", day=day, items=items, run="run-2", actor="govledger remind")
    plan.record_reminder(
        PLAN, "jo", day=date(2024, 7, 17), items=items, run="run-2", actor="govledger remind"
    )
    with pytest.raises(UnknownRef):
        plan.record_reminder(PLAN, "ghost", day=day, items=items, run="run-1", actor="govledger remind")
