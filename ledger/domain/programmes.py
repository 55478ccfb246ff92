"""Programmes: a plan, partnership or board, its cadence, status scale and contact."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate, natural_id, require_reason, required_text
from ledger.errors import InvalidValue, MitigationRequired, UnknownStatus
from ledger.periods import Cadence, Calendar, Period
from ledger.scales import Scale, Status

CONTACT_FIELDS = ("name", "phone", "email")


def _contact(contact: dict[str, str]) -> dict[str, str]:
    """Always the same fields, so "no contact" has one spelling and compares equal."""
    unknown = set(contact) - set(CONTACT_FIELDS)
    if unknown:
        raise InvalidValue(f"Unknown contact field(s): {', '.join(sorted(unknown))}.", field="contact")
    return {k: (contact.get(k) or "").strip() for k in CONTACT_FIELDS}


def scale_mapping(old: Scale, new: Scale, mapping: dict[str, str]) -> dict[str, str]:
    """Each old status's new status, by canonical names; refused if it misses one."""
    result: dict[str, str] = {}
    for text, target in mapping.items():
        if not (text or "").strip() and not (target or "").strip():
            continue
        try:
            result[old.resolve(text).name] = new.resolve(target).name
        except UnknownStatus as error:
            error.field = "mapping"
            raise
    for status in old.statuses:
        if status.name in result:
            continue
        try:
            result[status.name] = new.resolve(status.name).name
        except UnknownStatus:
            raise InvalidValue(
                f"Say which status on the {new.name} scale replaces {status.name!r}: "
                f"use one of {new.choices_text()}.", field="mapping",
            ) from None
    return result


_scales: dict[str, Scale] = {}
_calendars: dict[str, Calendar] = {}


def _calendar_from(cadence: str, periods: Any) -> Calendar:
    """Calendars are values too: built once per distinct definition."""
    key = repr((cadence, periods))
    if key not in _calendars:
        _calendars[key] = Calendar.of(cadence, periods)
    return _calendars[key]


def _scale_from(data: dict[str, Any]) -> Scale:
    """Scales are immutable values: build each distinct one once, not on every command."""
    key = repr(data)
    if key not in _scales:
        _scales[key] = Scale.from_dict(data)
    return _scales[key]


