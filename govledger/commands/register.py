"""`govledger retire`, `merge` and `reinstate`: take an item off the register from a
period on (or merge it into another item) and put it back; `govledger move`: file it
under another parent. Each with a reason."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Any

import click

from govledger.support import data_dir_of
from govledger.system import opened_ledger
from ledger.application import Ledger
from ledger.errors import LedgerError

EXIT_REFUSED = 1


def _item_options(*middle: Callable[..., Any]) -> Callable[..., Any]:
    """What every one of these commands takes: the item, its own options, the reason, who."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed((
            click.argument("programme"),
            click.argument("ref"),
            *middle,
            click.option("--reason", required=True, help="Why: recorded with the event"),
            click.option("--as", "actor", metavar="USERNAME",
                         help="Whose name the change carries  [default: your login name]"),
        )):
            command = option(command)
        return command

    return decorate


_options = _item_options(
    click.option("--period", required=True, help="The first period it applies to, e.g. '2024/25 Q3'")
)


def _run(ctx: click.Context, actor: str | None, change: Callable[[Ledger, str], object], done: str) -> None:
    """Run one command; a refusal is a message and exit 1, never a traceback."""
    try:
        with opened_ledger(data_dir_of(ctx)) as ledger:
            change(ledger, (actor or getpass.getuser()).strip())
    except LedgerError as error:
        click.echo(f"Refused: {error.message} Nothing was recorded.", err=True)
        ctx.exit(EXIT_REFUSED)
    click.echo(done)


@click.command("retire")
@_options
@click.pass_context
def retire_command(
    ctx: click.Context, programme: str, ref: str, period: str, reason: str, actor: str | None
) -> None:
    """Retire item REF of PROGRAMME from --period on. Its history stays under its ref;
    from that period it is in no count, is not missing an update, and shows as retired.

    Exit status: 0 recorded, 1 refused (nothing recorded)."""
    _run(ctx, actor, lambda ledger, who: ledger.retire_item(
        programme, ref, period=period, reason=reason, actor=who
    ), f"{ref} is retired from {period}.")


@click.command("merge")
@_options
@click.option("--into", "merged_into", required=True, metavar="REF", help="The item it is merged into")
@click.pass_context
def merge_command(
    ctx: click.Context, programme: str, ref: str, period: str, reason: str, actor: str | None,
    merged_into: str,
) -> None:
    """Merge item REF of PROGRAMME into item --into from --period on: it shows as
    "retired (merged into R5)" and its history stays under its own ref.

    Exit status: 0 recorded, 1 refused (nothing recorded)."""
    _run(ctx, actor, lambda ledger, who: ledger.retire_item(
        programme, ref, period=period, reason=reason, merged_into=merged_into, actor=who
    ), f"{ref} is merged into {merged_into} from {period}.")


@click.command("reinstate")
@_options
@click.pass_context
def reinstate_command(
    ctx: click.Context, programme: str, ref: str, period: str, reason: str, actor: str | None
) -> None:
    """Put retired item REF of PROGRAMME back on the register from --period on.

    Exit status: 0 recorded, 1 refused (nothing recorded)."""
    _run(ctx, actor, lambda ledger, who: ledger.reinstate_item(
        programme, ref, period=period, reason=reason, actor=who
    ), f"{ref} is back on the register from {period}.")


@click.command("move")
@_item_options(
    click.option("--under", "parent_ref", metavar="REF", help="The item it moves under"),
    click.option("--top", is_flag=True, help="Move it to the top of the programme (no parent)"),
)
@click.pass_context
def move_command(
    ctx: click.Context, programme: str, ref: str, parent_ref: str | None, top: bool, reason: str,
    actor: str | None,
) -> None:
    """Move item REF of PROGRAMME under item --under (or to the --top), with everything
    filed beneath it. Its history stays under its ref; reports group it under its new
    parent from then on.

    Exit status: 0 recorded, 1 refused (nothing recorded), 2 neither or both of --under
    and --top."""
    if bool(parent_ref) == top:
        raise click.UsageError("Give either --under REF or --top.")
    where = f"under {parent_ref}" if parent_ref else "to the top of the programme"
    _run(ctx, actor, lambda ledger, who: ledger.move_item(
        programme, ref, parent_ref or "", reason=reason, actor=who
    ), f"{ref} is moved {where}.")
