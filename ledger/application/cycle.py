"""Commands of the reporting cycle: leads linked to accounts, periods opened with a due
date (and extended), reminders recorded as sent."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.domain import Account, LeadDirectory, Reminder, ReportingPeriod
from ledger.errors import UnknownRef


class CycleCommands(LedgerBase):
    def _lead(self, b: Batch, username: str) -> Account:
        account = b.find(Account, Account.create_id(username))
        if account is None:
            raise UnknownRef(f"There is no account {username!r}.", field="lead_account")
        return account

    def link_lead(
        self,
        programme: str,
        ref: str,
        username: str,
        *,
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Link an item's lead to an account (an empty username unlinks it)."""
        return self._change(
            batch,
            lambda b: b.item(b.programme(programme), ref),
            lambda item, b: item.link_lead(
                self._lead(b, username) if username.strip() else None, actor=actor, reason=reason
            ),
            seen_version,
        )

    def open_period(
        self,
        programme: str,
        period: str,
        *,
        due_date: date | str,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        """Open a programme's period for updates, due on `due_date`."""
        return self._create(
            batch,
            lambda b: ReportingPeriod.open(
                programme=b.programme(programme), period=period, due_date=due_date, actor=actor, reason=reason
            ),
            lambda opened, b: (
                f"{opened.period} is already open for {b.programme(programme).name}, with updates due "
                f"{b.find(ReportingPeriod, opened.id).due_date}: extend it instead."  # type: ignore[union-attr]
            ),
        )

    def extend_period(
        self,
        programme: str,
        period: str,
        *,
        due_date: date | str,
        actor: str,
        reason: str,
        batch: Batch | None = None,
    ) -> UUID:
        """Move an open period's due date later, with a reason."""

        def load(b: Batch) -> ReportingPeriod:
            owner = b.programme(programme)
            label = owner.parse_period(period).label
            return b.existing(
                ReportingPeriod,
                ReportingPeriod.create_id(owner.id, label),
                f"{label} has not been opened for {owner.name}: open it first.",
                field="period",
            )

        return self._change(
            batch, load, lambda opened, b: opened.extend(due_date, actor=actor, reason=reason)
        )

    def record_reminder(
        self,
        programme: str,
        lead_account: str,
        *,
        day: date,
        items: list[dict[str, Any]],
        run: str,
        actor: str,
        batch: Batch | None = None,
    ) -> UUID:
        """Record that `lead_account` was reminded of `items` on `day`: once per lead,
        programme and day (a second one is refused as a duplicate)."""

        def make(b: Batch) -> Reminder:
            lead = self._lead(b, lead_account)
            return Reminder.send(
                programme=b.programme(programme),
                lead_account=lead.username,
                day=day,
                items=items,
                run=run,
                actor=actor,
            )

        return self._create(
            batch,
            make,
            lambda reminder, _: (
                f"{reminder.lead_account} was already reminded about {programme} on {reminder.day}."
            ),
        )

    def was_reminded(self, programme: str, lead_account: str, day: date) -> bool:
        """Whether a reminder is recorded for this lead, programme and day."""
        with self.batch() as b:
            return (
                b.find(Reminder, Reminder.create_id(b.programme(programme).id, lead_account, day)) is not None
            )

    def get_reporting_period(self, programme: str, period: str) -> dict[str, Any] | None:
        """An opened period's due date; None if nobody opened it."""
        with self.batch() as b:
            owner = b.programme(programme)
            label = owner.parse_period(period).label
            opened = b.find(ReportingPeriod, ReportingPeriod.create_id(owner.id, label))
        if opened is None:
            return None
        return {
            "programme": owner.slug,
            "period": opened.period,
            "due_date": opened.due_date,
            "version": opened.version,
        }

    def get_lead_directory(self) -> LeadDirectory:
        """The active accounts a free-text lead may name, read from the log's account openings."""
        opened = self.recorder.select_notifications(None, 1_000_000, topics=(Account.Opened.TOPIC,))
        accounts = []
        for notification in opened:
            account = self.repository.get(notification.originator_id)
            if account.is_active:
                accounts.append((account.username, account.display_name))
        return LeadDirectory(accounts)
