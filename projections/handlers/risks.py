"""Risks and issues: the risks_and_issues table (the register as it stands: each risk's
latest period) and risk_history (its rating and state in every period).

Periods arrive in any order (an older quarter imported after a newer one), so every
event recomputes the risk's history by period order (ledger.domain.risk_periods, the
domain's own rule) and the register row from its latest period."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from ledger.domain import RiskPeriod, closed_period, describe_event, risk_periods
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
    return ", ".join(filter(None, (before, f"{after} after mitigation" if after else "")))


def _risk(state: State, risk_id: UUID | str) -> Row:
    return find_record(state, "risks_and_issues", risk_id, "risk", by_kind=True)


def _category(state: State, programme: str, status: str) -> str | None:
    return status_on_scale(state, programme, status)["category"] if status else None


def _rag_columns(state: State, programme: str, rag_before: str, mitigation: str, rag_after: str) -> Row:
    return {
        "rag_before": rag_before,
        "rag_before_category": _category(state, programme, rag_before),
        "mitigation": mitigation,
        "rag_after": rag_after,
        "rag_after_category": _category(state, programme, rag_after),
    }


def _recorded(
    e: Event, state: State, risk: Row, *, rating: tuple[str, str, str] | None, opened: bool | None
) -> Row:
    """The risk's row after `e` (a rating or a close/reopen in `e.period`), with every
    period of its risk_history rewritten in period order."""
    slug, kind, ref = risk["programme"], risk["kind"], risk["ref"]
    programme = find_programme(state, slug)
    recorded: dict[str, Any] = json.loads(risk["recorded"] or '{"rated": [], "changes": {}}')
    ratings: dict[str, tuple[str, str, str]] = {}
    for label in recorded["rated"]:
        row = state.get("risk_history", slug, kind, ref, label)
        if row is None:
            raise LookupError(f"No risk_history row for {kind} {ref} in {label} in the read model")
        ratings[label] = (row["rag_before"], row["mitigation"], row["rag_after"])
    changes: dict[str, bool] = recorded["changes"]
    if rating is not None:
        ratings[e.period] = rating
    if opened is not None:
        changes[e.period] = opened
    rows = risk_periods(ratings, changes, lambda label: note_period(state, programme, label).start)
    for period in rows:
        _put_period(e, state, risk, period)
    latest = rows[-1]
    info = note_period(state, programme, latest.period)
    return {
        **risk,
        **_rag_columns(state, slug, *latest.rating),
        "period": latest.period,
        "period_start": info.start,
        "state": "open" if latest.is_open else "closed",
        "closed_period": closed_period(rows),
        "recorded": json.dumps({"rated": sorted(ratings), "changes": changes}, sort_keys=True),
        "updated_at": state.recorded_at,
        "updated_by": e.actor,
        "last_reason": e.reason,
        "version": e.originator_version,
    }


def _put_period(e: Event, state: State, risk: Row, period: RiskPeriod) -> None:
    slug, kind, ref = risk["programme"], risk["kind"], risk["ref"]
    old = state.get("risk_history", slug, kind, ref, period.period)
    if old is not None and period.period != e.period:
        recorded = {k: old[k] for k in ("recorded_at", "recorded_by", "reason", "position")}
    else:  # the period this event recorded
        recorded = {
            "recorded_at": state.recorded_at, "recorded_by": e.actor, "reason": e.reason,
            "position": state.position,
        }
    row = {
        "programme": slug,
        "kind": kind,
        "ref": ref,
        "period": period.period,
        "period_start": note_period(state, find_programme(state, slug), period.period).start,
        **_rag_columns(state, slug, *period.rating),
        "rated": int(period.rated),
        "state": "open" if period.is_open else "closed",
        "state_change": period.change,
        **recorded,
    }
    if row != old:
        state.put("risk_history", row)


def risk_raised(e: Event, state: State) -> Change:
    programme = programme_of(state, e.programme_id)
    slug = programme["programme"]
    at = state.recorded_at
    risk = {
        "programme": slug,
        "kind": e.kind,
        "ref": e.ref,
        "description": e.description,
        "owner": e.owner,
        "closed_period": None,
        "recorded": None,
        "raised_at": at,
        "raised_by": e.actor,
    }
    state.put("subjects", subject_row(e, "Risk", slug, e.ref, kind=e.kind))
    state.put("risks_and_issues", _recorded(e, state, risk, rating=_rating(e), opened=None))
    return Change(
        slug,
        e.ref,
        f"raised {e.kind} {e.ref}: {e.description}",
        "rag",
        None,
        _rag_text(e.rag_before, e.rag_after),
        e.period,
    )


def _rating(e: Event) -> tuple[str, str, str]:
    return (e.rag_before, e.mitigation, e.rag_after)


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
    before = state.get("risk_history", old["programme"], old["kind"], old["ref"], e.period)
    state.put("risks_and_issues", _recorded(e, state, old, rating=_rating(e), opened=None))
    # "From" is the same period's rating when it is a re-rating of that period, else what
    # the register showed before this event (round 1's meaning, kept for older logs).
    shown = before or (old if old["rag_before"] or old["rag_after"] else None)
    was = _rag_text(shown["rag_before"], shown["rag_after"]) if shown else None
    return Change(
        old["programme"],
        old["ref"],
        describe_event(e),
        "rag",
        was,
        _rag_text(e.rag_before, e.rag_after),
        e.period,
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
    state.put("risks_and_issues", _recorded(e, state, old, rating=None, opened=not closing))
    return Change(
        old["programme"],
        old["ref"],
        describe_event(e),
        "state",
        "open" if closing else "closed",
        "closed" if closing else "open",
        e.period,
    )


HANDLERS: dict[str, Handler] = {
    "Risk.Raised": risk_raised,
    "Risk.Rerated": risk_rerated,
    "Risk.Corrected": risk_corrected,
    "Risk.Closed": risk_closed_or_reopened,
    "Risk.Reopened": risk_closed_or_reopened,
}
