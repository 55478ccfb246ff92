"""Risks and issues (re-rated after mitigation) and dependencies (is a plan agreed)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate, natural_id, require_reason, required_text, yes_no
from ledger.domain.programmes import Programme
from ledger.errors import InvalidValue

RISK_KINDS = ("risk", "issue")
CONFIDENCE_LEVELS = ("High", "Medium", "Low")


class Risk(LedgerAggregate):
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
        ref = required_text(ref, f"Enter a ref for the {kind}, like R1.", "ref", InvalidValue)
        description = required_text(description, f"Describe the {kind}.", "description")
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
        reason = require_reason(reason, f"why {self.ref} is re-rated")
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
        description = required_text(description, f"Describe the {self.kind}.", "description")
        reason = require_reason(reason, f"what was wrong with {self.ref}")
        self._corrected(description=description, owner=(owner or "").strip(), actor=actor, reason=reason)

    @event("Corrected")
    def _corrected(self, description: str, owner: str, actor: str, reason: str) -> None:
        self.description, self.owner = description, owner

    def close(self, programme: Programme, *, period: str, actor: str, reason: str) -> None:
        if self.is_open:
            reason = require_reason(reason, f"why {self.ref} is closed")
            self._closed(period=programme.parse_period(period).label, actor=actor, reason=reason)

    @event("Closed")
    def _closed(self, period: str, actor: str, reason: str) -> None:
        self.is_open = False

    def reopen(self, programme: Programme, *, period: str, actor: str, reason: str) -> None:
        if not self.is_open:
            reason = require_reason(reason, f"why {self.ref} is reopened")
            self._reopened(period=programme.parse_period(period).label, actor=actor, reason=reason)

    @event("Reopened")
    def _reopened(self, period: str, actor: str, reason: str) -> None:
        self.is_open = True


def _risk_rags(programme: Programme, rag_before: str, rag_after: str) -> tuple[str, str]:
    """Risk RAGs come from the programme's rated statuses; 'after' may be left empty."""
    before = programme.resolve_rating(rag_before, allow_empty=False, field="rag_before")
    after = programme.resolve_rating(rag_after, allow_empty=True, field="rag_after")
    for status, field in ((before, "rag_before"), (after, "rag_after")):
        if status is not None and status.band == "unrated":
            raise InvalidValue(
                f"{status.name} is not a RAG rating: use one of "
                f"{', '.join(s.name for s in programme.scale.rated)}.",
                field=field,
            )
    return (before.name if before else ""), (after.name if after else "")


class Dependency(LedgerAggregate):
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
        ref = required_text(ref, "Enter a ref for the dependency, like D1.", "ref", InvalidValue)
        description = required_text(description, "Describe the dependency.", "description")
        return cls(
            programme_id=programme.id,
            ref=ref,
            description=description,
            plan_agreed=yes_no(plan_agreed, "plan_agreed"),
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
        agreed, level = yes_no(plan_agreed, "plan_agreed"), _confidence(confidence)
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
        description = required_text(description, "Describe the dependency.", "description")
        reason = require_reason(reason, f"what was wrong with {self.ref}")
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
