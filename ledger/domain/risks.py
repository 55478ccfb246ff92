"""Risks and issues (re-rated after mitigation) and dependencies (is a plan agreed)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from ledger.domain.agreement import NO_VIEW, check_sides, confirmation, party_of
from ledger.domain.base import LedgerAggregate, natural_id, require_reason, required_text, yes_no
from ledger.domain.programmes import Programme
from ledger.domain.risk_history import RiskPeriod, risk_periods
from ledger.errors import InvalidPeriod, InvalidValue, LedgerError

RISK_KINDS = ("risk", "issue")
CONFIDENCE_LEVELS = ("High", "Medium", "Low")


class Risk(LedgerAggregate):
    """A risk or an issue: RAG before mitigation, the plan, and the re-rated RAG after it,
    per period. What is in force follows the latest period, not the latest event
    (ledger.domain.risk_history)."""

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
        before, after = _risk_rags(programme, rag_before, rag_after, period)
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
        self.owner = owner
        # period -> [rag_before, mitigation, rag_after]; period -> open (a reopen) or not (a close)
        self.ratings: dict[str, list[str]] = {period: [rag_before, mitigation, rag_after]}
        self.changes: dict[str, bool] = {}

    def history(self, programme: Programme) -> list[RiskPeriod]:
        """The rating and state in force in each period, in period order."""
        return risk_periods(self.ratings, self.changes, programme.period_order)

    def in_force(self, programme: Programme) -> RiskPeriod:
        """The register as it stands: the latest period's rating and state."""
        return self.history(programme)[-1]

    def is_open_in(self, programme: Programme, label: str) -> bool:
        key = programme.period_order(label)
        before = [row for row in self.history(programme) if programme.period_order(row.period) <= key]
        return before[-1].is_open if before else True

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
        """Rate the risk for a period; records nothing if that period is already rated so."""
        before, after = _risk_rags(programme, rag_before, rag_after, period)
        mitigation = (mitigation or "").strip()
        label = programme.parse_period(period).label
        if self.ratings.get(label) == [before, mitigation, after]:
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
        self.ratings[period] = [rag_before, mitigation, rag_after]

    def correct(self, *, description: str, owner: str, actor: str, reason: str) -> None:
        description = required_text(description, f"Describe the {self.kind}.", "description")
        reason = require_reason(reason, f"what was wrong with {self.ref}")
        self._corrected(description=description, owner=(owner or "").strip(), actor=actor, reason=reason)

    @event("Corrected")
    def _corrected(self, description: str, owner: str, actor: str, reason: str) -> None:
        self.description, self.owner = description, owner

    def close(self, programme: Programme, *, period: str, actor: str, reason: str) -> None:
        """Close the risk in a period; nothing if it is closed then already."""
        self._change_state(programme, period, False, actor, reason)

    @event("Closed")
    def _closed(self, period: str, actor: str, reason: str) -> None:
        self.changes[period] = False

    def reopen(self, programme: Programme, *, period: str, actor: str, reason: str) -> None:
        self._change_state(programme, period, True, actor, reason)

    @event("Reopened")
    def _reopened(self, period: str, actor: str, reason: str) -> None:
        self.changes[period] = True

    def _change_state(
        self, programme: Programme, period: str, is_open: bool, actor: str, reason: str
    ) -> None:
        """Closing or reopening in a period changes that period and the unrecorded ones
        after it, never a later period already recorded: the next recorded period keeps
        its state (an older quarter imported after a newer one cannot reopen or close
        the register as it stands)."""
        done = "reopened" if is_open else "closed"
        label = self._state_period(programme, period, done)
        if self.is_open_in(programme, label) == is_open:
            return
        reason = require_reason(reason, f"why {self.ref} is {done}")
        key = programme.period_order(label)
        later = next((p for p in self.history(programme) if programme.period_order(p.period) > key), None)
        (self._reopened if is_open else self._closed)(period=label, actor=actor, reason=reason)
        if later is not None and self.is_open_in(programme, later.period) != later.is_open:
            (self._reopened if later.is_open else self._closed)(
                period=later.period, actor=actor, reason=reason
            )

    def _state_period(self, programme: Programme, period: str, done: str) -> str:
        """A close or reopen needs a rating in force: not before the first rated period."""
        label = programme.parse_period(period).label
        first = min(self.ratings, key=programme.period_order)
        if programme.period_order(label) < programme.period_order(first):
            raise InvalidPeriod(
                f"{self.ref} was first rated in {first}: it cannot be {done} in {label}, before then.",
                field="period",
            )
        return label


