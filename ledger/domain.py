"""The domain model: aggregates are nouns, events are past tense.

Every event records who (`actor`) and why (`reason`, required for corrections and
re-ratings); eventsourcing stamps each event with its recorded time (`timestamp`), and
period events carry the valid time (`period`, a canonical label such as "2024/25 Q1").
Nothing is ever edited: a correction is a new event naming the version it corrects.

Ids are deterministic (uuid5 of a natural key such as programme + ref), so a duplicate
ref can never become a second aggregate.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.errors import (
    EmptyTitle,
    InvalidValue,
    MitigationRequired,
    NothingToCorrect,
    ReasonRequired,
    UnknownStatus,
)
from ledger.periods import Cadence, Period
from ledger.scales import Category, Scale, Status

NAMESPACE = UUID("0f6f3c2e-7a43-4f0e-9d5c-3b1f2a9e8c71")

ITEM_KINDS = ("vision", "aim", "priority", "action", "workstream", "core area", "objective")
RISK_KINDS = ("risk", "issue")
CONFIDENCE_LEVELS = ("High", "Medium", "Low")
BETTER_DIRECTIONS = ("higher", "lower", "neither")
CONTACT_FIELDS = ("name", "phone", "email")
ROLES = ("officer", "programme manager", "auditor", "analyst", "administrator")

# Report narrative sections, in report order, with the headings the seed reports use.
NARRATIVE_SECTIONS: dict[str, str] = {
    "summary": "Summary",
    "achievements": "Recent achievements",
    "current_activity": "Current activity",
    "accomplished": "Accomplished against plan since the last report",
    "not_accomplished": "Not accomplished against plan since the last report, and why",
    "planned_next": "Planned deliverables for next period",
    "challenges": "Future challenges",
    "partnership_issues": "Issues for the wider partnership",
}


def natural_id(*parts: object) -> UUID:
    """A deterministic id from a natural key; refs compare without regard to case."""
    return uuid5(NAMESPACE, "/".join(str(p).strip().casefold() for p in parts))


def _required_text(value: str, message: str, field: str, error: type = EmptyTitle) -> str:
    text = (value or "").strip()
    if not text:
        raise error(message, field=field)
    return text


def _require_reason(reason: str, what: str) -> str:
    return _required_text(reason, f"Give a reason: {what}.", "reason", ReasonRequired)


def _yes_no(value: str | bool | None, field: str) -> str:
    """'yes', 'no' or '' (not stated)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = (value or "").strip().lower()
    if text in ("", "yes", "no"):
        return text
    if text in ("y", "true", "1"):
        return "yes"
    if text in ("n", "false", "0"):
        return "no"
    raise InvalidValue(f"{value!r} is not yes or no.", field=field)


def parse_number(value: str | int | float | Decimal, field: str = "value") -> str:
    """A number as canonical text (Decimal kept as text so 12.16 stays 12.16).

    Accepts thousands separators and a trailing %, as council papers write them."""
    text = str(value).strip().replace(",", "").removesuffix("%").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidValue(f"{str(value).strip()!r} is not a number.", field=field) from None
    if not number.is_finite():
        raise InvalidValue(f"{str(value).strip()!r} is not a number.", field=field)
    return str(number)


def _contact(contact: dict[str, str]) -> dict[str, str]:
    """Always the same fields, so "no contact" has one spelling and compares equal."""
    unknown = set(contact) - set(CONTACT_FIELDS)
    if unknown:
        raise InvalidValue(f"Unknown contact field(s): {', '.join(sorted(unknown))}.", field="contact")
    return {k: (contact.get(k) or "").strip() for k in CONTACT_FIELDS}


_scales: dict[str, Scale] = {}


def _scale_from(data: dict[str, Any]) -> Scale:
    """Scales are immutable values: build each distinct one once, not on every command."""
    key = repr(data)
    if key not in _scales:
        _scales[key] = Scale.from_dict(data)
    return _scales[key]


