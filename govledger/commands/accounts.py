"""`govledger account`: the first administrator, and password resets.

It finds the data directory on the click context object: `ctx.obj.data_dir` (the
`LedgerContext` that `govledger` sets up) or `ctx.obj["data_dir"]` (a plain dict),
falling back to $GOVLEDGER_DATA_DIR / ./govledger-data when run on its own.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from govledger.support import data_dir_of
from govledger.system import System, open_system
from ledger.domain import ROLES
from ledger.errors import LedgerError
from web.config import CREDENTIALS_DB, DEFAULTS
from web.credentials import CredentialStore

MIN_PASSWORD_LENGTH: int = DEFAULTS["MIN_PASSWORD_LENGTH"]

PASSWORD_ENV = "GOVLEDGER_PASSWORD"


def _cli_actor() -> str:
    return f"{getpass.getuser()} (command line)"


def _password_option(help_text: str) -> Any:
    return click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar=PASSWORD_ENV,
        show_envvar=True,
        help=help_text,
    )


@click.group()
def account() -> None:
    """Create sign-in accounts and reset passwords from the command line.

    Use it to create the first administrator; after that, administrators manage
    accounts in the web app. Accounts are recorded in the ledger (who opened them and
    why); passwords are kept hashed in credentials.db, never in the ledger.
    """


@account.command("create")
@click.option("--username", required=True, help="Sign-in name: letters, digits, . - @")
@click.option("--name", "display_name", required=True, help="The person's full name.")
@click.option("--role", type=click.Choice(ROLES), required=True, help="Their first role.")
@_password_option("Initial password (prompted for if not given; 12 characters or more).")
@click.option("--reason", default="Created from the command line", show_default=True)
@click.pass_context
def create_account_command(
    ctx: click.Context, username: str, display_name: str, role: str, password: str, reason: str
) -> None:
    """Create an account, for example the first administrator:

        govledger account create --username admin --name "Ada Admin" --role administrator
    """
    from web.accounts import create_account

    with _credentials_and_system(ctx) as (system, credentials):
        try:
            created = create_account(
                system.ledger, credentials, username=username, display_name=display_name,
                role=role, password=password, actor=_cli_actor(), reason=reason,
                min_password_length=MIN_PASSWORD_LENGTH,
            )
        except LedgerError as error:
            raise click.UsageError(error.message) from None
    click.echo(f"Created {role} account {created!r}.")


@account.command("set-password")
@click.argument("username")
@_password_option("New password (prompted for if not given; 12 characters or more).")
@click.pass_context
def set_password_command(ctx: click.Context, username: str, password: str) -> None:
    """Set a new password for USERNAME (for example if every administrator is locked out)."""
    with _credentials_and_system(ctx) as (system, credentials):
        from web.accounts import set_password

        try:
            set_password(
                system.ledger, credentials, username=username, password=password,
                actor=_cli_actor(), reason="Reset from the command line",
                min_password_length=MIN_PASSWORD_LENGTH,
            )
        except LedgerError as error:
            raise click.UsageError(error.message) from None
    click.echo(f"Password set for {username.strip().lower()!r}.")


@contextmanager
def _credentials_and_system(ctx: click.Context) -> Iterator[tuple[System, CredentialStore]]:
    data_dir = data_dir_of(ctx)
    data_dir.mkdir(parents=True, exist_ok=True)
    system = open_system(data_dir)
    try:
        yield system, CredentialStore(data_dir / CREDENTIALS_DB)
    finally:
        system.close()

