"""`govledger demo`: a fresh data directory with the three seed reports, then serve."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from govledger.commands.serve import DEMO_DIR, run_server
from govledger.demo.load import MARKER, DemoRefused, load_demo
from govledger.support import chosen_data_dir, progress_bar
from ledger.errors import LedgerError

EXIT_REFUSED = 1


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def demo_dir(own: Path | None, ctx: click.Context) -> Path:
    """Where the demo goes, in the documented order: `demo --data-dir`, then
    `govledger --data-dir` or $GOVLEDGER_DATA_DIR, then ./govledger-demo."""
    return (own or chosen_data_dir(ctx) or DEMO_DIR).resolve()


def _may_replace(data_dir: Path, yes: bool) -> bool:
    """An earlier demo is replaced only when the user says so: its accounts and
    passwords go with it. Without a terminal to ask at, only --yes says so."""
    if yes or not (data_dir / MARKER).exists():
        return True
    if not _stdin_is_terminal():
        click.echo(
            f"{data_dir} already holds a demo. Rebuilding it replaces its accounts and passwords.\n"
            f"Serve it as it is:  govledger --data-dir {data_dir} serve\n"
            "Or rebuild it without being asked:  govledger demo --yes",
            err=True,
        )
        return False
    return click.confirm(
        f"{data_dir} already holds a demo. Replace it, with new accounts and passwords?",
        default=False,
    )


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to build the demo  [default: govledger's --data-dir or $GOVLEDGER_DATA_DIR, "
    "else ./govledger-demo]. Rebuilt from scratch on every run (after asking, if a demo is "
    "already there); refuses a directory that holds anything the demo did not create.",
)
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve the web app afterwards.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "-y", "--yes", is_flag=True,
    help="Replace an earlier demo without asking (for scripts; needed when there is no terminal).",
)
@click.pass_context
def demo(ctx: click.Context, data_dir: Path | None, serve: bool, host: str, port: int, yes: bool) -> None:
    """Load the three seed reports as real ledger history and serve the product.

    The Cheshire East Plan 2024/25 (Q1: 66 rated actions and organisational health
    indicators), the Cornwall SEND inclusion highlight report and the Cheshire
    Children's Trust partnership report go through `govledger import`, exactly as a
    council's own spreadsheet would. One account per role is created with a fresh random
    password, printed here and kept in DATA_DIR/demo-accounts.txt.

    Serve the same demo again later with `govledger --data-dir govledger-demo serve`.
    """
    target = demo_dir(data_dir, ctx)
    if not _may_replace(target, yes):
        click.echo("The demo was left as it was.", err=True)
        ctx.exit(EXIT_REFUSED)
    try:
        with progress_bar("Importing the seed reports") as progress:
            load = load_demo(target, progress=progress)
    except (DemoRefused, LedgerError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Demo data loaded into {target}")
    click.echo(load.imported.summary())
    click.echo(load.events_text())
    click.echo(load.accounts_text())
    click.echo(f"\nServe this demo again later:  govledger --data-dir {target} serve")
    if serve:
        click.echo("")
        run_server(target, host, port)