class Programme(Aggregate):
    """A plan, partnership or board that reports on a cadence with its own status scale."""

    @staticmethod
    def create_id(slug: str) -> UUID:
        return natural_id("programme", slug)

    @classmethod
    def register(
        cls,
        *,
        slug: str,
        name: str,
        cadence: str,
        scale: Scale,
        requires_mitigation: bool,
        description: str,
        contact: dict[str, str],
        actor: str,
    ) -> Programme:
        slug = _required_text(slug, "Enter a short id for the programme.", "programme")
        if not all(c.isalnum() or c in "-_" for c in slug):
            raise InvalidValue(
                f"{slug!r} is not a valid programme id: use letters, digits and hyphens.",
                field="programme",
            )
        name = _required_text(name, "Enter the programme's name.", "name")
        return cls(
            slug=slug,
            name=name,
            cadence=Cadence.parse(cadence).value,
            scale=scale.to_dict(),
            requires_mitigation=requires_mitigation,
            description=(description or "").strip(),
            contact=_contact(contact),
            actor=actor,
            reason="",
        )

    @event("Registered")
    def __init__(
        self,
        slug: str,
        name: str,
        cadence: str,
        scale: dict[str, Any],
        requires_mitigation: bool,
        description: str,
        contact: dict[str, str],
        actor: str,
        reason: str,
    ) -> None:
        self.slug = slug
        self.name = name
        self.cadence = cadence
        self.scale_data = scale
        self.requires_mitigation = requires_mitigation
        self.description = description
        self.contact = contact

    @property
    def scale(self) -> Scale:
        return _scale_from(self.scale_data)

    def parse_period(self, text: str) -> Period:
        return Period.parse(text, self.cadence)

    def rename(self, name: str, *, actor: str, reason: str) -> None:
        name = _required_text(name, "Enter the programme's name.", "name")
        if name != self.name:
            self._renamed(name=name, actor=actor, reason=(reason or "").strip())

    @event("Renamed")
    def _renamed(self, name: str, actor: str, reason: str) -> None:
        self.name = name

    def change_contact(self, contact: dict[str, str], *, actor: str, reason: str = "") -> None:
        contact = _contact(contact)
        if contact != self.contact:
            self._contact_changed(contact=contact, actor=actor, reason=(reason or "").strip())

    @event("ContactChanged")
    def _contact_changed(self, contact: dict[str, str], actor: str, reason: str) -> None:
        self.contact = contact

    def change_scale(self, scale: Scale, *, actor: str, reason: str) -> None:
        reason = _require_reason(reason, "changing a programme's status scale")
        self._scale_changed(scale=scale.to_dict(), actor=actor, reason=reason)

    @event("ScaleChanged")
    def _scale_changed(self, scale: dict[str, Any], actor: str, reason: str) -> None:
        self.scale_data = scale

    def resolve_rating(self, status: str, *, allow_empty: bool, field: str = "status") -> Status | None:
        """A status on this programme's scale, or None when empty is allowed."""
        if allow_empty and not (status or "").strip():
            return None
        try:
            return self.scale.resolve(status)
        except UnknownStatus as error:
            error.field = field
            raise

    def check_mitigation(self, status: Status | None, mitigation: str, subject: str) -> None:
        if (
            status is not None
            and status.category.is_exception
            and self.requires_mitigation
            and not (mitigation or "").strip()
        ):
            raise MitigationRequired(
                f"{subject} is rated {status.name}: describe the mitigation or corrective action in hand.",
                field="mitigation",
            )


