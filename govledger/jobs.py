"""The background job worker: takes queued jobs (ledger.domain.jobs) and runs them.

It runs in `govledger project --follow`, and in `govledger serve` unless that leaves
projecting to a projector service, so a single-process install still runs jobs. Any
number of workers, on any nodes sharing the log, may run at once: a worker claims a
job by recording that it started it, on the job's next version, and of two claims of
the same version the event store keeps only one. A worker only claims jobs whose file
its node keeps (`job-files/` in the data directory, which nodes may share).

While it runs a job a worker renews its lease every quarter of the lease
($GOVLEDGER_JOB_LEASE seconds, default 30) with a progress event. A worker killed
mid-job stops renewing; once the lease has passed, any worker records that the job
failed. Each kind is all or nothing, so a retry runs it whole again: an import records
its rows in one transaction at its end; a rebuild replays the log into a scratch file
and installs it in one step, as `govledger rebuild` does (a killed one leaves the read
model in use as it was); a report is built in memory and kept only when complete.

A rebuild or report job's "file" is its request (web.jobs), so it runs on the node that
asked: the read model rebuilt, and the built report kept, are that node's.

The loop that serves (`run_in_thread`) runs each job it claims in a short-lived process
of its own (`govledger job run JOB --worker NAME`), so however large the file, the
serving process stays near its idle size: Python seldom gives freed memory back to the
system, and a 135k-row import once left `govledger serve` at 550 MB. The child renews the
lease and records how the job ended; if it dies first (killed, out of memory, a crash),
the loop records the job failed at once. The child dies with its parent (Linux's
PR_SET_PDEATHSIG), so a killed worker leaves no job running unseen."""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.utils import resolve_topic

from ledger.domain.jobs import NOTHING_PARTIAL, JobRefused
from ledger.errors import LedgerError
from ledger.transfer.importing import prepare, record, unassigned_programmes
from ledger.transfer.results import ImportResult
from ledger.transfer.stored_files import discard, holds, kept_before, store, stored_path
from projections.projector import ProjectionFailed
from projections.queries.jobs import (
    file_still_needed,
    get_jobs_lost,
    get_jobs_waiting,
    get_reports_built_before,
)
from projections.system import System, build_into_place, open_system

LEASE_ENV = "GOVLEDGER_JOB_LEASE"
PARENT_ENV = "GOVLEDGER_JOB_PARENT"  # the pid of the worker loop that started a job's process
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends
# Added to the first lease when a job runs in its own process: the time that process may
# take to start and record its first progress (imports, opening the ledger) on a busy host.
CHILD_START = 30.0
LEASE = 30.0
POLL = 0.5  # seconds between looks at the queue while it is empty
MAX_PROBLEMS = 1_000  # problems kept in a job's result; the count says how many in all
# What a worker is doing when it starts each kind of job (the page's first progress).
FIRST_STAGE = {
    "import": "reading and checking the file",
    "rebuild": "replaying events",
    "report": "building the report",
}
REPORT_KEPT = timedelta(days=7)  # how long a built report waits to be downloaded
# Format -> what it is, and its renderer (a "module:function" topic, loaded only by a report job:
# openpyxl and python-docx would add ~0.25 s to the start of every job's process).
REPORT_FORMATS: dict[str, tuple[str, str]] = {
    "xlsx": ("spreadsheet (XLSX)", "projections.reports.xlsx:render_xlsx"),
    "docx": ("Word committee paper (DOCX)", "projections.reports.word:render_docx"),
}
log = logging.getLogger(__name__)


def lease_seconds() -> float:
    return float(os.environ.get(LEASE_ENV) or LEASE)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def import_result(result: ImportResult, file_name: str, stored: str) -> dict[str, Any]:
    """What a finished import job shows: what was recorded, or every problem's place."""
    counts = {kind: dict(outcomes) for kind, outcomes in result.row_counts().items()}
    return {
        "summary": result.summary(),
        "recorded": result.recorded,
        "event_count": result.event_count,
        "events_by_kind": dict(result.events_by_kind),
        "rows_by_kind": counts,
        "notes": list(result.notes),
        "problem_count": len(result.problems),
        "problems": [
            {"file": file_name if p.file == stored else p.file, "sheet": p.sheet, "row": p.row,
             "column": p.column, "message": p.message}
            for p in result.problems[:MAX_PROBLEMS]
        ],
    }


