"""risks.csv and dependencies.csv: risks and issues (rated before and after mitigation,
open or closed, one row per period: a quarterly history in one file) and dependencies
(plan agreed, confidence), as they stand now."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain import RISK_KINDS, Dependency, Risk
from ledger.errors import InvalidValue
from ledger.transfer.kinds.base import Applied, Applying, Kind, RowCells, Unique, same_spelling
from ledger.transfer.kinds.sides import SIDE_COLUMNS, Sides, apply_sides, check_sides
from ledger.transfer.results import Outcome
from ledger.transfer.table import Row, key


@dataclass(slots=True)
class RiskRow(Row):
    ref: str
    kind: str
    period: str
    description: str
    owner: str
    rag_before: str
    mitigation: str
    rag_after: str
    is_open: bool
    reason: str


@dataclass(slots=True)
class DependencyRow(Row):
    ref: str
    period: str
    description: str
    owner: str
    plan_agreed: str
    confidence: str
    reason: str
    sides: Sides | None = None  # provider and receiver, and what each confirmed


def risk_kind(text: str) -> str:
    kind = text.strip().lower()
    if kind not in RISK_KINDS:
        raise InvalidValue(f"{text!r} is not risk or issue.")
    return kind


def risk_state(text: str) -> str:
    state = text.strip().lower() or "open"
    if state not in ("open", "closed"):
        raise InvalidValue(f"{text!r} is not a state: use open or closed.")
    return state


def check_risk(v: RowCells) -> RiskRow | None:
    programme = v.programme()
    if programme is None:
        return None
    ref = v.required("ref", "Enter the ref, like R1 or I1.")
    kind = v.check("kind", risk_kind)
    period = v.period(programme)
    description = v.required("description", "Describe the risk or issue.")
    before, after = (
        v.check(column, lambda t, c=column: v.checker.status(programme, t, rated=True, field=c) if t else "")
        for column in ("rag_before", "rag_after")
    )
    state = v.check("state", risk_state)
    if v.bad:
        return None
    return RiskRow(
        v.table, v.number, programme.slug, ref, kind, period, description, v.raw("owner"),
        before, v.raw("mitigation"), after, state == "open", v.raw("reason"),
    )


def check_dependency(v: RowCells) -> DependencyRow | None:
    programme = v.programme()
    if programme is None:
        return None
    ref = v.required("ref", "Enter the ref, like D1.")
    period = v.period(programme)
    description = v.required("description", "Describe the dependency.")
    sides = check_sides(v, programme, period)
    if v.bad:
        return None
    return DependencyRow(
        v.table, v.number, programme.slug, ref, period, description, v.raw("owner"),
        v.raw("plan_agreed"), v.raw("confidence"), v.raw("reason"), sides,
    )


def unique_risk(row: RiskRow) -> Unique:
    return Unique(
        (key(row.programme), row.kind, key(row.ref), row.period), "period",
        f"{row.kind} {row.ref!r} in {row.period}",
    )


def unique_dependency(row: DependencyRow) -> Unique:
    return Unique((key(row.programme), key(row.ref)), "ref", f"ref {row.ref!r}")


def apply_risk(applier: Applying, row: RiskRow) -> Applied:
    """The row is the register in its period: its rating and state for that period.
    An older period than the ledger's latest adds to the history and leaves the register
    as it stands (no reopening, no older description)."""
    programme = applier.batch.programme(row.programme)
    risk_id = Risk.create_id(programme.id, row.kind, row.ref)
    existing = applier.batch.find(Risk, risk_id)
    common = {"kind": row.kind, "actor": applier.actor, "batch": applier.batch}
    ledger = applier.ledger
    rated = bool(row.rag_before or row.rag_after)  # a row with neither only closes or reopens
    if existing is None:
        if not rated:
            raise InvalidValue(
                f"{row.ref} is not in the ledger yet: give its RAG before mitigation, after it, "
                "or both (a row with neither only closes or reopens a risk already rated).",
                field="rag_before",
            )
        ledger.raise_risk(
            row.programme, row.ref, description=row.description, rag_before=row.rag_before,
            mitigation=row.mitigation, rag_after=row.rag_after, owner=row.owner,
            period=row.period, reason=row.reason, **common,
        )
        if not row.is_open:
            ledger.close_risk(
                row.programme, row.ref, period=row.period,
                reason=row.reason or applier.reason(row), **common,
            )
        return Applied(risk_id, Outcome.NEW)
    same_spelling(row.ref, existing.ref)
    reason = _reason(applier, row, existing)
    latest = programme.period_order(existing.in_force(programme).period)
    if programme.period_order(row.period) >= latest and (row.description, row.owner) != (
        existing.description, existing.owner
    ):
        ledger.correct_risk(
            row.programme, row.ref, description=row.description, owner=row.owner,
            reason=reason, **common,
        )
    if rated:
        ledger.rerate_risk(  # records nothing if this period is already rated so
            row.programme, row.ref, rag_before=row.rag_before, mitigation=row.mitigation,
            rag_after=row.rag_after, period=row.period, reason=reason, **common,
        )
    if row.is_open != existing.is_open_in(programme, row.period):
        change = ledger.reopen_risk if row.is_open else ledger.close_risk
        change(row.programme, row.ref, period=row.period, reason=reason, **common)
    return Applied(risk_id, Outcome.CHANGED)


def _reason(applier: Applying, row: RiskRow, risk: Risk) -> str:
    """A period this import adds (to a risk it raised, or one the ledger did not hold)
    takes the row's own reason, as a new risk does; a change to a period recorded before
    the import gives the import as the reason. This import's events are still pending."""
    raised_here = bool(risk.pending_events) and risk.pending_events[0].originator_version == 1
    if raised_here or (row.period not in risk.ratings and row.period not in risk.changes):
        return row.reason or applier.reason(row)
    return applier.reason(row, row.reason)


def apply_dependency(applier: Applying, row: DependencyRow) -> Applied:
    programme = applier.batch.programme(row.programme)
    dependency_id = Dependency.create_id(programme.id, row.ref)
    existing = applier.batch.find(Dependency, dependency_id)
    if existing is None:
        applier.ledger.register_dependency(
            row.programme, row.ref, description=row.description, plan_agreed=row.plan_agreed,
            confidence=row.confidence, owner=row.owner, period=row.period,
            **applier.command_kwargs(row.reason),
        )
        apply_sides(applier, row.programme, row.ref, row.sides)
        return Applied(dependency_id, Outcome.NEW)
    same_spelling(row.ref, existing.ref)
    kwargs = applier.command_kwargs(applier.reason(row, row.reason))
    if (row.description, row.owner) != (existing.description, existing.owner):
        applier.ledger.correct_dependency(
            row.programme, row.ref, description=row.description, owner=row.owner, **kwargs,
        )
    applier.ledger.review_dependency(  # records nothing if plan, confidence and period agree
        row.programme, row.ref, plan_agreed=row.plan_agreed, confidence=row.confidence,
        period=row.period, **kwargs,
    )
    apply_sides(applier, row.programme, row.ref, row.sides)
    return Applied(dependency_id, Outcome.CHANGED)


RISKS = Kind(
    "risks",
    (
        "programme", "ref", "kind", "period", "description", "owner", "rag_before",
        "mitigation", "rag_after", "state", "reason",
    ),
    check_risk, apply_risk, unique_risk,
)
DEPENDENCIES = Kind(
    "dependencies",
    (
        "programme", "ref", "period", "description", "owner", "plan_agreed", "confidence",
        "reason",
    ),
    check_dependency, apply_dependency, unique_dependency, optional=SIDE_COLUMNS,
)
