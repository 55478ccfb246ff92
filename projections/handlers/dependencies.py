"""Dependencies: the dependencies table."""

from __future__ import annotations

from uuid import UUID

from ledger.domain import describe_event
from projections.handlers.support import (
    Event,
    find_programme,
    find_record,
    note_period,
    programme_of,
    subject_row,
)
from projections.state import Change, Handler, Row, State


def _dependency_text(plan_agreed: str, confidence: str) -> str:
    return f"plan agreed {plan_agreed or 'not stated'}, confidence {confidence or 'not stated'}"


def _dependency(state: State, dependency_id: UUID | str) -> Row:
    return find_record(state, "dependencies", dependency_id, "dependency")


def dependency_registered(e: Event, state: State) -> Change:
    programme = programme_of(state, e.programme_id)
    slug = programme["programme"]
    period = note_period(state, programme, e.period)
    at = state.recorded_at
    state.put(
        "dependencies",
        {
            "programme": slug,
            "ref": e.ref,
            "description": e.description,
            "plan_agreed": e.plan_agreed,
            "confidence": e.confidence,
            "owner": e.owner,
            "period": period.label,
            "period_start": period.start,
            "registered_at": at,
            "registered_by": e.actor,
            "updated_at": at,
            "updated_by": e.actor,
            "version": e.originator_version,
        },
    )
    state.put("subjects", subject_row(e, "Dependency", slug, e.ref))
    return Change(
        slug,
        e.ref,
        f"registered dependency {e.ref}: {e.description}",
        "plan",
        None,
        _dependency_text(e.plan_agreed, e.confidence),
        period.label,
    )


def dependency_reviewed(e: Event, state: State) -> Change:
    old = _dependency(state, state.aggregate_id)
    period = note_period(state, find_programme(state, old["programme"]), e.period)
    state.put(
        "dependencies",
        {
            **old,
            "plan_agreed": e.plan_agreed,
            "confidence": e.confidence,
            "period": period.label,
            "period_start": period.start,
            "updated_at": state.recorded_at,
            "updated_by": e.actor,
            "version": e.originator_version,
        },
    )
    return Change(
        old["programme"],
        old["ref"],
        describe_event(e),
        "plan",
        _dependency_text(old["plan_agreed"], old["confidence"]),
        _dependency_text(e.plan_agreed, e.confidence),
        period.label,
    )


def dependency_corrected(e: Event, state: State) -> Change:
    old = _dependency(state, state.aggregate_id)
    state.put(
        "dependencies",
        {
            **old,
            "description": e.description,
            "owner": e.owner,
            "updated_at": state.recorded_at,
            "updated_by": e.actor,
            "version": e.originator_version,
        },
    )
    return Change(
        old["programme"],
        old["ref"],
        f"corrected dependency {old['ref']}",
        "description",
        old["description"],
        e.description,
    )


HANDLERS: dict[str, Handler] = {
    "Dependency.Registered": dependency_registered,
    "Dependency.Reviewed": dependency_reviewed,
    "Dependency.Corrected": dependency_corrected,
}