def _risk_rags(programme: Programme, rag_before: str, rag_after: str, period: str) -> tuple[str, str]:
    """Risk RAGs come from the rated statuses of the scale the period is rated on (a scale
    change from a later period leaves earlier periods on the old scale). Either may be
    empty (a register may publish only the residual rating), not both."""
    if not (rag_before or "").strip() and not (rag_after or "").strip():
        raise InvalidValue(
            "Give a RAG before mitigation, after it, or both.", field="rag_before"
        )
    try:
        label = programme.parse_period(period).label
    except LedgerError:
        label = ""  # the bad period is reported by the caller; rate against today's scale
    before = programme.resolve_rating(rag_before, allow_empty=True, field="rag_before", period=label)
    after = programme.resolve_rating(rag_after, allow_empty=True, field="rag_after", period=label)
    scale = programme.scale_at(label) if label else programme.scale
    for status, field in ((before, "rag_before"), (after, "rag_after")):
        if status is not None and status.band == "unrated":
            raise InvalidValue(
                f"{status.name} is not a RAG rating: use one of "
                f"{', '.join(s.name for s in scale.rated)}.",
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

    # Both sides (issue 12; ledger.domain.agreement): class defaults, so a dependency
    # recorded before sides were named replays unchanged. A view is (plan agreed,
    # confidence, period), empty until that side confirms.
    provider = receiver = provider_kind = receiver_kind = ""
    provider_view: tuple[str, str, str] = NO_VIEW
    receiver_view: tuple[str, str, str] = NO_VIEW

    def name_sides(
        self, provider: tuple[str, str], receiver: tuple[str, str], *, actor: str, reason: str = ""
    ) -> bool:
        """Name the provider and the receiver, each (name, 'programme' or 'team'); a side
        whose party changes confirms again. False if named so already."""
        check_sides(self.ref, provider[0], receiver[0])
        if (*provider, *receiver) == (self.provider, self.provider_kind, self.receiver, self.receiver_kind):
            return False
        self._sides_named(
            provider=provider[0],
            provider_kind=provider[1],
            receiver=receiver[0],
            receiver_kind=receiver[1],
            actor=actor,
            reason=(reason or "").strip(),
        )
        return True

    @event("SidesNamed")
    def _sides_named(
        self, provider: str, provider_kind: str, receiver: str, receiver_kind: str, actor: str, reason: str
    ) -> None:
        if provider != self.provider:
            self.provider_view = NO_VIEW
        if receiver != self.receiver:
            self.receiver_view = NO_VIEW
        self.provider, self.provider_kind = provider, provider_kind
        self.receiver, self.receiver_kind = receiver, receiver_kind

    def confirm(
        self,
        programme: Programme,
        side: str,
        *,
        plan_agreed: str | bool | None,
        confidence: str,
        period: str,
        actor: str,
        reason: str = "",
    ) -> bool:
        """One side says whether a jointly agreed plan is in place and how confident it is
        (both required). False if that side said exactly this already."""
        party = party_of(self, side)
        view = confirmation(
            plan_agreed, confidence, lambda: programme.parse_period(period).label, _confidence
        )
        if view == getattr(self, f"{side}_view"):
            return False
        self._side_confirmed(
            side=side,
            party=party,
            plan_agreed=view[0],
            confidence=view[1],
            period=view[2],
            actor=actor,
            reason=(reason or "").strip(),
        )
        return True

    @event("SideConfirmed")
    def _side_confirmed(
        self, side: str, party: str, plan_agreed: str, confidence: str, period: str, actor: str, reason: str
    ) -> None:
        setattr(self, f"{side}_view", (plan_agreed, confidence, period))


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
