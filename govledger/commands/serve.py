"""`govledger serve`: the web app and Datasette on one port, over an existing ledger.

web.serve (Flask, Datasette, uvicorn) is imported only when a server starts.
"""

from __future__ import annotations

import os
import shlex
import threading
from pathlib import Path

import click

from govledger.support import data_dir_of
from ledger.config import EVENTS_DB

EXIT_NO_STORE = 2
EXIT_NO_SHARED_LIMITS = 3
DEMO_DIR = Path("govledger-demo")  # where `govledger demo` builds by default


def missing_store(data_dir: Path) -> str | None:
    """Why `data_dir` has nothing to serve, with the commands that fix it; None if it has.
    Only a SQLite store lives in the data directory; PostgreSQL is checked when opened."""
    if os.environ.get("PERSISTENCE_MODULE", "eventsourcing.sqlite") != "eventsourcing.sqlite":
        return None
    if (data_dir / EVENTS_DB).is_file():
        return None
    here = shlex.quote(str(data_dir))
    return (
        f"No ledger at {data_dir} (no {EVENTS_DB} there), so there is nothing to serve.\n"
        f"  Serve the demo:        govledger --data-dir {DEMO_DIR} serve"
        f"   (build it first with `govledger demo --no-serve`)\n"
        f"  Start a ledger here:   govledger --data-dir {here} account create "
        "--username admin --name \"Your Name\" --role administrator"
    )


def run_server(
    data_dir: Path,
    host: str,
    port: int,
    *,
    secure_cookies: bool | None = None,
    workers: int = 1,
    projector_service: bool = False,
) -> None:
    """Serve `data_dir` until interrupted."""
    from govledger.jobs import run_in_thread
    from web.serve import serve as run

    processes = f" in {workers} worker processes" if workers > 1 else ""
    click.echo(
        f"Serving {data_dir} on http://{host}:{port}/{processes}  (Datasette at /data/; Ctrl+C to stop)"
    )
    stop = threading.Event()
    # Without a projector service nothing else runs background jobs: this process does.
    jobs = None if projector_service else run_in_thread(data_dir, stop)
    try:
        run(
            data_dir, host, port, secure_cookies=secure_cookies, workers=workers,
            projector_service=projector_service,
        )
    finally:
        stop.set()
        if jobs is not None:
            jobs.join()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--insecure-cookies",
    is_flag=True,
    help="Send the sign-in cookie over plain http. Only for a demo on a network without "
    "HTTPS; browsers already allow secure cookies on http://127.0.0.1 and localhost.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (uvicorn's). Sign-in limits and sign-outs are shared by all of them.",
)
@click.option(
    "--projector-service",
    is_flag=True,
    envvar="GOVLEDGER_PROJECTOR_SERVICE",
    help="Leave projecting to `govledger project --follow`: a save waits (up to "
    "$GOVLEDGER_READ_YOUR_WRITES_TIMEOUT seconds, default 5) until the pages show it.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    insecure_cookies: bool,
    workers: int,
    projector_service: bool,
) -> None:
    """Serve the web app, with Datasette at /data/, on one port.

    Signing in to the web app also signs you in to Datasette. Set
    $GOVLEDGER_SECRET_KEY to fix the session key; otherwise one is generated and kept
    (owner-readable only) in the data directory. Refuses a data directory with no
    ledger in it, naming the commands that make one.

    With --workers N, N processes share the port; the sign-in rate limits live in
    ratelimits.db in the data directory (or $GOVLEDGER_RATELIMIT_STORAGE_URI, e.g.
    redis://...), and in-memory limits are refused. Behind a reverse proxy, set
    $GOVLEDGER_TRUSTED_PROXIES to its address.

    Without --projector-service it also runs background jobs (imports over
    $GOVLEDGER_IMPORT_JOB_BYTES); with it, `govledger project --follow` runs them.

    Exit status: 2 no ledger in the data directory; 3 several workers without shared
    rate-limit storage.
    """
    data_dir = data_dir_of(ctx)
    problem = missing_store(data_dir)
    if problem:
        click.echo(problem, err=True)
        ctx.exit(EXIT_NO_STORE)
    from web.serve import shared_storage_problem

    problem = shared_storage_problem(workers)
    if problem:
        click.echo(problem, err=True)
        ctx.exit(EXIT_NO_SHARED_LIMITS)
    run_server(
        data_dir, host, port, secure_cookies=not insecure_cookies, workers=workers,
        projector_service=projector_service,
    )
