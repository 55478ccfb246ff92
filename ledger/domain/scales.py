"""Status scales as councils define them: a StatusScale is defined, then revised, each
time with who and why. A programme adopts a copy of the scale in force (Programme
events hold it), so revising a scale never changes how a past period was rated."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate, natural_id, require_reason
from ledger.errors import InvalidValue
from ledger.scales import Scale, Status, build_scale, scale_id


class StatusScale(LedgerAggregate):
    """A named scale and its statuses in order (categories, colours, aliases, groups)."""

    @staticmethod
    def create_id(key: str) -> UUID:
        return natural_id("scale", scale_id(key))

    @classmethod
    def define(
        cls, *, key: str, name: str, statuses: list[Status], actor: str, reason: str = ""
    ) -> StatusScale:
        scale = build_scale(key, name, statuses)
        return cls(
            key=scale.key, name=scale.name, statuses=[s.to_dict() for s in scale.statuses],
            actor=actor, reason=(reason or "").strip(),
        )

    @event("Defined")
    def __init__(
        self, key: str, name: str, statuses: list[dict[str, Any]], actor: str, reason: str
    ) -> None:
        self.key = key
        self.name = name
        self.statuses = statuses

    @property
    def scale(self) -> Scale:
        return Scale.from_dict({"key": self.key, "name": self.name, "statuses": self.statuses})

    def revise(self, *, name: str, statuses: list[Status], actor: str, reason: str) -> None:
        reason = require_reason(reason, f"revising the {self.name} scale")
        scale = build_scale(self.key, name, statuses)
        if scale.same_statuses(self.scale):
            raise InvalidValue(f"The {self.name} scale already has exactly these statuses.", field="status")
        self._revised(
            name=scale.name, statuses=[s.to_dict() for s in scale.statuses], actor=actor, reason=reason
        )

    @event("Revised")
    def _revised(self, name: str, statuses: list[dict[str, Any]], actor: str, reason: str) -> None:
        self.name = name
        self.statuses = statuses