class Item(Aggregate):
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
        ref = _required_text(ref, "Enter a ref for the item, like A1.1.1.", "ref", InvalidValue)
        kind = (kind or "").strip().lower()
        if kind not in ITEM_KINDS:
            raise InvalidValue(
                f"{kind!r} is not a kind of item: use one of {', '.join(ITEM_KINDS)}.",
                field="kind",
            )
        title = _required_text(title, f"Enter a title for {ref}.", "title")
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
        # period label -> the rating in force: status, update, mitigation, version, actor
        self.ratings: dict[str, dict[str, Any]] = {}

    def retitle(self, title: str, *, actor: str, reason: str) -> None:
        title = _required_text(title, f"Enter a title for {self.ref}.", "title")
        if title != self.title:
            self._retitled(title=title, actor=actor, reason=(reason or "").strip())

    @event("Retitled")
    def _retitled(self, title: str, actor: str, reason: str) -> None:
        self.title = title

    def reassign_lead(self, lead_officer: str, *, actor: str, reason: str) -> None:
        lead_officer = _required_text(lead_officer, "Enter the lead officer.", "lead_officer", InvalidValue)
        if lead_officer != self.lead_officer:
            self._lead_reassigned(lead_officer=lead_officer, actor=actor, reason=(reason or "").strip())

    @event("LeadReassigned")
    def _lead_reassigned(self, lead_officer: str, actor: str, reason: str) -> None:
        self.lead_officer = lead_officer

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
        rating = programme.resolve_rating(status, allow_empty=True)
        name = rating.name if rating else ""
        update, mitigation, reason = (
            (update or "").strip(),
            (mitigation or "").strip(),
            (reason or "").strip(),
        )
        programme.check_mitigation(rating, mitigation, f"{self.ref} for {label}")
        current = self.ratings.get(label)
        if current and (current["status"], current["update"], current["mitigation"]) == (
            name,
            update,
            mitigation,
        ):
            return False
        if current and current["status"] != name and not reason:
            raise ReasonRequired(
                f"{self.ref} is already rated {current['status'] or 'not rated'} for {label}. "
                f"Give a reason for re-rating it {name or 'not rated'}.",
                field="reason",
            )
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
        rating = programme.resolve_rating(status, allow_empty=True)
        mitigation = (mitigation or "").strip()
        programme.check_mitigation(rating, mitigation, f"{self.ref} for {label}")
        reason = _require_reason(reason, f"what was wrong with {self.ref} for {label}")
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


class Risk(Aggregate):
    """A risk or an issue: RAG before mitigation, the plan, and the re-rated RAG after it."""

    @staticmethod
    def create_id(programme_id: UUID, kind: str, ref: str) -> UUID:
        return natural_id("risk", programme_id, kind, ref)

    @classmethod
    def raise_(
        cls,
        programme: Programme,
        *,
        kind: str,
        ref: str,
        description: str,
        rag_before: str,
        mitigation: str,
        rag_after: str,
        owner: str,
        period: str,
        actor: str,
        reason: str = "",
    ) -> Risk:
        kind = (kind or "").strip().lower()
        if kind not in RISK_KINDS:
            raise InvalidValue(f"{kind!r} is not risk or issue.", field="kind")
        ref = _required_text(ref, f"Enter a ref for the {kind}, like R1.", "ref", InvalidValue)
        description = _required_text(description, f"Describe the {kind}.", "description")
        before, after = _risk_rags(programme, rag_before, rag_after)
        return cls(
            programme_id=programme.id,
            kind=kind,
            ref=ref,
            description=description,
            rag_before=before,
            mitigation=(mitigation or "").strip(),
            rag_after=after,
            owner=(owner or "").strip(),
            period=programme.parse_period(period).label,
            actor=actor,
            reason=(reason or "").strip(),
        )

    @event("Raised")
    def __init__(
        self,
        programme_id: UUID,
        kind: str,
        ref: str,
        description: str,
        rag_before: str,
        mitigation: str,
        rag_after: str,
        owner: str,
        period: str,
        actor: str,
        reason: str,
    ) -> None:
        self.programme_id = programme_id
        self.kind = kind
        self.ref = ref
        self.description = description
        self.rag_before = rag_before
        self.mitigation = mitigation
        self.rag_after = rag_after
        self.owner = owner
        self.period = period
        self.is_open = True

    def rerate(
        self,
        programme: Programme,
        *,
        rag_before: str,
        mitigation: str,
        rag_after: str,
        period: str,
        actor: str,
        reason: str,
    ) -> bool:
        before, after = _risk_rags(programme, rag_before, rag_after)
        mitigation = (mitigation or "").strip()
        label = programme.parse_period(period).label
        if (before, mitigation, after, label) == (
            self.rag_before,
            self.mitigation,
            self.rag_after,
            self.period,
        ):
            return False
        reason = _require_reason(reason, f"why {self.ref} is re-rated")
        self._rerated(
            rag_before=before,
            mitigation=mitigation,
            rag_after=after,
            period=label,
            actor=actor,
            reason=reason,
        )
        return True

    @event("Rerated")
    def _rerated(
        self, rag_before: str, mitigation: str, rag_after: str, period: str, actor: str, reason: str
    ) -> None:
        self.rag_before, self.mitigation, self.rag_after, self.period = (
            rag_before,
            mitigation,
            rag_after,
            period,
        )

    def correct(self, *, description: str, owner: str, actor: str, reason: str) -> None:
        description = _required_text(description, f"Describe the {self.kind}.", "description")
        reason = _require_reason(reason, f"what was wrong with {self.ref}")
        self._corrected(description=description, owner=(owner or "").strip(), actor=actor, reason=reason)

    @event("Corrected")
    def _corrected(self, description: str, owner: str, actor: str, reason: str) -> None:
        self.description, self.owner = description, owner

    def close(self, programme: Programme, *, period: str, actor: str, reason: str) -> None:
        if self.is_open:
            reason = _require_reason(reason, f"why {self.ref} is closed")
            self._closed(period=programme.parse_period(period).label, actor=actor, reason=reason)

    @event("Closed")
    def _closed(self, period: str, actor: str, reason: str) -> None:
        self.is_open = False

    def reopen(self, programme: Programme, *, period: str, actor: str, reason: str) -> None:
        if not self.is_open:
            reason = _require_reason(reason, f"why {self.ref} is reopened")
            self._reopened(period=programme.parse_period(period).label, actor=actor, reason=reason)

    @event("Reopened")
    def _reopened(self, period: str, actor: str, reason: str) -> None:
        self.is_open = True