class _Heartbeat:
    """Renews the lease, with the latest progress, until stopped."""

    def __init__(self, system: System, job: UUID, worker: str, lease: float, stage: str) -> None:
        self.system, self.job, self.worker, self.lease = system, job, worker, lease
        self.stage, self.done, self.total = stage, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._beat()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def reporting(self, stage: str) -> Callable[[int, int], None]:
        """A progress callback (done, total) for `stage`: the next beat sends it."""
        def report(done: int, total: int) -> None:
            self.stage, self.done, self.total = stage, done, total
        return report

    def _beat(self) -> None:
        self.system.ledger.job_progress(
            self.job, worker=self.worker, stage=self.stage, done=self.done, total=self.total,
            lease_seconds=self.lease,
        )

    def _run(self) -> None:
        while not self._stop.wait(self.lease / 4):
            try:
                self._beat()
            except Exception:  # e.g. the store busy with the import's own save: beat again
                log.exception("Job %s: could not renew the lease", self.job)


def child_ended(kind: str, returncode: int) -> str:
    """What a job's page says when the process running it ended before recording how
    the job went: never its traceback, which stays in the worker's log."""
    if returncode < 0:
        number = -returncode
        try:
            how = f"was stopped by {signal.Signals(number).name}"
        except ValueError:  # a real-time signal: no name
            how = f"was stopped by signal {number}"
        if number == signal.SIGKILL:
            how += " (the system may have run out of memory)"
    else:
        how = f"ended with exit status {returncode}"
    left = NOTHING_PARTIAL[kind]
    return f"The process running it {how} before it finished. {left}; retry the job to run it again."


