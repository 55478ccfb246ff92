"""`govledger rebuild` and `govledger snapshot`: the read side from the command line.

They find the data directory as every `govledger` command does (govledger.support):
the group's context object, `ctx.obj.data_dir` or `ctx.obj["data_dir"]`.
"""

from __future__ import annotations

from pathlib import Path

import click

from govledger.support import data_dir_of, progress_bar
from ledger.config import projections_path
from projections.asat import programme_snapshot
from projections.projector import ProjectionFailed
from projections.system import parse_as_at, rebuild, snapshot


@click.command("rebuild")
@click.pass_context
def rebuild_command(ctx: click.Context) -> None:
    """Rebuild the read model (projections.db) from the whole event log.

    Every event is replayed into a new file next to projections.db, which then replaces
    the old one in a single step: the web pages and Datasette keep showing the old
    tables until the new ones are complete. Run it after upgrading, or when the read
    model needs to be rebuilt. The event log itself is never changed.
    """
    data_dir = data_dir_of(ctx)
    try:
        with progress_bar("Replaying events") as report:
            applied = rebuild(data_dir, progress=report)
    except ProjectionFailed as error:
        raise click.ClickException(f"The rebuild stopped and nothing was replaced: {error}") from error
    click.echo(f"Rebuilt {projections_path(data_dir)} from {applied:,} events.")


@click.command("snapshot")
@click.option(
    "--as-at",
    "as_at",
    required=True,
    metavar="TIME|POSITION",
    help=(
        "Where to stop: an event log position (like 1200), or a time in ISO format "
        "(2024-10-03, 2024-10-03T17:30, 2024-10-03T17:30:00+01:00). Events recorded at or "
        "before it are included. A time without a zone is UTC; a date alone means the end "
        "of that day."
    ),
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The new database file to write (the same tables as projections.db).",
)
@click.option("--force", is_flag=True, help="Replace the --out file if it already exists.")
@click.option(
    "--programme",
    metavar="PROGRAMME",
    help=(
        "Only this programme (its id, like plan): replays its events and those of accounts, "
        "scales and programmes' names, not the whole log, so it takes seconds on a log of "
        "millions; as at now it copies the programme's rows from the read model instead."
    ),
)
@click.pass_context
def snapshot_command(ctx: click.Context, as_at: str, out: Path, force: bool, programme: str | None) -> None:
    """Write the read model as it stood at a past moment: what the committee saw.

    Replays the event log up to a log position or a time into a new database file, with
    the same tables as projections.db (open it with Datasette or sqlite3). Corrections
    recorded after that moment are not in it; compare it with the live read model to
    see what changed since.
    """
    data_dir = data_dir_of(ctx)
    try:
        point = parse_as_at(as_at)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--as-at") from error
    try:
        if programme:
            result = programme_snapshot(data_dir, out, programme, as_at, overwrite=force)
        else:
            with progress_bar(f"Replaying events as at {point.label}") as report:
                result = snapshot(data_dir, out, as_at, progress=report, overwrite=force)
    except LookupError as error:
        raise click.ClickException(str(error.args[0])) from error
    except FileExistsError as error:
        raise click.ClickException(f"{out} already exists: choose another file or add --force.") from error
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    except ProjectionFailed as error:
        raise click.ClickException(f"The snapshot stopped and nothing was written: {error}") from error
    click.echo(
        f"Wrote {result.path}: as at {result.as_at}, "
        + (f"programme {programme}, " if programme else "")
        + f"{result.events:,} events "
        f"(up to log position {result.position})."
    )

