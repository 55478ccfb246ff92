"""Commands on background jobs (ledger.domain.jobs): queue, start (claim), report progress,
finish, fail, expire a lost worker's job, retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.domain.jobs import Job, JobRefused, utc_now
from ledger.errors import Conflict


class JobCommands(LedgerBase):
    def _job(self, b: Batch, job_id: UUID) -> Job:
        return b.existing(Job, job_id, f"There is no job {job_id}.", field="job")

    def _on_job(self, job_id: UUID, change: Callable[[Job], object]) -> UUID:
        return self._change(None, lambda b: self._job(b, job_id), lambda job, b: change(job))

    def queue_job(
        self, kind: str, *, file_sha256: str, file_name: str, file_size: int, options: dict[str, Any],
        actor: str,
    ) -> UUID:
        with self.batch() as b:
            job = b.add(Job(
                kind=kind, file_sha256=file_sha256, file_name=file_name, file_size=file_size,
                options=options, actor=actor,
            ))
        return job.id

    def start_job(
        self, job_id: UUID, *, worker: str, lease_seconds: float, now: datetime | None = None
    ) -> bool:
        """Claim a queued job for `worker`. False if another worker claimed it first (two
        saves of the same version: only one is stored) or it is no longer queued."""
        try:
            self._on_job(job_id, lambda job: job.start(
                worker=worker, lease_seconds=lease_seconds, now=now or utc_now()
            ))
        except (Conflict, JobRefused):
            return False
        return True

    def job_progress(
        self, job_id: UUID, *, worker: str, stage: str, done: int, total: int, lease_seconds: float
    ) -> None:
        self._on_job(job_id, lambda job: job.progress(
            worker=worker, stage=stage, done=done, total=total, lease_seconds=lease_seconds, now=utc_now(),
        ))

    def finish_job(self, job_id: UUID, *, worker: str, result: dict[str, Any]) -> None:
        self._on_job(job_id, lambda job: job.finish(worker=worker, result=result))

    def fail_job(self, job_id: UUID, *, worker: str, problem: str) -> None:
        self._on_job(job_id, lambda job: job.fail(worker=worker, problem=problem))

    def expire_job(self, job_id: UUID, *, actor: str, now: datetime | None = None) -> bool:
        """Fail a running job whose worker's lease ran out; False if it is not (or no
        longer) such a job, e.g. its worker renewed the lease or another worker expired it."""
        try:
            self._on_job(job_id, lambda job: job.expire(actor=actor, now=now or utc_now()))
        except (Conflict, JobRefused):
            return False
        return True

    def retry_job(self, job_id: UUID, *, actor: str) -> UUID:
        return self._on_job(job_id, lambda job: job.retry(actor=actor))

    def get_job(self, job_id: UUID) -> dict[str, Any]:
        with self.batch() as b:
            job = self._job(b, job_id)
        return {
            "id": job.id, "kind": job.kind, "state": job.state, "file_sha256": job.file_sha256,
            "file_name": job.file_name, "file_size": job.file_size, "options": dict(job.options),
            "requested_by": job.requested_by, "worker": job.worker, "lease_until": job.lease_until,
            "attempts": job.attempts, "version": job.version,
        }
