"""Background jobs (issue 14): the Job aggregate's life, claims that only one worker wins,
lost workers' jobs failed and retried, and the job file store."""

from __future__ import annotations

import io
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from ledger.config import PROJECTIONS_DB
from ledger.domain import JobRefused
from ledger.transfer.kinds import COLUMNS
from ledger.transfer.stored_files import StoredFileMissing, store, stored_path
from projections.queries.jobs import get_job, get_jobs_lost, get_jobs_waiting
from projections.system import System, open_system

SHA = "a" * 64
ITEMS_HEADER = ",".join(COLUMNS["items"])


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    with open_system(tmp_path) as system:
        yield system


def queue(system: System) -> str:
    return str(system.ledger.queue_job(
        "import", file_sha256=SHA, file_name="plan.xlsx", file_size=2048,
        options={"stored": "upload.xlsx"}, actor="pat",
    ))


def row(where: System | Path, job: str, now: datetime | None = None) -> dict:
    db = where.projections_db if isinstance(where, System) else where / PROJECTIONS_DB
    found = get_job(db, job, now=now or datetime.now(UTC))
    assert found is not None
    return found


def event_names(system: System, job: str) -> list[str]:
    return [type(e).__name__ for e in system.ledger.events.get(UUID(job))]


def test_a_job_is_queued_started_reports_progress_and_finishes(system: System) -> None:
    job = queue(system)
    assert get_jobs_waiting(system.projections_db) == [(job, SHA, "upload.xlsx")]
    assert row(system, job)["state"] == "queued"
    assert system.ledger.start_job(UUID(job), worker="w1", lease_seconds=30)
    system.ledger.job_progress(
        UUID(job), worker="w1", stage="recording", done=40, total=100, lease_seconds=30
    )
    running = row(system, job)
    assert [running[k] for k in ("state", "worker", "done", "total")] == ["running", "w1", 40, 100]
    assert running["attempts"] == 1
    assert get_jobs_waiting(system.projections_db) == []
    system.ledger.finish_job(UUID(job), worker="w1", result={"summary": "Recorded 3 events.", "problems": []})
    done = row(system, job)
    assert done["state"] == done["shown_state"] == "done"
    assert done["result"]["summary"] == "Recorded 3 events."
    assert event_names(system, job) == ["Queued", "Started", "Progressed", "Finished"]
    # The file is named by its hash, never carried in an event.
    assert all("content" not in vars(e) for e in system.ledger.events.get(UUID(job)))


def test_two_workers_claiming_the_same_queued_job_store_one_claim(system: System) -> None:
    job = UUID(queue(system))
    first, second = system.ledger.repository.get(job), system.ledger.repository.get(job)
    now = datetime.now(UTC)
    first.start(worker="w1", lease_seconds=30, now=now)
    second.start(worker="w2", lease_seconds=30, now=now)
    system.ledger.save(first)
    with pytest.raises(IntegrityError):  # the same version: the event store keeps one
        system.ledger.save(second)
    assert system.ledger.get_job(job)["worker"] == "w1"
    # Through the command, the loser is told it did not get the job.
    assert not system.ledger.start_job(job, worker="w2", lease_seconds=30)


def test_only_the_worker_running_a_job_reports_on_it(system: System) -> None:
    job = UUID(queue(system))
    with pytest.raises(JobRefused):
        system.ledger.finish_job(job, worker="w1", result={})  # not started
    system.ledger.start_job(job, worker="w1", lease_seconds=30)
    with pytest.raises(JobRefused):
        system.ledger.job_progress(job, worker="w2", stage="recording", done=1, total=2, lease_seconds=30)
    with pytest.raises(JobRefused):
        system.ledger.retry_job(job, actor="pat")  # running: nothing to retry


def test_a_lost_workers_job_is_failed_once_its_lease_passes_and_can_be_retried(system: System) -> None:
    job = queue(system)
    start = datetime.now(UTC)
    assert system.ledger.start_job(UUID(job), worker="w1", lease_seconds=10, now=start)
    # Within the lease it is running, and no worker may fail it.
    assert row(system, job, start + timedelta(seconds=5))["shown_state"] == "running"
    assert not system.ledger.expire_job(UUID(job), actor="w2", now=start + timedelta(seconds=5))
    later = start + timedelta(seconds=11)
    # After it, the page shows it failed before any worker says so...
    assert row(system, job, later)["shown_state"] == "failed"
    assert get_jobs_lost(system.projections_db, now=later) == [job]
    # ...and the next worker records it.
    assert system.ledger.expire_job(UUID(job), actor="w2", now=later)
    failed = row(system, job)
    assert failed["state"] == "failed" and "stopped before it finished" in failed["problem"]
    system.ledger.retry_job(UUID(job), actor="pat")
    queued = row(system, job)
    assert (queued["state"], queued["retried_by"]) == ("queued", "pat")
    assert queued["retried_at"] >= queued["requested_at"]
    assert system.ledger.start_job(UUID(job), worker="w3", lease_seconds=10)
    assert row(system, job)["attempts"] == 2
    assert event_names(system, job) == ["Queued", "Started", "Failed", "Retried", "Started"]


