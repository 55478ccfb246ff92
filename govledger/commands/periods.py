"""`govledger define-periods`: the reporting periods of a programme on the custom cadence,
each a name and its first and last days (periods.csv in an import does the same)."""

from __future__ import annotations

import getpass

import click

from govledger.support import data_dir_of
from govledger.system import opened_ledger
from ledger.errors import LedgerError

EXIT_REFUSED = 1


def _period(text: str) -> list[str]:
    """'2024/25 P2=2024-04-01..2024-07-31' -> [name, first day, last day]."""
    name, _, days = text.partition("=")
    start, dots, end = days.partition("..")
    if not (name.strip() and dots):
        raise click.BadParameter(
            f"{text!r}: write each period as NAME=START..END, like '2024/25 P2=2024-04-01..2024-07-31'."
        )
    return [name.strip(), start.strip(), end.strip()]


@click.command("define-periods")
@click.argument("programme")
@click.argument("periods", nargs=-1, required=True, metavar="NAME=START..END...")
@click.option("--reason", default="", help="Why: needed when periods already defined are redefined")
@click.option("--as", "actor", metavar="USERNAME",
              help="Whose name the change carries  [default: your login name]")
@click.pass_context
def define_periods_command(
    ctx: click.Context, programme: str, periods: tuple[str, ...], reason: str, actor: str | None
) -> None:
    """Define the reporting periods of PROGRAMME (its cadence custom), one argument per
    period, like '2024/25 P2=2024-04-01..2024-07-31'. The periods are the whole definition:
    a redefinition keeps every period already defined, with its dates, and may add
    periods. Statuses, risks, reports and dashboards then order and compare its periods
    by these dates, and refuse a period not defined.

    Exit status: 0 recorded (or already so), 1 refused (nothing recorded)."""
    defined = [_period(text) for text in periods]
    try:
        with opened_ledger(data_dir_of(ctx)) as ledger:
            ledger.define_periods(
                programme, defined, reason=reason, actor=(actor or getpass.getuser()).strip()
            )
    except LedgerError as error:
        click.echo(f"Refused: {error.message} Nothing was recorded.", err=True)
        ctx.exit(EXIT_REFUSED)
    click.echo(f"{programme} reports in {len(defined)} periods: {', '.join(p[0] for p in defined)}.")
