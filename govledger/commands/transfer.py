"""`govledger import` and `govledger export`: thin click commands over the ledger's
import and export.

They find the data directory on the click context object: `ctx.obj.data_dir` (the
group's `LedgerContext`) or `ctx.obj["data_dir"]`.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from govledger.support import data_dir_of, progress_bars
from govledger.system import opened_ledger
from ledger.transfer.export import ExportError, export
from ledger.transfer.importing import prepare, record
from ledger.transfer.preview import preview
from ledger.transfer.results import ImportResult

MAX_LISTED = 100  # problems or rows printed before "... and N more"
PROGRESS_THRESHOLD = 2_000  # rows: smaller files import faster than a bar can draw
# An import's bars: rows checked and applied, then (in events) the save and the read model.
IMPORT_STAGES = ("Importing rows", "Recording events", "Updating the read model")

EXIT_PROBLEMS = 1


def _listed(lines: list[str], what: str) -> list[str]:
    if len(lines) <= MAX_LISTED:
        return lines
    return [*lines[:MAX_LISTED], f"... and {len(lines) - MAX_LISTED:,} more {what}."]


def _report(result: ImportResult, verbose: bool, onboarding: list[str]) -> None:
    if result.problems:
        for line in _listed([str(p) for p in result.problems], "problems"):
            click.echo(line, err=True)
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)
    for line in onboarding:  # a dry run: unknown statuses, periods, what would change
        click.echo(line)
    if result.problems:
        click.echo(result.summary(), err=True)
        return
    if verbose:
        for row in result.rows:
            click.echo(str(row))
    elif result.dry_run:
        # New rows are what an import is for; changed ones are what a reviewer checks.
        changed = [str(r) for r in result.rows if r.outcome == "changed"]
        for line in _listed(changed, "changed rows"):
            click.echo(line)
    if result.dry_run or verbose:
        for kind, counts in result.row_counts().items():
            parts = ", ".join(f"{counts[o]:,} {o}" for o in ("new", "changed", "unchanged") if counts[o])
            click.echo(f"{kind}: {parts} rows")
    click.echo(result.summary())


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check the file and say what would be recorded; record nothing."
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="List every row and what it records (new, changed or unchanged), not only changed rows.",
)
@click.option(
    "--as",
    "actor",
    metavar="USERNAME",
    help="Whose name the recorded changes carry  [default: your login name]",
)
@click.option(
    "--restate-reason",
    metavar="TEXT",
    default="",
    help="Record each history grid cell that disagrees with the ledger as a restatement with "
    "this reason (without it such cells are refused).",
)
@click.pass_context
def import_command(
    ctx: click.Context, path: Path, dry_run: bool, verbose: bool, actor: str | None, restate_reason: str
) -> None:
    """Import PATH: a folder of CSV files, one CSV file, or an Excel workbook (.xlsx).

    A dry run also lists the statuses not on a programme's scale with every cell using
    them, the periods the file covers, and what would be new, changed or restated.

    The format is in docs/import-format.md; `govledger export` writes it too. Every
    row is checked first and every problem is listed with its file (or sheet), row
    and column. The whole file is recorded in one transaction, or nothing is.

    Importing the same file again records nothing. A changed row records only what
    changed, giving the import as the reason.

    Exit status: 0 recorded (or nothing new), 1 problems (nothing recorded).
    """
    actor = (actor or getpass.getuser()).strip()
    try:
        with (
            opened_ledger(data_dir_of(ctx)) as ledger,
            progress_bars(*IMPORT_STAGES, threshold=PROGRESS_THRESHOLD) as (rows, saving, projecting),
        ):
            prepared = prepare(ledger, path).restating(restate_reason)
            result = record(
                ledger, prepared, actor=actor, dry_run=dry_run, progress=rows, saving=saving,
                projecting=projecting,
            )
            onboarding = preview(ledger, prepared, result).lines() if dry_run else []
    except Exception as error:  # never a traceback: the batch was not saved, so say so
        click.echo(f"Import failed: {error}\nNothing was recorded.", err=True)
        ctx.exit(EXIT_PROBLEMS)
    _report(result, verbose, onboarding)
    if result.problems:
        ctx.exit(EXIT_PROBLEMS)


@click.command("export")
@click.argument("out", type=click.Path(path_type=Path))
@click.pass_context
def export_command(ctx: click.Context, out: Path) -> None:
    """Write the ledger to OUT in the import format: an Excel workbook if OUT ends in
    .xlsx, otherwise a folder of CSV files (created if need be; its CSVs replaced).

    Statuses are written with their full history, everything else as it stands now;
    importing the result into an empty data directory gives the same ledger. Cells
    that a spreadsheet would run as formulas are written so they open as text.

    Exit status: 0 written, 1 not written.
    """
    try:
        result = export(data_dir_of(ctx), out)
    except (ExportError, OSError) as error:
        click.echo(f"Export failed: {error}", err=True)
        ctx.exit(EXIT_PROBLEMS)
    click.echo(result.summary())
