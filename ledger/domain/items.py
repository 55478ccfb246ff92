"""Items: anything rated or reported under a programme, and its status for each period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.domain.accounts import Account
from ledger.domain.base import LedgerAggregate, natural_id, require_reason, required_text
from ledger.domain.programmes import Programme
from ledger.domain.register import check_move, check_on_register, check_reinstate, check_retire
from ledger.errors import InvalidValue, NothingToCorrect, ReasonRequired, raise_all

ITEM_KINDS = ("vision", "aim", "priority", "action", "workstream", "core area", "objective")


def _kind(kind: str) -> str:
    kind = (kind or "").strip().lower()
    if kind not in ITEM_KINDS:
        raise InvalidValue(
            f"{kind!r} is not a kind of item: use one of {', '.join(ITEM_KINDS)}.", field="kind"
        )
    return kind


class Item(LedgerAggregate):
    """Anything rated or reported under a programme: an aim, priority, action, workstream..."""

    @staticmethod
    def create_id(programme_id: UUID, ref: str) -> UUID:
        return natural_id("item", programme_id, ref)

    @classmethod
    def register(
        cls,
        *,
        programme: Programme,
        ref: str,
        kind: str,
        title: str,
        parent_ref: str,
        lead_officer: str,
        committee: str,
        actor: str,
        reason: str = "",
    ) -> Item:
        ref = required_text(ref, "Enter a ref for the item, like A1.1.1.", "ref", InvalidValue)
        kind = _kind(kind)
        title = required_text(title, f"Enter a title for {ref}.", "title")
        return cls(
            programme_id=programme.id,
            ref=ref,
            kind=kind,
            title=title,
            parent_ref=(parent_ref or "").strip(),
            lead_officer=(lead_officer or "").strip(),
            committee=(committee or "").strip(),
            actor=actor,
            reason=(reason or "").strip(),
        )

    @event("Registered")
    def __init__(
        self,
        programme_id: UUID,
        ref: str,
        kind: str,
        title: str,
        parent_ref: str,
        lead_officer: str,
        committee: str,
        actor: str,
        reason: str,
    ) -> None:
        self.programme_id = programme_id
        self.ref = ref
        self.kind = kind
        self.title = title
        self.parent_ref = parent_ref
        self.lead_officer = lead_officer
        self.committee = committee
        # The account (username) of the lead, once linked; "" while the lead is free text.
        self.lead_account = ""
        # period label -> the rating in force: status, update, mitigation, version, actor
        self.ratings: dict[str, dict[str, Any]] = {}
        # Each time off the register: [retired from, reinstated from ("" while retired),
        # the ref it was merged into ("" if simply retired)].
        self.retirements: list[list[str]] = []
        # period label -> the note a register printed instead of a status (a footnote)
        self.notes: dict[str, str] = {}

    def retitle(self, title: str, *, actor: str, reason: str) -> None:
        title = required_text(title, f"Enter a title for {self.ref}.", "title")
        if title != self.title:
            self._retitled(title=title, actor=actor, reason=(reason or "").strip())

    @event("Retitled")
    def _retitled(self, title: str, actor: str, reason: str) -> None:
        self.title = title

    def move(self, lineage: Sequence[Item], *, actor: str, reason: str) -> bool:
        """File the item under another parent, with its own items beneath it.

        `lineage` is the new parent first, then its parent, up to the top (empty: the top
        of the programme). Reports group items by their parents, so a move changes where
        the item is reported and needs a reason. Returns False if it is already there."""
        parent = lineage[0] if lineage else None
        if (parent.id if parent else None) == (self._parent_id() if self.parent_ref else None):
            return False
        if parent is not None:
            check_move(self, lineage)
        reason = require_reason(reason, f"why {self.ref} moves")
        self._moved(parent_ref=parent.ref if parent else "", actor=actor, reason=reason)
        return True

    def change_kind(self, kind: str, *, actor: str, reason: str) -> bool:
        """Call the item another kind (an action becomes a priority, say): reports lay out
        aims and priorities as headings, so it needs a reason. False if already that kind."""
        kind = _kind(kind)
        if kind == self.kind:
            return False
        reason = require_reason(reason, f"why {self.ref} becomes {kind!r}")
        self._kind_changed(kind=kind, actor=actor, reason=reason)
        return True

    @event("KindChanged")
    def _kind_changed(self, kind: str, actor: str, reason: str) -> None:
        self.kind = kind

    def _parent_id(self) -> UUID:
        return Item.create_id(self.programme_id, self.parent_ref)

    @event("Moved")
    def _moved(self, parent_ref: str, actor: str, reason: str) -> None:
        self.parent_ref = parent_ref

    def reassign_lead(self, lead_officer: str, *, actor: str, reason: str) -> None:
        lead_officer = required_text(lead_officer, "Enter the lead officer.", "lead_officer", InvalidValue)
        if lead_officer != self.lead_officer:
            self._lead_reassigned(lead_officer=lead_officer, actor=actor, reason=(reason or "").strip())

    @event("LeadReassigned")
    def _lead_reassigned(self, lead_officer: str, actor: str, reason: str) -> None:
        self.lead_officer = lead_officer

    def link_lead(self, account: Account | None, *, actor: str, reason: str) -> bool:
        """Link the lead to an account (None unlinks it). Returns False if already so."""
        username = account.username if account is not None else ""
        if account is not None and not account.is_active:
            raise InvalidValue(
                f"{account.display_name}'s account is deactivated: link an active account.",
                field="lead_account",
            )
        if username == self.lead_account:
            return False
        reason = require_reason(reason, f"why {self.ref}'s lead changes")
        self._lead_linked(lead_account=username, actor=actor, reason=reason)
        return True

    @event("LeadLinked")
    def _lead_linked(self, lead_account: str, actor: str, reason: str) -> None:
        self.lead_account = lead_account

    def change_committee(self, committee: str, *, actor: str, reason: str) -> None:
        committee = (committee or "").strip()
        if committee != self.committee:
            self._committee_changed(committee=committee, actor=actor, reason=(reason or "").strip())

    @event("CommitteeChanged")
    def _committee_changed(self, committee: str, actor: str, reason: str) -> None:
        self.committee = committee

    def record_status(
        self,
        programme: Programme,
        *,
        period: str,
        status: str,
        update: str,
        mitigation: str,
        actor: str,
        reason: str = "",
    ) -> bool:
        """Record a status and update for a period. Returns False if it repeats what is
        already recorded (nothing to do). A different status for a period already rated
        is a re-rating, and needs a reason."""
        label = programme.parse_period(period).label
        check_on_register(self, programme, label)
        rating = programme.resolve_rating(status, allow_empty=True, period=label)
        name = rating.name if rating else ""
        update, mitigation, reason = (
            (update or "").strip(),
            (mitigation or "").strip(),
            (reason or "").strip(),
        )
        current = self.ratings.get(label)
        repeat = current is not None and (
            current["status"],
            current["update"],
            current["mitigation"],
        ) == (name, update, mitigation)

        def reason_to_rerate() -> None:
            if current and not repeat and current["status"] != name and not reason:
                raise ReasonRequired(
                    f"{self.ref} is already rated {current['status'] or 'not rated'} for {label}. "
                    f"Give a reason for re-rating it {name or 'not rated'}.",
                    field="reason",
                )

        # Every problem at once: a re-rating to Amber without mitigation or reason names both.
        raise_all(
            lambda: programme.check_mitigation(rating, mitigation, f"{self.ref} for {label}"),
            reason_to_rerate,
        )
        if repeat:
            return False
        self._status_recorded(
            period=label, status=name, update=update, mitigation=mitigation, actor=actor, reason=reason
        )
        return True

    @event("StatusRecorded")
    def _status_recorded(
        self, period: str, status: str, update: str, mitigation: str, actor: str, reason: str
    ) -> None:
        self._set_rating(period, status, update, mitigation, actor)

    def correct_status(
        self,
        programme: Programme,
        *,
        period: str,
        status: str,
        update: str,
        mitigation: str,
        actor: str,
        reason: str,
    ) -> None:
        """Put right a mistake in what was recorded for a period; needs a reason."""
        label = programme.parse_period(period).label
        current = self.ratings.get(label)
        if current is None:
            raise NothingToCorrect(
                f"Nothing has been recorded for {self.ref} in {label}, so there is nothing to "
                "correct. Record a status instead.",
                field="period",
            )
        rating = programme.resolve_rating(status, allow_empty=True, period=label)
        mitigation, reason = (mitigation or "").strip(), (reason or "").strip()
        raise_all(
            lambda: programme.check_mitigation(rating, mitigation, f"{self.ref} for {label}"),
            lambda: require_reason(reason, f"what was wrong with {self.ref} for {label}"),
        )
        self._status_corrected(
            period=label,
            status=rating.name if rating else "",
            update=(update or "").strip(),
            mitigation=mitigation,
            corrects=current["version"],
            actor=actor,
            reason=reason,
        )

    @event("StatusCorrected")
    def _status_corrected(
        self,
        period: str,
        status: str,
        update: str,
        mitigation: str,
        corrects: int,
        actor: str,
        reason: str,
    ) -> None:
        self._set_rating(period, status, update, mitigation, actor)

    def _set_rating(self, period: str, status: str, update: str, mitigation: str, actor: str) -> None:
        # Runs while the event is applied, before the version moves on.
        self.ratings[period] = {
            "status": status,
            "update": update,
            "mitigation": mitigation,
            "version": self.version + 1,
            "actor": actor,
        }

    # -- off the register: retired, merged into another item, reinstated, footnotes

    @property
    def retired_from(self) -> str:
        """The period the item is retired from, "" while it is on the register."""
        return self.retirements[-1][0] if self.retirements and not self.retirements[-1][1] else ""

    @property
    def merged_into(self) -> str:
        return self.retirements[-1][2] if self.retired_from else ""

    def retire(
        self, programme: Programme, *, period: str, reason: str, actor: str, merged_into: Item | None = None
    ) -> None:
        """Take the item off the register from `period` on, or merge it into another item
        (its history stays under its own ref). Periods already rated cannot be retired."""
        label = programme.parse_period(period).label
        what = check_retire(self, programme, label, merged_into)
        reason = require_reason(reason, f"why {self.ref} is {what}")
        self._retired(
            period=label, merged_into=merged_into.ref if merged_into else "", actor=actor, reason=reason
        )

    @event("Retired")
    def _retired(self, period: str, merged_into: str, actor: str, reason: str) -> None:
        self.retirements.append([period, "", merged_into])

    def reinstate(self, programme: Programme, *, period: str, reason: str, actor: str) -> None:
        """Put a retired item back on the register from `period` on."""
        label = programme.parse_period(period).label
        check_reinstate(self, programme, label)
        reason = require_reason(reason, f"why {self.ref} is back on the register")
        self._reinstated(period=label, retired_from=self.retired_from, actor=actor, reason=reason)

    @event("Reinstated")
    def _reinstated(self, period: str, retired_from: str, actor: str, reason: str) -> None:
        self.retirements[-1][1] = period

    def note_period(
        self, programme: Programme, *, period: str, note: str, actor: str, reason: str = ""
    ) -> bool:
        """Record the note a register printed for the item instead of a status (a footnote
        such as "merged into R5"). Returns False if that note is already recorded."""
        label = programme.parse_period(period).label
        note = required_text(note, f"Enter the note for {self.ref} in {label}.", "note", InvalidValue)
        if self.notes.get(label) == note:
            return False
        self._noted(period=label, note=note, actor=actor, reason=(reason or "").strip())
        return True

    @event("Noted")
    def _noted(self, period: str, note: str, actor: str, reason: str) -> None:
        self.notes[period] = note

    # -- what an item is measured by and when it is due (issue 13: watermelon flags)

    due_date: str = ""  # ISO date; "" while none is set (attributes old logs never set)
    indicators: tuple[str, ...] = ()  # refs of the programme's indicators it is linked to

    def set_due_date(self, due_date: str, *, actor: str, reason: str) -> bool:
        """Set (or clear, with "") the date the item is due. Moving a due date needs a
        reason. Returns False if it is already so."""
        due = parse_due_date(due_date, self.ref)
        if due == self.due_date:
            return False
        if self.due_date:
            reason = require_reason(reason, f"why {self.ref}'s due date moves from {self.due_date}")
        self._due_date_set(due_date=due, actor=actor, reason=(reason or "").strip())
        return True

    @event("DueDateSet")
    def _due_date_set(self, due_date: str, actor: str, reason: str) -> None:
        self.due_date = due_date

    def link_indicators(self, refs: list[str], *, actor: str, reason: str) -> bool:
        """Link the item to exactly these indicators (the caller checks they exist).
        Changing existing links needs a reason. Returns False if already so."""
        wanted = tuple(dict.fromkeys(r.strip() for r in refs if r.strip()))
        if wanted == self.indicators:
            return False
        if self.indicators:
            reason = require_reason(reason, f"why {self.ref}'s indicators change")
        self._indicators_linked(indicators=list(wanted), actor=actor, reason=(reason or "").strip())
        return True

    @event("IndicatorsLinked")
    def _indicators_linked(self, indicators: list[str], actor: str, reason: str) -> None:
        self.indicators = tuple(indicators)


def parse_due_date(value: str | date | None, ref: str) -> str:
    """A due date as an ISO date, from ISO or the UK's day/month/year; "" for none."""
    if isinstance(value, date):
        return value.isoformat()
    text = (value or "").strip()
    if not text:
        return ""
    for form in ("%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y"):
        try:
            return datetime.strptime(text, form).date().isoformat()
        except ValueError:
            continue
    raise InvalidValue(
        f"{text!r} is not a date for {ref}'s due date: write it like 31/03/2027 or 2027-03-31.",
        field="due_date",
    )
