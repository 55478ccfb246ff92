"""`govledger remind`: email each lead the items they owe an update for, once a day."""

from __future__ import annotations

import getpass
import os
import sys
from datetime import date

import click

from govledger.reminders import SMTP_URL, SettingsError, mail_settings, remind
from govledger.support import data_dir_of
from govledger.system import open_system


@click.command("remind")
@click.option("--dry-run", is_flag=True, help="Show the messages; send and record nothing.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date to work from, as YYYY-MM-DD  [default: today's date]",
)
@click.pass_context
def remind_command(ctx: click.Context, dry_run: bool, today: object) -> None:
    """Email each lead ONE message listing their items due and overdue in opened
    periods, with a link to each item's update form. Run it from cron or a systemd timer.

    A lead already reminded today about a programme is not reminded about it again, so
    running it twice a day sends nothing the second time. Every reminder sent is
    recorded in the ledger (who, which items, when, by which run), never the message.

    Settings (from the environment, never the command line): GOVLEDGER_SMTP_URL
    (smtp://user:password@host:port, or smtps:// for TLS), or GOVLEDGER_SMTP_HOST,
    _PORT, _USER and _PASSWORD; GOVLEDGER_MAIL_FROM, the From address;
    GOVLEDGER_BASE_URL, the web app's address for the links. Without SMTP settings
    it prints what it would send and records nothing.

    Exit status: 0 done, 1 a message could not be sent, 2 settings are wrong.
    """
    try:
        settings = mail_settings(os.environ)
    except SettingsError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
    day = today.date() if today is not None else date.today()  # type: ignore[attr-defined]
    if settings.smtp is None and not dry_run:
        click.echo(
            f"No SMTP settings ({SMTP_URL}): showing what would be sent; nothing is recorded.", err=True
        )
    with open_system(data_dir_of(ctx)) as system:
        outcome = remind(
            system,
            settings,
            today=day,
            actor=f"{getpass.getuser()} (govledger remind)",
            dry_run=dry_run,
            show=click.echo,
        )
    for line in outcome.sent:
        click.echo(f"Sent to {line}")
    for line in outcome.shown:
        click.echo(f"Would send to {line}")
    for line in outcome.skipped:
        click.echo(f"Skipped {line}")
    for line in outcome.failed:
        click.echo(f"Failed {line}", err=True)
    if not (outcome.sent or outcome.shown or outcome.skipped or outcome.failed):
        click.echo("Nothing is due: no reminders to send.")
    if outcome.failed:
        sys.exit(1)
