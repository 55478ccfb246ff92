"""Commands on indicators: define one, correct its definition, record (or correct) its
value for a period."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.domain import Indicator, Programme


class IndicatorCommands(LedgerBase):
    def define_indicator(
        self,
        programme: str,
        ref: str,
        *,
        name: str,
        unit: str = "",
        better: str = "neither",
        description: str = "",
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        return self._create(
            batch,
            lambda b: Indicator.define(
                b.programme(programme),
                ref=ref,
                name=name,
                unit=unit,
                better=better,
                description=description,
                actor=actor,
                reason=reason,
            ),
            lambda indicator, _: f"Indicator {ref} already exists.",
        )

    def redefine_indicator(
        self,
        programme: str,
        ref: str,
        *,
        name: str,
        unit: str,
        better: str,
        description: str = "",
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Correct an indicator's name, unit, direction or description (with a reason)."""
        return self._change(
            batch,
            lambda b: self._indicator(b, b.programme(programme), ref),
            lambda indicator, _: indicator.redefine(
                name=name, unit=unit, better=better, description=description, actor=actor, reason=reason
            ),
            seen_version,
        )

    def record_indicator_value(
        self,
        programme: str,
        ref: str,
        *,
        period: str,
        value: str | int | float | Decimal,
        breakdown: str = "",
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Record an indicator's value; changing a recorded value needs a reason."""
        return self._change(
            batch,
            lambda b: self._indicator(b, b.programme(programme), ref),
            lambda indicator, b: indicator.record_value(
                b.programme(programme),
                period=period,
                value=value,
                breakdown=breakdown,
                actor=actor,
                reason=reason,
            ),
            seen_version,
        )

    def _indicator(self, b: Batch, programme: Programme, ref: str) -> Indicator:
        return b.existing(
            Indicator, Indicator.create_id(programme.id, ref), f"{programme.name} has no indicator {ref!r}."
        )
