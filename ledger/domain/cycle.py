"""The reporting cycle: a period opened with a due date (and extended), and the reminders
sent to leads whose updates are due or overdue."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate, natural_id, require_reason
from ledger.domain.programmes import Programme
from ledger.errors import InvalidValue


def parse_due_date(value: date | str, field: str = "due_date") -> date:
    """A due date from a date or ISO text (as a form or a command line gives it)."""
    if isinstance(value, date):
        return value
    text = (value or "").strip()
    if not text:
        raise InvalidValue("Enter the date updates are due, like 2024-07-15.", field=field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"{text!r} is not a date: write it like 2024-07-15.", field=field) from None


class ReportingPeriod(LedgerAggregate):
    """A programme's period, opened for updates with the date they are due.

    Periods nobody opened behave as they always did: they simply have no due date."""

    @staticmethod
    def create_id(programme_id: UUID, period: str) -> UUID:
        return natural_id("reporting period", programme_id, period)

    @classmethod
    def open(
        cls, *, programme: Programme, period: str, due_date: date | str, actor: str, reason: str = ""
    ) -> ReportingPeriod:
        label = programme.parse_period(period)
        due = parse_due_date(due_date)
        if due < label.start:
            raise InvalidValue(
                f"Updates for {label.label} can't be due on {due.isoformat()}, before the period "
                f"starts ({label.start.isoformat()}).",
                field="due_date",
            )
        return cls(
            programme_id=programme.id,
            period=label.label,
            due_date=due.isoformat(),
            actor=actor,
            reason=(reason or "").strip(),
        )

    @event("Opened")
    def __init__(self, programme_id: UUID, period: str, due_date: str, actor: str, reason: str) -> None:
        self.programme_id = programme_id
        self.period = period
        self.due_date = due_date

    def extend(self, due_date: date | str, *, actor: str, reason: str) -> None:
        """Move the due date later; the reason is required (a deadline moved is explained)."""
        due = parse_due_date(due_date)
        if due.isoformat() <= self.due_date:
            raise InvalidValue(
                f"Updates for {self.period} are due on {self.due_date}: an extension must be later.",
                field="due_date",
            )
        reason = require_reason(reason, f"why updates for {self.period} are due later")
        self._extended(period=self.period, due_date=due.isoformat(), actor=actor, reason=reason)

    @event("Extended")
    def _extended(self, period: str, due_date: str, actor: str, reason: str) -> None:
        self.due_date = due_date


class Reminder(LedgerAggregate):
    """One reminder sent to one lead, for one programme, on one day: its id is that key,
    so a second reminder the same day cannot be recorded. Holds who was reminded, of which
    items, by which run; never the message or anything secret."""

    @staticmethod
    def create_id(programme_id: UUID, lead_account: str, day: date | str) -> UUID:
        # The created event passes the day as stored (ISO text); callers pass a date.
        text = day.isoformat() if isinstance(day, date) else day
        return natural_id("reminder", programme_id, lead_account, text)

    @classmethod
    def send(
        cls,
        *,
        programme: Programme,
        lead_account: str,
        day: date,
        items: list[dict[str, Any]],
        run: str,
        actor: str,
    ) -> Reminder:
        if not items:
            raise InvalidValue("A reminder lists at least one item.", field="items")
        wanted = ("ref", "period", "due_date")
        listed = [{k: str(item[k]) for k in wanted} for item in items]
        return cls(
            programme_id=programme.id,
            lead_account=lead_account,
            day=day.isoformat(),
            items=listed,
            run=run,
            actor=actor,
            reason="",
        )

    @event("Sent")
    def __init__(
        self,
        programme_id: UUID,
        lead_account: str,
        day: str,
        items: list[dict[str, str]],
        run: str,
        actor: str,
        reason: str,
    ) -> None:
        self.programme_id = programme_id
        self.lead_account = lead_account
        self.day = day
        self.items = items
        self.run = run