def _risk_rags(programme: Programme, rag_before: str, rag_after: str) -> tuple[str, str]:
    """Risk RAGs come from the programme's rated statuses; 'after' may be left empty."""
    before = programme.resolve_rating(rag_before, allow_empty=False, field="rag_before")
    after = programme.resolve_rating(rag_after, allow_empty=True, field="rag_after")
    for status, field in ((before, "rag_before"), (after, "rag_after")):
        if status is not None and status.category is Category.UNRATED:
            raise InvalidValue(
                f"{status.name} is not a RAG rating: use one of "
                f"{', '.join(s.name for s in programme.scale.rated)}.",
                field=field,
            )
    return (before.name if before else ""), (after.name if after else "")


class Dependency(Aggregate):
    """Something the programme relies on: is a jointly agreed plan in place, how confident are we."""

    @staticmethod
    def create_id(programme_id: UUID, ref: str) -> UUID:
        return natural_id("dependency", programme_id, ref)

    @classmethod
    def register(
        cls,
        programme: Programme,
        *,
        ref: str,
        description: str,
        plan_agreed: str | bool | None,
        confidence: str,
        owner: str,
        period: str,
        actor: str,
        reason: str = "",
    ) -> Dependency:
        ref = _required_text(ref, "Enter a ref for the dependency, like D1.", "ref", InvalidValue)
        description = _required_text(description, "Describe the dependency.", "description")
        return cls(
            programme_id=programme.id,
            ref=ref,
            description=description,
            plan_agreed=_yes_no(plan_agreed, "plan_agreed"),
            confidence=_confidence(confidence),
            owner=(owner or "").strip(),
            period=programme.parse_period(period).label,
            actor=actor,
            reason=(reason or "").strip(),
        )

    @event("Registered")
    def __init__(
        self,
        programme_id: UUID,
        ref: str,
        description: str,
        plan_agreed: str,
        confidence: str,
        owner: str,
        period: str,
        actor: str,
        reason: str,
    ) -> None:
        self.programme_id = programme_id
        self.ref = ref
        self.description = description
        self.plan_agreed = plan_agreed
        self.confidence = confidence
        self.owner = owner
        self.period = period

    def review(
        self,
        programme: Programme,
        *,
        plan_agreed: str | bool | None,
        confidence: str,
        period: str,
        actor: str,
        reason: str = "",
    ) -> bool:
        agreed, level = _yes_no(plan_agreed, "plan_agreed"), _confidence(confidence)
        label = programme.parse_period(period).label
        if (agreed, level, label) == (self.plan_agreed, self.confidence, self.period):
            return False
        self._reviewed(
            plan_agreed=agreed, confidence=level, period=label, actor=actor, reason=(reason or "").strip()
        )
        return True

    @event("Reviewed")
    def _reviewed(self, plan_agreed: str, confidence: str, period: str, actor: str, reason: str) -> None:
        self.plan_agreed, self.confidence, self.period = plan_agreed, confidence, period

    def correct(self, *, description: str, owner: str, actor: str, reason: str) -> None:
        description = _required_text(description, "Describe the dependency.", "description")
        reason = _require_reason(reason, f"what was wrong with {self.ref}")
        self._corrected(description=description, owner=(owner or "").strip(), actor=actor, reason=reason)

    @event("Corrected")
    def _corrected(self, description: str, owner: str, actor: str, reason: str) -> None:
        self.description, self.owner = description, owner