def die_with_parent(parent: int) -> bool:
    """Have this job's process killed when the worker loop that started it ends, however
    it ends (SIGKILL included), so no job goes on unseen; False if that loop has already
    gone. Elsewhere than Linux an orphaned job runs on to its end, whole."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    return os.getppid() == parent


class Worker:
    """Claims queued jobs and runs them: here (`run_job`), or with `in_child` each in a
    process of its own (`run_child`), as the worker loop does."""

    def __init__(
        self, system: System, *, name: str | None = None, lease: float | None = None, in_child: bool = False
    ) -> None:
        self.system = system
        self.name = name or worker_name()
        self.lease = lease if lease is not None else lease_seconds()
        self.in_child = in_child

    def expire_lost(self) -> int:
        """Record as failed every running job whose worker's lease has passed."""
        now = datetime.now(UTC)
        lost = get_jobs_lost(self.system.projections_db, now=now)
        return sum(self.system.ledger.expire_job(UUID(job), actor=self.name, now=now) for job in lost)

    def run_once(self) -> bool:
        """Fail lost jobs, then claim and run the oldest queued job; False if none."""
        self.expire_lost()
        for job, file_sha256, stored in get_jobs_waiting(self.system.projections_db):
            if not holds(self.system.data_dir, file_sha256, stored):
                continue  # uploaded to another node: its workers run it
            first_lease = self.lease + (CHILD_START if self.in_child else 0)
            if self.system.ledger.start_job(UUID(job), worker=self.name, lease_seconds=first_lease):
                (self.run_child if self.in_child else self.run_job)(UUID(job))
                return True
        return False

    def run(self, stop: threading.Event, poll: float = POLL) -> None:
        while not stop.is_set():
            try:
                if self.run_once():
                    continue
            except Exception:  # a broken job store must not end the projector it runs in
                log.exception("The job worker could not look at the queue")
            stop.wait(poll)

    def run_job(self, job_id: UUID) -> None:
        """Run a job this worker has claimed, and record how it ended."""
        ledger = self.system.ledger
        job = ledger.get_job(job_id)
        run = {"import": self._import, "rebuild": self._rebuild, "report": self._report}[job["kind"]]
        try:
            stage = FIRST_STAGE[job["kind"]]
            with _Heartbeat(self.system, job_id, self.name, self.lease, stage) as heartbeat:
                result = run(job, heartbeat)
        except Exception as error:
            log.exception("Job %s failed", job_id)
            message = getattr(error, "message", None) or f"The job could not be run ({type(error).__name__})."
            if isinstance(error, MemoryError):  # its memory is freed by now: say so, and what is left
                left = NOTHING_PARTIAL[job["kind"]]
                message = (f"The job ran out of memory. {left}; retry it when the server is less busy, "
                           "or split the file.")
            ledger.fail_job(job_id, worker=self.name, problem=message)
        else:
            ledger.finish_job(job_id, worker=self.name, result=result)
            # Done: the file is not read again (a failed job keeps it for its retry).
            if not file_still_needed(self.system.projections_db, job["file_sha256"], besides=str(job_id)):
                discard(self.system.data_dir, job["file_sha256"])
            if job["kind"] == "report":
                self.forget_old_reports()

    def child_command(self, job_id: UUID) -> list[str]:
        data_dir = str(self.system.data_dir)
        return [sys.executable, "-m", "govledger", "--data-dir", data_dir, "job", "run", str(job_id),
                "--worker", self.name]

    def run_child(self, job_id: UUID) -> None:
        """Run a job this worker has claimed in a process of its own, which records its
        progress and how it ended; if the process ends without doing so, record it failed."""
        env = {**os.environ, LEASE_ENV: str(self.lease), PARENT_ENV: str(os.getpid())}
        try:
            child = subprocess.Popen(self.child_command(job_id), env=env, stdin=subprocess.DEVNULL)
            returncode = child.wait()
        except OSError as error:
            log.exception("Job %s: could not start its process", job_id)
            message = f"The job's process could not be started ({error.strerror or type(error).__name__})."
            returncode = None
        if returncode == 0:
            return
        ledger = self.system.ledger
        if returncode is not None:
            log.error("Job %s: its process %s ended with %s", job_id, child.pid, returncode)
            message = child_ended(ledger.get_job(job_id)["kind"], returncode)
        with contextlib.suppress(JobRefused):  # it recorded the job done or failed before it ended
            ledger.fail_job(job_id, worker=self.name, problem=message)

    def forget_old_reports(self, now: datetime | None = None) -> int:
        """Remove built reports that no job has finished building for REPORT_KEPT, and
        that were not written since (a build of the same bytes on another node sharing
        the job store). Their job pages then say to ask for the report again."""
        cutoff = (now or datetime.now(UTC)) - REPORT_KEPT
        old = get_reports_built_before(self.system.projections_db, cutoff)
        gone = [sha for sha, stored in old if kept_before(self.system.data_dir, sha, stored, cutoff)]
        for sha in gone:
            discard(self.system.data_dir, sha)
        return len(gone)

    def _import(self, job: dict[str, Any], heartbeat: _Heartbeat) -> dict[str, Any]:
        ledger = self.system.ledger
        options = job["options"]
        path = stored_path(self.system.data_dir, job["file_sha256"], options["stored"])
        account = ledger.get_account(job["requested_by"])
        assigned = account["programmes"] if account["is_active"] else []
        prepared = prepare(ledger, path).restating(options.get("restate_reason", ""))
        refused = unassigned_programmes(prepared, assigned)
        result = record(
            ledger, prepared, actor=job["requested_by"], dry_run=bool(refused),
            progress=heartbeat.reporting("recording"), saving=heartbeat.reporting("saving events"),
            projecting=heartbeat.reporting("updating the read model"), source_name=job["file_name"],
            once=True,
        )
        result.problems[:0] = refused
        return import_result(result, job["file_name"], options["stored"])

    def _rebuild(self, job: dict[str, Any], heartbeat: _Heartbeat) -> dict[str, Any]:
        """Replay the whole log into a scratch file, then install it in one step."""
        progress = heartbeat.reporting("replaying events")
        try:
            applied = build_into_place(self.system.ledger, self.system.projections_db, progress=progress)
        except ProjectionFailed as error:
            stopped = "The rebuild stopped and the read model in use was not replaced"
            raise LedgerError(f"{stopped}: {error}") from error
        return {"summary": f"Rebuilt the read model from {applied:,} events.", "event_count": applied}

    def _report(self, job: dict[str, Any], heartbeat: _Heartbeat) -> dict[str, Any]:
        """Build the report, then keep the document in the job store for its download."""
        from projections.reports.publish import build_as_at

        o = job["options"]
        what, renderer = REPORT_FORMATS[o["format"]]
        render: Callable[[Any], bytes] = resolve_topic(renderer)
        heartbeat.reporting("building the report")(0, 2)
        report = build_as_at(self.system, o["programme"], o["report"], o["period"], o.get("as_at"))
        heartbeat.reporting(f"writing the {what}")(1, 2)
        stored = f"report.{o['format']}"
        kept = store(self.system.data_dir, io.BytesIO(render(report)), stored)
        return {
            "summary": f"Built the {o['report_name']} for {o['period']} as a {what}, "
            f"from the ledger as at {report.as_at_text}: {kept.size:,} bytes.",
            "sha256": kept.sha256, "stored": stored, "size": kept.size,
            "position": report.as_at.position, "recorded_at": report.as_at.recorded_at,
            "download_name": o["download_name"], "format": o["format"],
        }


def run_in_thread(data_dir: Any, stop: threading.Event) -> threading.Thread:
    """A worker with its own system (its saves project themselves), until `stop`; each job
    in a process of its own. `stop` lets a running job finish first."""
    def work() -> None:
        with open_system(data_dir) as system:
            Worker(system, in_child=True).run(stop)

    thread = threading.Thread(target=work, name="job-worker", daemon=True)
    thread.start()
    return thread
