"""The `govledger` command: a click group whose commands load only when they run.

Each command family lives in its own module under `govledger.commands`, named in
`COMMANDS` below and imported the first time the command is looked up (click's
documented LazyGroup pattern), so `govledger verify` never imports Flask or Datasette.
`--data-dir` / $GOVLEDGER_DATA_DIR is resolved here, once, into the `LedgerContext`
every command reads.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click

from govledger.support import LedgerContext
from ledger.config import DATA_DIR_ENV, resolve_data_dir

# Command name -> "module:attribute" of its click command.
COMMANDS: dict[str, str] = {
    "account": "govledger.commands.accounts:account",
    "audit-bundle": "govledger.commands.bundle:audit_bundle",
    "backup": "govledger.commands.backup:backup_command",
    "checkpoint": "govledger.commands.integrity:checkpoint",
    "define-periods": "govledger.commands.periods:define_periods_command",
    "demo": "govledger.commands.demo:demo",
    "export": "govledger.commands.transfer:export_command",
    "import": "govledger.commands.transfer:import_command",
    "job": "govledger.commands.jobs:job",
    "keygen": "govledger.commands.keys:keygen",
    "proof": "govledger.commands.proofs:proof",
    "project": "govledger.commands.project:project_command",
    "merge": "govledger.commands.register:merge_command",
    "merkle-backfill": "govledger.commands.merkle:merkle_backfill",
    "move": "govledger.commands.register:move_command",
    "rebuild": "govledger.commands.projections:rebuild_command",
    "reinstate": "govledger.commands.register:reinstate_command",
    "remind": "govledger.commands.remind:remind_command",
    "restore": "govledger.commands.backup:restore_command",
    "retire": "govledger.commands.register:retire_command",
    "serve": "govledger.commands.serve:serve",
    "snapshot": "govledger.commands.projections:snapshot_command",
    "status": "govledger.commands.project:status_command",
    "verify": "govledger.commands.integrity:verify",
}


class LazyGroup(click.Group):
    """A group that imports each subcommand's module only when that command is needed."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy_commands:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = self.lazy_commands[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
        return command


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=DATA_DIR_ENV,
    show_envvar=True,
    help="Directory holding events.db and projections.db  [default: ./govledger-data; "
    "for `govledger demo`, ./govledger-demo]",
)
@click.version_option(package_name="governance-ledger")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """Governance Ledger: a tamper-evident record of RAG ratings, updates, risks and
    indicators for public-sector programme reporting.

    Every change is appended to a hash-chained event log (events.db); nothing is ever
    updated or deleted. Run `govledger COMMAND --help` for each command.
    """
    ctx.obj = LedgerContext(data_dir=resolve_data_dir(data_dir), chosen=data_dir)
