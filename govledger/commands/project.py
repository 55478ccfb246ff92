"""`govledger project` (the projector as its own process) and `govledger status`."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from govledger.health import last_verify, projection_status
from govledger.support import data_dir_of

EXIT_FAILED = 1


@click.command("project")
@click.option(
    "--follow",
    is_flag=True,
    help="Keep going: project each new event as it is recorded, until stopped (SIGTERM or Ctrl+C).",
)
@click.option(
    "--idle-max",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.01, 60),
    help="On SQLite, the longest pause (seconds) between polls while nothing is recorded.",
)
@click.pass_context
def project_command(ctx: click.Context, follow: bool, idle_max: float) -> None:
    """Bring projections.db up to date with the event log.

    With --follow it runs as a service: on PostgreSQL it is woken by the log's
    LISTEN/NOTIFY as soon as any node records an event; on SQLite it polls, pausing
    longer while nothing happens. Run one per node, and start the node's web server
    with `govledger serve --projector-service` so its workers only read. It also runs
    background jobs (imports over the size threshold), each in a short-lived process of
    its own (`govledger job run`).

    Exit status: 0 stopped cleanly, 1 an event could not be projected (nothing of its
    page was written; fix the cause and start again).
    """
    from govledger.jobs import run_in_thread
    from projections.follow import follow as follow_log
    from projections.projector import ProjectionFailed
    from projections.system import open_system

    data_dir = data_dir_of(ctx)
    try:
        with open_system(data_dir) as system:
            if not follow:
                click.echo(f"Projections at position {system.projector.position}.")
                return
            stop = threading.Event()

            def stop_on(signum: int, _frame: FrameType | None) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, stop_on)
            signal.signal(signal.SIGINT, stop_on)
            click.echo(f"Following the log from position {system.projector.position} (Ctrl+C to stop).")
            jobs = run_in_thread(data_dir, stop)  # background jobs (govledger.jobs) run here too
            try:
                follow_log(system, stop, idle_max=idle_max)
            finally:
                stop.set()
                jobs.join()
            click.echo(f"Stopped at position {system.projector.position}.")
    except ProjectionFailed as error:
        click.echo(f"Projection failed: {error}", err=True)
        ctx.exit(EXIT_FAILED)


@click.command("status")
@click.pass_context
def status_command(ctx: click.Context) -> None:
    """Show the event log's head, the projections' position and lag, and the last verify.

    Reads only: safe while the server and the projector run.
    """
    from ledger.application import open_ledger

    data_dir = data_dir_of(ctx)
    ledger = open_ledger(data_dir)
    try:
        head = ledger.get_log_position()
    finally:
        ledger.close()
    click.echo(f"Event log head: position {head}")
    projection = projection_status(data_dir, head)
    if projection is None:
        click.echo("Projections: none yet (run `govledger project`)")
    else:
        behind = "up to date" if projection.lag == 0 else f"{projection.lag} events behind"
        click.echo(f"Projection {projection.name}: position {projection.position}, {behind}")
    verified = last_verify(data_dir)
    if verified is None:
        click.echo("Last verify: never run here (run `govledger verify`)")
    else:
        result = "intact" if verified.get("intact") else "NOT INTACT"
        click.echo(
            f"Last verify: {verified.get('at')}, {result}, {verified.get('events')} events"
            f" ({verified.get('detail')})"
        )
