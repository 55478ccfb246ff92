"""Review of each item's update per period: the review_state table (issue 12).

Each step replaces the row; `superseded` is set by the Superseded event the ledger
records when approved content changes, and cleared by the next approval."""

from __future__ import annotations

from ledger.domain import describe_event
from projections.handlers.support import Event, find_subject, note_period, programme_of, subject_row
from projections.state import Change, Handler, Row, State


def _step(e: Event, state: State, old: Row, to: str, **changes: object) -> Change:
    row = {
        **old,
        "by": e.actor,
        "at": state.recorded_at,
        "version": e.originator_version,
        "position": state.position,
        "state": to,
        **changes,
    }
    state.put("review_state", row)
    return Change(
        row["programme"],
        row["ref"],
        describe_event(e),
        "state",
        old.get("state"),
        row["state"],
        row["period"],
    )


def _current(state: State) -> Row:
    subject = find_subject(state, state.aggregate_id)
    row = state.get("review_state", subject["programme"], subject["ref"], subject["period"])
    if row is None:
        raise LookupError(f"No review of {subject['ref']} for {subject['period']} in the read model")
    return row


def review_submitted(e: Event, state: State) -> Change:
    programme = programme_of(state, e.programme_id)
    slug = programme["programme"]
    period = note_period(state, programme, e.period)
    state.put("subjects", subject_row(e, "Review", slug, e.ref, period=period.label))
    new = {
        "programme": slug,
        "ref": e.ref,
        "period": period.label,
        "period_start": period.start,
        "superseded": 0,
        "approved_sha256": "",
        "approved_by": "",
        "approved_at": "",
        "comment": "",
        "returns": 0,
    }
    return _step(e, state, new, to="submitted", content_sha256=e.content_sha256, submitted_by=e.actor)


def review_resubmitted(e: Event, state: State) -> Change:
    return _step(
        e, state, _current(state), to="submitted", content_sha256=e.content_sha256, submitted_by=e.actor
    )


def review_approved(e: Event, state: State) -> Change:
    return _step(
        e,
        state,
        _current(state),
        to="approved",
        content_sha256=e.content_sha256,
        approved_sha256=e.content_sha256,
        approved_by=e.actor,
        approved_at=state.recorded_at,
        superseded=0,
        comment=e.reason,
    )


def review_returned(e: Event, state: State) -> Change:
    old = _current(state)
    return _step(e, state, old, to="returned", comment=e.reason, returns=old["returns"] + 1)


def review_superseded(e: Event, state: State) -> Change:
    return _step(e, state, _current(state), to="superseded", content_sha256=e.content_sha256, superseded=1)


HANDLERS: dict[str, Handler] = {
    "Review.Submitted": review_submitted,
    "Review.Resubmitted": review_resubmitted,
    "Review.Approved": review_approved,
    "Review.Returned": review_returned,
    "Review.Superseded": review_superseded,
}
