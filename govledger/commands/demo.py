"""`govledger demo`: a fresh data directory with the three seed reports, then serve."""

from __future__ import annotations

from pathlib import Path

import click

from ledger.cli_support import progress_bar
from ledger.demo.load import DemoRefused, load_demo
from ledger.errors import LedgerError

DEFAULT_DEMO_DIR = Path("govledger-demo")


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DEMO_DIR,
    show_default=True,
    help="Where to build the demo. Rebuilt from scratch on every run; refuses a directory "
    "that holds anything the demo did not create.",
)
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve the web app afterwards.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def demo(data_dir: Path, serve: bool, host: str, port: int) -> None:
    """Load the three seed reports as real ledger history and serve the product.

    The Cheshire East Plan 2024/25 (Q1: 66 rated actions and organisational health
    indicators), the Cornwall SEND inclusion highlight report and the Cheshire
    Children's Trust partnership report go through `govledger import`, exactly as a
    council's own spreadsheet would. One account per role is created with a fresh random
    password, printed here and kept in DATA_DIR/demo-accounts.txt.
    """
    data_dir = data_dir.resolve()
    try:
        with progress_bar("Importing the seed reports") as progress:
            load = load_demo(data_dir, progress=progress)
    except (DemoRefused, LedgerError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Demo data loaded into {data_dir}")
    click.echo(load.imported.summary())
    click.echo(load.accounts_text())
    if serve:
        from web.serve import serve as run

        click.echo(f"\nServing on http://{host}:{port}/  (Datasette at /data/; Ctrl+C to stop)")
        run(data_dir, host, port)
