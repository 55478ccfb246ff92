"""A dependency's two sides: the dependency_sides table (issue 12, item 6).

Where the sides stand is worked out here from what each last confirmed
(ledger.domain.agreement), so the register, its page and Datasette show the same words."""

from __future__ import annotations

from ledger.domain import describe_event
from ledger.domain.agreement import PROGRAMME_PARTY, SIDES, SideView, agreement
from projections.handlers.support import Event, find_programme, find_subject, note_period
from projections.state import Change, Handler, Row, State

_UNCONFIRMED = {"plan_agreed": "", "confidence": "", "period": "", "confirmed_by": "", "confirmed_at": ""}


def _party(state: State, row: Row, side: str) -> str:
    """A side as readers know it: a programme by its name, a team as named."""
    if row[f"{side}_kind"] == PROGRAMME_PARTY:
        programme = state.get("programmes", row[side])
        if programme is not None:
            return str(programme["name"])
    return str(row[side])


def _view(state: State, row: Row, side: str) -> SideView:
    return SideView(_party(state, row, side), row[f"{side}_plan_agreed"], row[f"{side}_confidence"])


def _parties(state: State, row: Row) -> str:
    return f"{_party(state, row, 'provider')} → {_party(state, row, 'receiver')}"


def _put(e: Event, state: State, row: Row) -> Row:
    state_words, text = agreement(_view(state, row, "provider"), _view(state, row, "receiver"))
    row = {
        **row,
        "agreement": state_words,
        "agreement_text": text,
        "updated_at": state.recorded_at,
        "updated_by": e.actor,
        "version": e.originator_version,
        "position": state.position,
    }
    state.put("dependency_sides", row)
    return row


def sides_named(e: Event, state: State) -> Change:
    subject = find_subject(state, state.aggregate_id)
    old = state.get("dependency_sides", subject["programme"], subject["ref"])
    before = _parties(state, old) if old else None
    row: Row = dict(old) if old else {"programme": subject["programme"], "ref": subject["ref"]}
    for side in SIDES:
        named = getattr(e, side)
        if not old or old[side] != named:  # a new party has confirmed nothing yet
            row.update({f"{side}_{k}": v for k, v in _UNCONFIRMED.items()})
        row[side], row[f"{side}_kind"] = named, getattr(e, f"{side}_kind")
    row = _put(e, state, row)
    return Change(
        row["programme"],
        row["ref"],
        describe_event(e),
        "sides",
        before,
        _parties(state, row),
    )


def side_confirmed(e: Event, state: State) -> Change:
    subject = find_subject(state, state.aggregate_id)
    old = state.get("dependency_sides", subject["programme"], subject["ref"])
    if old is None:
        raise LookupError(f"No sides of dependency {subject['ref']} in the read model")
    period = note_period(state, find_programme(state, old["programme"]), e.period)
    confirmed = {
        "plan_agreed": e.plan_agreed,
        "confidence": e.confidence,
        "period": period.label,
        "confirmed_by": e.actor,
        "confirmed_at": state.recorded_at,
    }
    row = _put(e, state, {**old, **{f"{e.side}_{k}": v for k, v in confirmed.items()}})
    return Change(
        row["programme"],
        row["ref"],
        describe_event(e),
        "agreement",
        old["agreement_text"],
        row["agreement_text"],
        period.label,
    )


HANDLERS: dict[str, Handler] = {
    "Dependency.SidesNamed": sides_named,
    "Dependency.SideConfirmed": side_confirmed,
}
