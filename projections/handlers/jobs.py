"""Background jobs: the `jobs` row of each job, as it stands (projections.schema.jobs)."""

from __future__ import annotations

from ledger.domain import describe_event
from projections.handlers.support import Event, json_text
from projections.state import Change, Handler, Row, State


def _job(state: State) -> Row:
    row = state.get("jobs", state.aggregate_id)
    if row is None:
        raise LookupError(f"No job {state.aggregate_id} in the read model")
    return row


def _changed(e: Event, model: State, old: str | None, **values: object) -> Change:
    """Put the job's row with `values` changed; `old` is its state before (None: new)."""
    row = _job(model) if old is not None else {}
    model.put("jobs", {**row, **values, "updated_at": model.recorded_at, "version": e.originator_version})
    new = values.get("state", row.get("state"))
    return Change(None, f"job {model.aggregate_id}", describe_event(e), "state", old, str(new))


def queued(e: Event, state: State) -> Change:
    return _changed(
        e, state, None,
        job=state.aggregate_id, kind=e.kind, state="queued", file_name=e.file_name, file_size=e.file_size,
        file_sha256=e.file_sha256, file_stored=e.options.get("stored", ""),
        requested_by=e.actor, requested_at=state.recorded_at, worker="",
        started_at="", lease_until="", attempts=0, stage="", done=0, total=0, result="", problem="",
        finished_at="", retried_by="", retried_at="",
    )


def started(e: Event, state: State) -> Change:
    old = _job(state)
    return _changed(
        e, state, old["state"], state="running", worker=e.worker, started_at=state.recorded_at,
        lease_until=e.lease_until, attempts=old["attempts"] + 1, stage="starting", done=0, total=0,
        problem="", finished_at="",
    )


def progressed(e: Event, state: State) -> Change:
    return _changed(
        e, state, "running", stage=e.stage, done=e.done, total=e.total, lease_until=e.lease_until,
    )


def finished(e: Event, state: State) -> Change:
    return _changed(
        e, state, "running", state="done", result=json_text(e.result), stage="finished",
        finished_at=state.recorded_at,
    )


def failed(e: Event, state: State) -> Change:
    return _changed(
        e, state, "running", state="failed", problem=e.problem, finished_at=state.recorded_at,
    )


def retried(e: Event, state: State) -> Change:
    return _changed(
        e, state, "failed", state="queued", retried_by=e.actor, retried_at=state.recorded_at, stage="",
        done=0, total=0, result="",
    )


HANDLERS: dict[str, Handler] = {
    "Job.Queued": queued,
    "Job.Started": started,
    "Job.Progressed": progressed,
    "Job.Finished": finished,
    "Job.Failed": failed,
    "Job.Retried": retried,
}