class Programme(LedgerAggregate):
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
        slug = required_text(slug, "Enter a short id for the programme.", "programme")
        if not all(c.isalnum() or c in "-_" for c in slug):
            raise InvalidValue(
                f"{slug!r} is not a valid programme id: use letters, digits and hyphens.",
                field="programme",
            )
        name = required_text(name, "Enter the programme's name.", "name")
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
        self.periods: list[list[str]] = []  # custom cadence: (name, first day, last day) each
        # Each change of scale effective from a period: (that period, the scale before it).
        self.scale_changes: list[tuple[str, dict[str, Any]]] = []

    @property
    def scale(self) -> Scale:
        return _scale_from(self.scale_data)

    @property
    def calendar(self) -> Calendar:
        """Its cadence, or on the custom cadence the periods it defined (PeriodsDefined)."""
        return _calendar_from(self.cadence, self.periods)

    def parse_period(self, text: str) -> Period:
        return self.calendar.parse(text)

    def period_order(self, label: str) -> date:
        """A sort key for a period: its first day."""
        return self.parse_period(label).start

    def define_periods(self, periods: list[list[str]], *, actor: str, reason: str = "") -> bool:
        """Define (or redefine) a custom-cadence programme's periods: each (name, first day,
        last day). A redefinition keeps every period already defined, with its dates (what
        was rated in it stays where it was), may add periods, and needs a reason; the same
        definition records nothing."""
        if self.cadence != Cadence.CUSTOM.value:
            raise InvalidValue(
                f"{self.name} reports {self.cadence}: only a programme on the custom cadence "
                "defines its own periods.", field="programme",
            )
        defined = Calendar.of(self.cadence, periods)
        if defined == self.calendar:
            return False
        dropped = [p for p in self.calendar.defined if p not in defined.defined]
        if dropped:
            names = ", ".join(f"{p.name} ({p.start.isoformat()} to {p.end.isoformat()})" for p in dropped)
            raise InvalidValue(
                f"A redefinition keeps every period already defined, with its dates: {names} "
                "missing or changed.", field="period",
            )
        if self.periods:
            reason = require_reason(reason, f"redefining {self.name}'s periods")
        self._periods_defined(periods=defined.triples(), actor=actor, reason=(reason or "").strip())
        return True

    @event("PeriodsDefined")
    def _periods_defined(self, periods: list[list[str]], actor: str, reason: str) -> None:
        self.periods = periods

    def rename(self, name: str, *, actor: str, reason: str) -> None:
        name = required_text(name, "Enter the programme's name.", "name")
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

    def describe(self, description: str, *, actor: str, reason: str = "") -> bool:
        """Say what the programme is (reports print it). False if it already says so."""
        description = (description or "").strip()
        if description == self.description:
            return False
        self._description_changed(description=description, actor=actor, reason=(reason or "").strip())
        return True

    @event("DescriptionChanged")
    def _description_changed(self, description: str, actor: str, reason: str) -> None:
        self.description = description

    def require_mitigation(self, required: bool, *, actor: str, reason: str) -> bool:
        """Whether Amber and Red updates must say what mitigation is in hand, from now on
        (updates already recorded stand as they are). A change of rule needs a reason.
        False if the rule is already so."""
        if required == self.requires_mitigation:
            return False
        rule = "requires" if required else "no longer requires"
        reason = require_reason(reason, f"why {self.name} {rule} mitigation for Amber and Red")
        self._mitigation_rule_changed(requires_mitigation=required, actor=actor, reason=reason)
        return True

    @event("MitigationRuleChanged")
    def _mitigation_rule_changed(self, requires_mitigation: bool, actor: str, reason: str) -> None:
        self.requires_mitigation = requires_mitigation

    def change_scale(
        self, scale: Scale, *, actor: str, reason: str, mapping: dict[str, str] | None = None,
        from_period: str = "",
    ) -> None:
        """Adopt another scale, or a revision of this one. A mapping (old status -> new)
        lets quarter-over-quarter views compare like with like; it must name a new status
        for every old status the new scale does not have. From a period, the periods
        before it are still rated on the old scale (an import of a council's history, or
        of this ledger's export into an empty directory, records them in any order);
        without one, whatever is recorded from now on uses the new scale."""
        reason = require_reason(reason, "changing a programme's status scale")
        label = self.parse_period(from_period).label if (from_period or "").strip() else ""
        if mapping is None:
            self._scale_changed(scale=scale.to_dict(), actor=actor, reason=reason, from_period=label)
            return
        mapped = scale_mapping(self.scale, scale, mapping)
        self._scale_remapped(
            scale=scale.to_dict(), mapping=mapped, actor=actor, reason=reason, from_period=label
        )

    # from_period is absent from changes recorded before it existed: "" (from now on).
    @event("ScaleChanged")
    def _scale_changed(self, scale: dict[str, Any], actor: str, reason: str, from_period: str = "") -> None:
        self._adopt(scale, from_period)

    @event("ScaleRemapped")
    def _scale_remapped(
        self, scale: dict[str, Any], mapping: dict[str, str], actor: str, reason: str, from_period: str = ""
    ) -> None:
        self._adopt(scale, from_period)

    def _adopt(self, scale: dict[str, Any], from_period: str) -> None:
        if from_period:
            self.scale_changes.append((from_period, self.scale_data))
        self.scale_data = scale

    def scale_at(self, period: str) -> Scale:
        """The scale a period is rated on: the current one, or for a period before a
        change made from a later period, the scale in force before that change."""
        data = self.scale_data
        for from_period, before in reversed(self.scale_changes):
            if self.period_order(period) >= self.period_order(from_period):
                break
            data = before
        return _scale_from(data)

    def resolve_rating(
        self, status: str, *, allow_empty: bool, field: str = "status", period: str = ""
    ) -> Status | None:
        """A status on this programme's scale (the one `period` is rated on, if given), or
        None when empty is allowed."""
        if allow_empty and not (status or "").strip():
            return None
        try:
            return (self.scale_at(period) if period else self.scale).resolve(status)
        except UnknownStatus as error:
            error.field = field
            raise

    def check_mitigation(self, status: Status | None, mitigation: str, subject: str) -> None:
        if (
            status is not None
            and status.mitigation_needed
            and self.requires_mitigation
            and not (mitigation or "").strip()
        ):
            raise MitigationRequired(
                f"{subject} is rated {status.name}: describe the mitigation or corrective action in hand.",
                field="mitigation",
            )