def _confidence(value: str) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    for level in CONFIDENCE_LEVELS:
        if text.casefold() in (level.casefold(), level[0].casefold()):
            return level
    raise InvalidValue(
        f"{text!r} is not a confidence level: use {', '.join(CONFIDENCE_LEVELS)}.", field="confidence"
    )


class Indicator(Aggregate):
    """A measured figure per period, optionally broken down (e.g. by directorate)."""

    @staticmethod
    def create_id(programme_id: UUID, ref: str) -> UUID:
        return natural_id("indicator", programme_id, ref)

    @classmethod
    def define(
        cls,
        programme: Programme,
        *,
        ref: str,
        name: str,
        unit: str,
        better: str,
        description: str = "",
        actor: str,
        reason: str = "",
    ) -> Indicator:
        ref = _required_text(ref, "Enter a ref for the indicator, like FTE.", "ref", InvalidValue)
        name = _required_text(name, f"Enter a name for indicator {ref}.", "name")
        better = (better or "").strip().lower() or "neither"
        if better not in BETTER_DIRECTIONS:
            raise InvalidValue(
                f"{better!r} is not a direction: use {', '.join(BETTER_DIRECTIONS)}.", field="better"
            )
        return cls(
            programme_id=programme.id,
            ref=ref,
            name=name,
            unit=(unit or "").strip(),
            better=better,
            description=(description or "").strip(),
            actor=actor,
            reason=(reason or "").strip(),
        )

    @event("Defined")
    def __init__(
        self,
        programme_id: UUID,
        ref: str,
        name: str,
        unit: str,
        better: str,
        description: str,
        actor: str,
        reason: str,
    ) -> None:
        self.programme_id = programme_id
        self.ref = ref
        self.name = name
        self.unit = unit
        self.better = better
        self.description = description
        # "period|breakdown" -> {"value": str, "version": int}
        self.values: dict[str, dict[str, Any]] = {}

    def record_value(
        self,
        programme: Programme,
        *,
        period: str,
        value: str | int | float | Decimal,
        breakdown: str = "",
        actor: str,
        reason: str = "",
    ) -> bool:
        """Record a value; changing a value already recorded is a correction and needs a reason."""
        label = programme.parse_period(period).label
        number = parse_number(value)
        breakdown = (breakdown or "").strip()
        current = self.values.get(f"{label}|{breakdown}")
        if current is None:
            self._value_recorded(
                period=label, breakdown=breakdown, value=number, actor=actor, reason=(reason or "").strip()
            )
            return True
        if Decimal(current["value"]) == Decimal(number):
            return False
        reason = _require_reason(reason, f"{self.name} for {label} is already recorded as {current['value']}")
        self._value_corrected(
            period=label,
            breakdown=breakdown,
            value=number,
            corrects=current["version"],
            actor=actor,
            reason=reason,
        )
        return True

    @event("ValueRecorded")
    def _value_recorded(self, period: str, breakdown: str, value: str, actor: str, reason: str) -> None:
        self.values[f"{period}|{breakdown}"] = {"value": value, "version": self.version + 1}

    @event("ValueCorrected")
    def _value_corrected(
        self, period: str, breakdown: str, value: str, corrects: int, actor: str, reason: str
    ) -> None:
        self.values[f"{period}|{breakdown}"] = {"value": value, "version": self.version + 1}


