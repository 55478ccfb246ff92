"""Each background job in a process of its own (govledger.jobs, `govledger job run`): a
process that ends without saying how the job went leaves it failed with a clear message
(never its traceback), and the command runs only a job it may run."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest
from click.testing import CliRunner

import govledger.jobs
from govledger.cli import main
from govledger.jobs import PARENT_ENV, Worker
from ledger.transfer.kinds import COLUMNS
from ledger.transfer.stored_files import FOLDER, store
from projections.queries.connection import rows
from projections.system import System

ITEMS_HEADER = ",".join(COLUMNS["items"])


def queue_import(system: System, count: int = 5) -> UUID:
    system.ledger.register_programme("plan", "Plan", cadence="quarterly", actor="setup")
    system.ledger.open_account("pat", display_name="Pat", role="programme manager", actor="setup")
    system.ledger.assign_programme("pat", "plan", actor="setup")
    lines = "".join(f"plan,P{n},action,Do P{n},,,\n" for n in range(count))
    kept = store(system.data_dir, io.BytesIO(f"{ITEMS_HEADER}\n{lines}".encode()), "items.csv")
    return system.ledger.queue_job(
        "import", file_sha256=kept.sha256, file_name="items.csv", file_size=kept.size,
        options={"stored": "items.csv"}, actor="pat",
    )


def items_recorded(system: System) -> int:
    return rows(system.projections_db, "SELECT COUNT(*) AS n FROM items")[0]["n"]


class CrashingWorker(Worker):
    """Its job's process ends as a real one can, before anything is recorded."""

    def __init__(self, system: System, code: str) -> None:
        super().__init__(system, name="w1", in_child=True)
        self.code = code

    def child_command(self, job_id: UUID) -> list[str]:
        return [sys.executable, "-c", self.code]


@pytest.mark.parametrize(("code", "how"), [
    ("raise RuntimeError('secret detail of the crash')", "ended with exit status 1"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", "was stopped by SIGTERM"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGRTMIN + 1)",  # a signal with no name
     f"was stopped by signal {signal.SIGRTMIN + 1}"),
])
def test_a_jobs_process_that_crashes_leaves_the_job_failed_with_a_clear_message(
    system: System, code: str, how: str
) -> None:
    job = queue_import(system)
    assert CrashingWorker(system, code).run_once()
    ended = system.ledger.get_job(job)
    assert ended["state"] == "failed"
    failed = [e for e in system.ledger.events.get(job) if type(e).__name__ == "Failed"]
    assert [e.problem for e in failed] == [
        f"The process running it {how} before it finished. "
        "Nothing from the file was recorded; retry the job to run it again."
    ]
    assert items_recorded(system) == 0
    # A retry in a working process runs it whole.
    system.ledger.retry_job(job, actor="pat")
    assert Worker(system, name="w2", in_child=True).run_once()
    system.projector.catch_up()
    assert system.ledger.get_job(job)["state"] == "done"
    assert items_recorded(system) == 5


def test_a_jobs_process_that_cannot_start_leaves_the_job_failed(system: System) -> None:
    class Unstartable(Worker):
        def child_command(self, job_id: UUID) -> list[str]:
            return [str(system.data_dir / "no-such-program")]

    job = queue_import(system)
    assert Unstartable(system, name="w1", in_child=True).run_once()
    [failed] = [e for e in system.ledger.events.get(job) if type(e).__name__ == "Failed"]
    assert failed.problem == "The job's process could not be started (No such file or directory)."


def test_govledger_job_run_runs_a_queued_job_once(system: System) -> None:
    job = queue_import(system, count=3)
    args = ["--data-dir", str(system.data_dir), "job", "run", str(job)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Job {job} (import): done in ")
    assert "peak memory" in result.output
    system.projector.catch_up()
    assert items_recorded(system) == 3
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1
    assert f"Job {job} is done: only a queued job can be run." in again.output
    assert items_recorded(system) == 3
    missing = CliRunner().invoke(main, [*args[:-1], "00000000-0000-4000-8000-000000000000"])
    assert missing.exit_code == 1 and "There is no job" in missing.output


def test_govledger_job_run_for_a_worker_runs_only_that_workers_job(system: System) -> None:
    job = queue_import(system)
    args = ["--data-dir", str(system.data_dir), "job", "run", str(job), "--worker", "w1"]
    refused = CliRunner().invoke(main, args)  # queued: w1 has not claimed it
    assert refused.exit_code == 1 and f"Job {job} is queued, not being run by w1." in refused.output
    assert system.ledger.start_job(job, worker="w2", lease_seconds=30)
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and "not being run by w1" in refused.output
    assert system.ledger.get_job(job)["state"] == "running"  # left to w2


def test_a_jobs_process_whose_worker_has_gone_runs_nothing(system: System) -> None:
    job = queue_import(system)
    assert system.ledger.start_job(job, worker="w1", lease_seconds=30)
    # Started for a worker loop that is not its parent (that loop ended before it began).
    env = {**os.environ, PARENT_ENV: "1"}
    ended = subprocess.run(
        [sys.executable, "-m", "govledger", "--data-dir", str(system.data_dir), "job", "run", str(job),
         "--worker", "w1"],
        env=env, capture_output=True, text=True, check=False,
    )
    assert ended.returncode == 2, ended.stderr
    assert system.ledger.get_job(job)["state"] == "running"
    assert items_recorded(system) == 0
    assert Path(system.data_dir, FOLDER, system.ledger.get_job(job)["file_sha256"]).is_dir()  # kept


def test_a_job_that_runs_out_of_memory_says_so(system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(govledger.jobs, "prepare", out_of_memory)
    job = queue_import(system)
    assert Worker(system, name="w1").run_once()
    [failed] = [e for e in system.ledger.events.get(job) if type(e).__name__ == "Failed"]
    assert failed.problem == (
        "The job ran out of memory. Nothing from the file was recorded; retry it when the server is "
        "less busy, or split the file."
    )
