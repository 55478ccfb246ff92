"""Background jobs: work too big to run inside a web request (an import over the size
threshold, a rebuild of the read model, a report over the size threshold), recorded as
events so every node sees the same queue and the audit trail says who asked for what,
which worker ran it, and how it ended.

A job is queued, then started by exactly one worker: starting is an event on the job's
next version, so of two workers that loaded the same queued job only the first save
wins (the event store's optimistic concurrency). A running job holds a lease that its
worker renews with each progress event; a job whose lease ran out (its worker was
killed) is failed by any worker, and can be retried, which queues it again.

The job's file is never in an event: only its SHA-256, name and size. A rebuild or a
report job's "file" is its request, kept on the node that asked, so it runs there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate
from ledger.errors import LedgerError

JOB_KINDS = ("import", "rebuild", "report")
# What a run cut short leaves behind, by kind: each kind's work is all or nothing.
NOTHING_PARTIAL = {
    "import": "Nothing from the file was recorded",
    "rebuild": "The read model in use was not replaced",
    "report": "No report was kept",
}
JOB_STATES = ("queued", "running", "done", "failed")


class JobRefused(LedgerError):
    """A job asked to do what its state does not allow (start twice, retry a running job)."""


def lease_until(now: datetime, seconds: float) -> str:
    return (now + timedelta(seconds=seconds)).isoformat()


def utc_now() -> datetime:
    return datetime.now(UTC)


class Job(LedgerAggregate):
    """One piece of background work and its history: queued, running, done or failed."""

    @event("Queued")
    def __init__(
        self,
        kind: str,
        file_sha256: str,
        file_name: str,
        file_size: int,
        options: dict[str, Any],
        actor: str,
        reason: str = "",
    ) -> None:
        if kind not in JOB_KINDS:
            raise JobRefused(f"There is no kind of job called {kind!r}.")
        self.kind = kind
        self.file_sha256 = file_sha256
        self.file_name = file_name
        self.file_size = file_size
        self.options = dict(options)
        self.requested_by = actor
        self.state = "queued"
        self.worker = ""
        self.lease_until = ""
        self.attempts = 0

    def _require(self, *states: str, doing: str) -> None:
        if self.state not in states:
            raise JobRefused(f"This job is {self.state}, so it cannot {doing}.")

    def _require_worker(self, worker: str, doing: str) -> None:
        self._require("running", doing=doing)
        if self.worker != worker:
            raise JobRefused(f"This job is being run by {self.worker}, so {worker} cannot {doing}.")

    def start(self, *, worker: str, lease_seconds: float, now: datetime) -> None:
        self._require("queued", doing="be started")
        self._started(worker=worker, lease_until=lease_until(now, lease_seconds), actor=worker)

    @event("Started")
    def _started(self, worker: str, lease_until: str, actor: str) -> None:
        self.state = "running"
        self.worker = worker
        self.lease_until = lease_until
        self.attempts += 1

    def progress(
        self, *, worker: str, stage: str, done: int, total: int, lease_seconds: float, now: datetime
    ) -> None:
        """How far it has got; also renews the worker's lease (the heartbeat)."""
        self._require_worker(worker, "report progress")
        self._progressed(
            stage=stage, done=done, total=total, lease_until=lease_until(now, lease_seconds), actor=worker
        )

    @event("Progressed")
    def _progressed(self, stage: str, done: int, total: int, lease_until: str, actor: str) -> None:
        self.lease_until = lease_until

    def finish(self, *, worker: str, result: dict[str, Any]) -> None:
        self._require_worker(worker, "finish it")
        self._finished(result=result, actor=worker)

    @event("Finished")
    def _finished(self, result: dict[str, Any], actor: str) -> None:
        self.state = "done"

    def fail(self, *, worker: str, problem: str) -> None:
        """The worker running it could not do it (not a problem in the file: those are a
        finished job's result)."""
        self._require_worker(worker, "fail it")
        self._failed(problem=problem, actor=worker)

    def lease_expired(self, now: datetime) -> bool:
        return self.state == "running" and datetime.fromisoformat(self.lease_until) < now

    def expire(self, *, actor: str, now: datetime) -> None:
        """Any worker fails a running job whose lease ran out: its own worker stopped."""
        if not self.lease_expired(now):
            raise JobRefused("This job's worker still holds its lease.")
        self._failed(
            problem=f"The worker running it ({self.worker}) stopped before it finished. "
            f"{NOTHING_PARTIAL[self.kind]}; retry the job to run it again.",
            actor=actor,
        )

    @event("Failed")
    def _failed(self, problem: str, actor: str) -> None:
        self.state = "failed"

    def retry(self, *, actor: str) -> None:
        self._require("failed", doing="be retried")
        self._retried(actor=actor)

    @event("Retried")
    def _retried(self, actor: str) -> None:
        self.state = "queued"
        self.worker = ""
        self.lease_until = ""