class Narrative(Aggregate):
    """One programme's report narrative for one period: achievements, challenges..."""

    @staticmethod
    def create_id(programme_id: UUID, period: str) -> UUID:
        return natural_id("narrative", programme_id, period)

    @event("Started")
    def __init__(self, programme_id: UUID, period: str, actor: str, reason: str) -> None:
        self.programme_id = programme_id
        self.period = period
        self.sections: dict[str, str] = {}

    def write(self, *, section: str, text: str, actor: str, reason: str = "") -> bool:
        if section not in NARRATIVE_SECTIONS:
            raise InvalidValue(
                f"{section!r} is not a report section: use one of {', '.join(NARRATIVE_SECTIONS)}.",
                field="section",
            )
        text = (text or "").strip()
        if self.sections.get(section, "") == text:
            return False
        self._section_written(section=section, text=text, actor=actor, reason=(reason or "").strip())
        return True

    @event("SectionWritten")
    def _section_written(self, section: str, text: str, actor: str, reason: str) -> None:
        self.sections[section] = text


class Account(Aggregate):
    """A person's access: their role and programmes. Passwords are never in events."""

    @staticmethod
    def create_id(username: str) -> UUID:
        return natural_id("account", username)

    @classmethod
    def open(cls, *, username: str, display_name: str, role: str, actor: str, reason: str = "") -> Account:
        username = _required_text(username, "Enter a username.", "username", InvalidValue).lower()
        if not all(c.isalnum() or c in "._-@" for c in username):
            raise InvalidValue("Usernames use letters, digits, dots, hyphens and @ only.", field="username")
        return cls(
            username=username,
            display_name=_required_text(
                display_name, "Enter the person's name.", "display_name", InvalidValue
            ),
            role=_role(role),
            actor=actor,
            reason=(reason or "").strip(),
        )

    @event("Opened")
    def __init__(self, username: str, display_name: str, role: str, actor: str, reason: str) -> None:
        self.username = username
        self.display_name = display_name
        self.roles: list[str] = [role]
        self.programmes: list[str] = []
        self.is_active = True

    def grant_role(self, role: str, *, actor: str, reason: str) -> None:
        role = _role(role)
        if role not in self.roles:
            self._role_granted(role=role, actor=actor, reason=_require_reason(reason, f"granting {role}"))

    @event("RoleGranted")
    def _role_granted(self, role: str, actor: str, reason: str) -> None:
        self.roles.append(role)

    def revoke_role(self, role: str, *, actor: str, reason: str) -> None:
        role = _role(role)
        if role in self.roles:
            self._role_revoked(role=role, actor=actor, reason=_require_reason(reason, f"revoking {role}"))

    @event("RoleRevoked")
    def _role_revoked(self, role: str, actor: str, reason: str) -> None:
        self.roles.remove(role)

    def assign_programme(self, programme: Programme, *, actor: str, reason: str = "") -> None:
        if programme.slug not in self.programmes:
            self._programme_assigned(programme=programme.slug, actor=actor, reason=(reason or "").strip())

    @event("ProgrammeAssigned")
    def _programme_assigned(self, programme: str, actor: str, reason: str) -> None:
        self.programmes.append(programme)

    def unassign_programme(self, programme: Programme, *, actor: str, reason: str) -> None:
        if programme.slug in self.programmes:
            self._programme_unassigned(
                programme=programme.slug, actor=actor, reason=_require_reason(reason, "removing access")
            )

    @event("ProgrammeUnassigned")
    def _programme_unassigned(self, programme: str, actor: str, reason: str) -> None:
        self.programmes.remove(programme)

    def record_password_set(self, *, actor: str, reason: str) -> None:
        """Who set this person's password, and why. The password itself never enters the
        ledger: it is hashed in the credential store."""
        self._password_set(actor=actor, reason=_require_reason(reason, "why the password was set"))

    @event("PasswordSet")
    def _password_set(self, actor: str, reason: str) -> None:
        pass

    def deactivate(self, *, actor: str, reason: str) -> None:
        if self.is_active:
            self._deactivated(actor=actor, reason=_require_reason(reason, "deactivating an account"))

    @event("Deactivated")
    def _deactivated(self, actor: str, reason: str) -> None:
        self.is_active = False

    def reactivate(self, *, actor: str, reason: str) -> None:
        if not self.is_active:
            self._reactivated(actor=actor, reason=_require_reason(reason, "reactivating an account"))

    @event("Reactivated")
    def _reactivated(self, actor: str, reason: str) -> None:
        self.is_active = True