@pytest.mark.parametrize(("kind", "left"), [
    ("import", "Nothing from the file was recorded"),
    ("rebuild", "The read model in use was not replaced"),
    ("report", "No report was kept"),
])
def test_a_lost_workers_job_says_what_its_kind_left_behind(system: System, kind: str, left: str) -> None:
    job = system.ledger.queue_job(
        kind, file_sha256=SHA, file_name="request", file_size=10, options={"stored": "request.json"},
        actor="pat",
    )
    start = datetime.now(UTC)
    system.ledger.start_job(job, worker="w1", lease_seconds=1, now=start)
    assert system.ledger.expire_job(job, actor="w2", now=start + timedelta(seconds=2))
    assert row(system, str(job))["problem"] == (
        f"The worker running it (w1) stopped before it finished. {left}; retry the job to run it again."
    )


def test_there_is_no_job_of_an_unknown_kind(system: System) -> None:
    with pytest.raises(JobRefused, match="no kind of job called 'vacuum'"):
        system.ledger.queue_job(
            "vacuum", file_sha256=SHA, file_name="x", file_size=1, options={}, actor="pat"
        )


def test_a_done_job_cannot_be_retried(system: System) -> None:
    job = UUID(queue(system))
    system.ledger.start_job(job, worker="w1", lease_seconds=30)
    system.ledger.finish_job(job, worker="w1", result={})
    with pytest.raises(JobRefused, match="is done"):
        system.ledger.retry_job(job, actor="pat")


def test_job_files_are_kept_by_hash_for_their_owner_only(tmp_path: Path) -> None:
    kept = store(tmp_path, io.BytesIO(b"programme,ref\n"), "items.csv")
    again = store(tmp_path, io.BytesIO(b"programme,ref\n"), "items.csv")
    assert kept == again  # the same bytes are kept once
    assert kept.size == 14
    assert kept.path.parent.name == kept.sha256
    assert stat.S_IMODE(kept.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(kept.path.parent.parent.stat().st_mode) == 0o700
    assert stored_path(tmp_path, kept.sha256, "items.csv") == kept.path
    kept.path.write_bytes(b"programme,ref\nchanged,after\n")
    with pytest.raises(StoredFileMissing, match="no longer matches"):
        stored_path(tmp_path, kept.sha256, "items.csv")
    with pytest.raises(StoredFileMissing):
        stored_path(tmp_path, "../" + kept.sha256[3:], "items.csv")
    with pytest.raises(ValueError):
        store(tmp_path, io.BytesIO(b"x"), "../evil.csv")


def test_govledger_serve_runs_jobs_when_there_is_no_projector_service(tmp_path: Path) -> None:
    """A single-process install: `govledger serve` alone takes a queued import and runs it."""
    with open_system(tmp_path) as system:
        system.ledger.register_programme("plan", "Plan", cadence="quarterly", actor="setup")
        system.ledger.open_account("pat", display_name="Pat", role="programme manager", actor="setup")
        system.ledger.assign_programme("pat", "plan", actor="setup")
        rows = "".join(f"plan,S{n},action,Do S{n},,,\n" for n in range(30))
        kept = store(tmp_path, io.BytesIO(f"{ITEMS_HEADER}\n{rows}".encode()), "items.csv")
        job = str(system.ledger.queue_job(
            "import", file_sha256=kept.sha256, file_name="my items.csv", file_size=kept.size,
            options={"stored": "items.csv"}, actor="pat",
        ))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GOVLEDGER_DATA_DIR": str(tmp_path)}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "govledger", "serve", "--port", str(port), "--insecure-cookies"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90  # a bound, not a timing assertion
        while row(tmp_path, job)["state"] != "done":
            assert server.poll() is None, "the server ended"
            assert time.monotonic() < deadline, "the job never finished"
            time.sleep(0.05)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert row(tmp_path, job)["result"]["summary"] == "Recorded 30 events (items: 30)."
    # Run in a process of its own (only `govledger job run` says this), not in the server's.
    assert f"Job {job} (import): done in" in log.read_text()
