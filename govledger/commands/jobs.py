"""`govledger job run`: one background job (govledger.jobs) in a process of its own."""

from __future__ import annotations

import os
import resource
import sys
import time
from uuid import UUID

import click

from govledger.support import data_dir_of

EXIT_NOT_RUN = 1  # no such job, or not one this process may run
EXIT_ORPHANED = 2  # the worker loop that started it had already ended


@click.group("job")
def job() -> None:
    """Background jobs: web imports over the size threshold, rebuilds and report builds."""


@job.command("run")
@click.argument("job_id", metavar="JOB", type=click.UUID)
@click.option(
    "--worker",
    help="Run a job that this worker has already claimed: how the job worker loop in "
    "`govledger serve` and `govledger project --follow` starts each job's own process.",
)
@click.pass_context
def run_command(ctx: click.Context, job_id: UUID, worker: str | None) -> None:
    """Run one queued job now, in this process, and record how it ended.

    Without --worker it claims the job first, as the worker loop would, so a job
    already running, done or failed is refused (retry a failed one on its page). The
    job page shows its progress as usual. The last line says how long it took and
    this process's peak memory.

    Exit status: 0 the job ran (its page says whether it was done or failed), 1 no
    such job, or not one this process may run, 2 the worker that started it had gone.
    """
    from govledger.jobs import PARENT_ENV, Worker, die_with_parent
    from ledger.errors import LedgerError
    from projections.system import open_system

    parent = os.environ.get(PARENT_ENV)
    if worker and parent and not die_with_parent(int(parent)):
        ctx.exit(EXIT_ORPHANED)
    started = time.perf_counter()
    with open_system(data_dir_of(ctx)) as system:
        runner = Worker(system, name=worker)
        try:
            found = system.ledger.get_job(job_id)
        except LedgerError as error:
            click.echo(str(error), err=True)
            ctx.exit(EXIT_NOT_RUN)
        if worker and (found["state"], found["worker"]) != ("running", worker):
            click.echo(f"Job {job_id} is {found['state']}, not being run by {worker}.", err=True)
            ctx.exit(EXIT_NOT_RUN)
        if not worker and not system.ledger.start_job(job_id, worker=runner.name, lease_seconds=runner.lease):
            click.echo(f"Job {job_id} is {found['state']}: only a queued job can be run.", err=True)
            ctx.exit(EXIT_NOT_RUN)
        runner.run_job(job_id)
        state = system.ledger.get_job(job_id)["state"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "linux" else 2**20)
    seconds = time.perf_counter() - started
    click.echo(f"Job {job_id} ({found['kind']}): {state} in {seconds:.1f} s; peak memory {peak} MB.")