def _role(role: str) -> str:
    text = (role or "").strip().lower().replace("_", " ")
    if text not in ROLES:
        raise InvalidValue(f"{role!r} is not a role: use one of {', '.join(ROLES)}.", field="role")
    return text


class Publication(Aggregate):
    """A report as published: the log position it was built from and a hash of its content.

    Republishing is a new event with a reason; the earlier version stays provable."""

    @staticmethod
    def create_id(programme_id: UUID, report: str, period: str) -> UUID:
        return natural_id("publication", programme_id, report, period)

    @event("Published")
    def __init__(
        self,
        programme_id: UUID,
        report: str,
        period: str,
        log_position: int,
        content_sha256: str,
        title: str,
        actor: str,
        reason: str,
    ) -> None:
        self.programme_id = programme_id
        self.report = report
        self.period = period
        self.editions: list[dict[str, Any]] = [
            {"log_position": log_position, "content_sha256": content_sha256, "version": 1}
        ]
        self.title = title

    def republish(self, *, log_position: int, content_sha256: str, actor: str, reason: str) -> None:
        reason = _require_reason(reason, "why the report is published again")
        self._republished(
            log_position=log_position, content_sha256=content_sha256, actor=actor, reason=reason
        )

    @event("Republished")
    def _republished(self, log_position: int, content_sha256: str, actor: str, reason: str) -> None:
        self.editions.append(
            {"log_position": log_position, "content_sha256": content_sha256, "version": self.version + 1}
        )


def describe_event(event: Any) -> str:
    """A one-line description of what an event changed, for conflicts and the audit trail."""
    name = type(event).__name__
    f = vars(event)
    breakdown = f" ({f['breakdown']})" if f.get("breakdown") else ""
    if name == "StatusRecorded":
        text = f"recorded {f['status'] or 'not rated'}"
    elif name == "StatusCorrected":
        text = f"corrected to {f['status'] or 'not rated'}"
    elif name == "Retitled":
        text = f"retitled to {f['title']!r}"
    elif name == "LeadReassigned":
        text = f"lead reassigned to {f['lead_officer']}"
    elif name == "CommitteeChanged":
        text = f"committee changed to {f['committee'] or 'none'}"
    elif name == "Rerated":
        text = f"re-rated {f['rag_before']} → {f['rag_after'] or 'not re-rated'}"
    elif name == "ValueRecorded":
        text = f"value {f['value']}{breakdown}"
    elif name == "ValueCorrected":
        text = f"value corrected to {f['value']}{breakdown}"
    elif name == "SectionWritten":
        text = f"wrote {NARRATIVE_SECTIONS.get(f['section'], f['section'])}"
    elif name == "Reviewed":
        text = (
            f"reviewed: plan agreed {f['plan_agreed'] or 'not stated'}, "
            f"confidence {f['confidence'] or 'not stated'}"
        )
    else:
        text = "".join(f" {c}" if c.isupper() and i else c for i, c in enumerate(name)).lower()
    return f"{text} for {f['period']}" if f.get("period") else text
