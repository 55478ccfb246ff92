"""Risks and issues: the risks_and_issues table."""

from __future__ import annotations

from uuid import UUID

from ledger.domain import describe_event
from projections.handlers.support import (
    Event,
    find_programme,
    find_record,
    note_period,
    programme_of,
    status_on_scale,
    subject_row,
)
from projections.state import Change, Handler, Row, State


def _rag_text(before: str, after: str) -> str:
    return f"{before}, {after} after mitigation" if after else before


def _risk(state: State, risk_id: UUID | str) -> Row:
    return find_record(state, "risks_and_issues", risk_id, "risk", by_kind=True)


def _category(state: State, programme: str, status: str) -> str | None:
    return status_on_scale(state, programme, status)["category"] if status else None


def risk_raised(e: Event, state: State) -> Change:
    programme = programme_of(state, e.programme_id)
    slug = programme["programme"]
    period = note_period(state, programme, e.period)
    at = state.recorded_at
    state.put(
        "risks_and_issues",
        {
            "programme": slug,
            "kind": e.kind,
            "ref": e.ref,
            "description": e.description,
            "rag_before": e.rag_before,
            "rag_before_category": _category(state, slug, e.rag_before),
            "mitigation": e.mitigation,
            "rag_after": e.rag_after,
            "rag_after_category": _category(state, slug, e.rag_after),
            "owner": e.owner,
            "period": period.label,
            "period_start": period.start,
            "state": "open",
            "closed_period": None,
            "raised_at": at,
            "raised_by": e.actor,
            "updated_at": at,
            "updated_by": e.actor,
            "last_reason": e.reason,
            "version": e.originator_version,
        },
    )
    state.put("subjects", subject_row(e, "Risk", slug, e.ref, kind=e.kind))
    return Change(
        slug,
        e.ref,
        f"raised {e.kind} {e.ref}: {e.description}",
        "rag",
        None,
        _rag_text(e.rag_before, e.rag_after),
        period.label,
    )


def _risk_changed(e: Event, state: State, changes: Row) -> Row:
    old = _risk(state, state.aggregate_id)
    state.put(
        "risks_and_issues",
        {
            **old,
            **changes,
            "updated_at": state.recorded_at,
            "updated_by": e.actor,
            "last_reason": e.reason,
            "version": e.originator_version,
        },
    )
    return old


def risk_rerated(e: Event, state: State) -> Change:
    old = _risk(state, state.aggregate_id)
    slug = old["programme"]
    period = note_period(state, find_programme(state, slug), e.period)
    _risk_changed(
        e,
        state,
        {
            "rag_before": e.rag_before,
            "rag_before_category": _category(state, slug, e.rag_before),
            "mitigation": e.mitigation,
            "rag_after": e.rag_after,
            "rag_after_category": _category(state, slug, e.rag_after),
            "period": period.label,
            "period_start": period.start,
        },
    )
    return Change(
        slug,
        old["ref"],
        describe_event(e),
        "rag",
        _rag_text(old["rag_before"], old["rag_after"]),
        _rag_text(e.rag_before, e.rag_after),
        period.label,
    )


def risk_corrected(e: Event, state: State) -> Change:
    old = _risk_changed(e, state, {"description": e.description, "owner": e.owner})
    return Change(
        old["programme"],
        old["ref"],
        f"corrected {old['kind']} {old['ref']}",
        "description",
        old["description"],
        e.description,
    )


def risk_closed_or_reopened(e: Event, state: State) -> Change:
    closing = type(e).__name__ == "Closed"
    old = _risk(state, state.aggregate_id)
    period = note_period(state, find_programme(state, old["programme"]), e.period)
    _risk_changed(
        e,
        state,
        {"state": "closed" if closing else "open", "closed_period": period.label if closing else None},
    )
    return Change(
        old["programme"],
        old["ref"],
        describe_event(e),
        "state",
        old["state"],
        "closed" if closing else "open",
        period.label,
    )


HANDLERS: dict[str, Handler] = {
    "Risk.Raised": risk_raised,
    "Risk.Rerated": risk_rerated,
    "Risk.Corrected": risk_corrected,
    "Risk.Closed": risk_closed_or_reopened,
    "Risk.Reopened": risk_closed_or_reopened,
}
