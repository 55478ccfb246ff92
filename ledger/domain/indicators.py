"""Indicators: a measured figure per period, optionally broken down."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate, natural_id, require_reason, required_text
from ledger.domain.programmes import Programme
from ledger.errors import InvalidValue

BETTER_DIRECTIONS = ("higher", "lower", "neither")


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


def _direction(better: str) -> str:
    better = (better or "").strip().lower() or "neither"
    if better not in BETTER_DIRECTIONS:
        raise InvalidValue(
            f"{better!r} is not a direction: use {', '.join(BETTER_DIRECTIONS)}.", field="better"
        )
    return better


class Indicator(LedgerAggregate):
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
        ref = required_text(ref, "Enter a ref for the indicator, like FTE.", "ref", InvalidValue)
        name = required_text(name, f"Enter a name for indicator {ref}.", "name")
        return cls(
            programme_id=programme.id,
            ref=ref,
            name=name,
            unit=(unit or "").strip(),
            better=_direction(better),
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

    def redefine(
        self, *, name: str, unit: str, better: str, description: str, actor: str, reason: str
    ) -> bool:
        """Correct the definition: name, unit, which direction is better, description.

        Every value keeps its number, but its direction of travel is judged again by the
        new `better`, so what past reports called good can now read bad: a restatement,
        which needs a reason. Returns False if nothing differs."""
        name = required_text(name, f"Enter a name for indicator {self.ref}.", "name")
        unit, better = (unit or "").strip(), _direction(better)
        description = (description or "").strip()
        if (name, unit, better, description) == (self.name, self.unit, self.better, self.description):
            return False
        reason = require_reason(reason, f"why indicator {self.ref}'s definition changes")
        self._redefined(
            name=name, unit=unit, better=better, description=description, actor=actor, reason=reason
        )
        return True

    @event("Redefined")
    def _redefined(
        self, name: str, unit: str, better: str, description: str, actor: str, reason: str
    ) -> None:
        self.name, self.unit, self.better, self.description = name, unit, better, description

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
        reason = require_reason(reason, f"{self.name} for {label} is already recorded as {current['value']}")
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
