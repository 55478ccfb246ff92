"""Each background job runs in a short-lived process of its own, started by the worker
loop (`govledger project --follow` here, as production runs it): killing that process
mid-job records nothing from the file, the loop marks the job failed at once (without
waiting for its lease), and the same loop runs the retry."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from flask.testing import FlaskClient
from test_import_jobs import (
    THRESHOLD,
    Worker,
    item_events,
    job_row,
    many_items,
    projected_items,
    queue_file,
    start_worker,
    wait_until,
)
from test_transfer import text
from web_helpers import AuthActions

from ledger.config import EVENTS_DB
from web.backend import System

__all__ = ["start_worker"]  # the fixture, shared with the import jobs' tests


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"IMPORT_JOB_BYTES": THRESHOLD}


def children(pid: int) -> list[int]:
    """The processes `pid` started (any of its threads), from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def command_line(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def test_a_jobs_own_process_killed_mid_way_records_nothing_is_failed_at_once_and_retries(
    client: FlaskClient, auth: AuthActions, system: System, data_dir: Path,
    start_worker: Callable[..., Worker],
) -> None:
    auth.login("programme manager")
    count = 12_000
    job = queue_file(client, many_items(count, prefix="C"), "items.csv")
    head_before = system.ledger.get_log_position()
    worker = start_worker(lease=1.0)  # its job's process renews it every quarter second

    def recording_part_way() -> bool:
        row = job_row(system, job)
        # Any beat while rows are applied: the one save at the end is well after it.
        return row["stage"] == "recording" and 0 < row["done"] < row["total"]

    wait_until(recording_part_way, "the job's process to be part way through recording the rows", worker)
    [child] = children(worker.process.pid)
    claimed_by = job_row(system, job)["worker"]
    assert command_line(child)[-5:] == ["job", "run", job, "--worker", claimed_by]
    os.kill(child, signal.SIGKILL)  # the job's process only: the worker loop lives on

    # Recorded failed (not only shown so once the lease passes, which a busy host may reach first).
    wait_until(lambda: job_row(system, job)["state"] == "failed", "the loop to record the job failed", worker)
    page = text(client.get(f"/import/jobs/{job}").get_data(as_text=True))
    assert "Failed" in page
    assert (
        "The process running it was stopped by SIGKILL (the system may have run out of memory) before it "
        "finished. Nothing from the file was recorded; retry the job to run it again."
    ) in page
    assert "Traceback" not in page
    assert worker.process.poll() is None
    assert item_events(data_dir, "C") == 0
    with sqlite3.connect(data_dir / EVENTS_DB) as conn:
        found = conn.execute("SELECT topic FROM stored_events WHERE rowid > ?", (head_before,))
        topics = {t for (t,) in found}
    conn.close()
    assert topics <= {"ledger.domain:Job.Started", "ledger.domain:Job.Progressed", "ledger.domain:Job.Failed"}
    system.projector.catch_up()
    assert projected_items(system, "C") == []

    assert client.post(f"/import/jobs/{job}/retry").status_code == 302
    # The message is the loop's (a lease running out says "The worker running it ... stopped").
    assert job_row(system, job)["worker"] == claimed_by
    # The same loop, still running, takes the retry and runs it whole in a new process.
    wait_until(lambda: job_row(system, job)["state"] == "done", "the retried job to finish", worker)
    assert f"Recorded {count:,} events (items: {count})." in text(
        client.get(f"/import/jobs/{job}").get_data(as_text=True)
    )
    assert item_events(data_dir, "C") == count
    names = [type(e).__name__ for e in system.ledger.events.get(UUID(job))]
    names = [n for n in names if n != "Progressed"]
    assert names == ["Queued", "Started", "Failed", "Retried", "Started", "Finished"]
    assert f"Job {job} (import): done in" in worker.log.read_text()  # said by the job's own process
