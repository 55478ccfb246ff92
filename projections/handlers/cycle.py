"""The reporting cycle: leads linked to accounts (on items), period_openings and reminders.

Due dates are stored as recorded; how many days overdue is worked out when read (the
`due` view and projections.queries.cycle), so a replay gives the same rows any day."""

from __future__ import annotations

from ledger.domain import describe_event
from projections.handlers.support import (
    Event,
    find_record,
    find_subject,
    json_text,
    note_period,
    programme_of,
    subject_row,
)
from projections.state import Change, Handler, State


def item_lead_linked(e: Event, state: State) -> Change:
    old = find_record(state, "items", state.aggregate_id, "item")
    state.put(
        "items",
        {
            **old,
            "lead_account": e.lead_account,
            "updated_at": state.recorded_at,
            "version": e.originator_version,
        },
    )
    return Change(
        old["programme"], old["ref"], describe_event(e), "lead_account", old["lead_account"], e.lead_account
    )


def period_opened(e: Event, state: State) -> Change:
    programme = programme_of(state, e.programme_id)
    slug = programme["programme"]
    period = note_period(state, programme, e.period)
    at = state.recorded_at
    state.put(
        "period_openings",
        {
            "programme": slug,
            "period": period.label,
            "period_start": period.start,
            "due_date": e.due_date,
            "first_due_date": e.due_date,
            "opened_at": at,
            "opened_by": e.actor,
            "extensions": 0,
            "extended_reason": "",
            "updated_at": at,
            "version": e.originator_version,
        },
    )
    state.put("subjects", subject_row(e, "ReportingPeriod", slug, period.label, period=period.label))
    return Change(slug, period.label, describe_event(e), "due_date", None, e.due_date, period.label)


def period_extended(e: Event, state: State) -> Change:
    subject = find_subject(state, state.aggregate_id)
    old = state.get("period_openings", subject["programme"], subject["period"])
    if old is None:
        raise LookupError(f"No opening of {subject['period']} for {subject['programme']} in the read model")
    state.put(
        "period_openings",
        {
            **old,
            "due_date": e.due_date,
            "extensions": old["extensions"] + 1,
            "extended_reason": e.reason,
            "updated_at": state.recorded_at,
            "version": e.originator_version,
        },
    )
    return Change(
        old["programme"],
        old["period"],
        describe_event(e),
        "due_date",
        old["due_date"],
        e.due_date,
        old["period"],
    )


def reminder_sent(e: Event, state: State) -> Change:
    slug = programme_of(state, e.programme_id)["programme"]
    state.put(
        "reminders",
        {
            "programme": slug,
            "lead_account": e.lead_account,
            "day": e.day,
            "items": json_text(e.items),
            "item_count": len(e.items),
            "run": e.run,
            "sent_at": state.recorded_at,
            "sent_by": e.actor,
        },
    )
    state.put("subjects", subject_row(e, "Reminder", slug, e.lead_account))
    refs = ", ".join(f"{item['ref']} ({item['period']})" for item in e.items)
    return Change(slug, e.lead_account, describe_event(e), "items", None, refs)


HANDLERS: dict[str, Handler] = {
    "Item.LeadLinked": item_lead_linked,
    "ReportingPeriod.Opened": period_opened,
    "ReportingPeriod.Extended": period_extended,
    "Reminder.Sent": reminder_sent,
}
