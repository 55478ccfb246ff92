"""Reminders: one email to each lead listing their due and overdue items, sent at most
once per lead, programme and day, and recorded as events (never the message itself).

Settings come from the environment, so a cron job or systemd timer needs no secrets on
its command line:

- GOVLEDGER_SMTP_URL: smtp://user:password@host:port (smtps:// for TLS from the start),
  or GOVLEDGER_SMTP_HOST, GOVLEDGER_SMTP_PORT, GOVLEDGER_SMTP_USER, GOVLEDGER_SMTP_PASSWORD;
- GOVLEDGER_MAIL_FROM: the From address; GOVLEDGER_BASE_URL: where the links point.

With no SMTP settings nothing is sent or recorded: the messages are only shown.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from urllib.parse import quote, unquote, urlencode, urlsplit

from email_validator import EmailNotValidError, validate_email

from govledger.system import System
from ledger.errors import DuplicateRef
from projections import queries

SMTP_URL = "GOVLEDGER_SMTP_URL"
SMTP_HOST, SMTP_PORT = "GOVLEDGER_SMTP_HOST", "GOVLEDGER_SMTP_PORT"
SMTP_USER, SMTP_PASSWORD = "GOVLEDGER_SMTP_USER", "GOVLEDGER_SMTP_PASSWORD"
MAIL_FROM, BASE_URL = "GOVLEDGER_MAIL_FROM", "GOVLEDGER_BASE_URL"
TIMEOUT_SECONDS = 30


class SettingsError(ValueError):
    """The environment's mail settings are incomplete or malformed."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: bool  # smtps: TLS from the first byte; otherwise STARTTLS when the server offers it
    user: str = ""
    password: str = field(default="", repr=False)  # never printed

    def describe(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"{'smtps' if self.tls else 'smtp'}://{who}{self.host}:{self.port}"


@dataclass(frozen=True)
class MailSettings:
    smtp: SmtpSettings | None  # None: show what would be sent, send nothing
    sender: str
    base_url: str


def mail_settings(env: Mapping[str, str]) -> MailSettings:
    """Read the settings; raises SettingsError saying what is wrong."""
    smtp = _smtp_settings(env)
    sender = env.get(MAIL_FROM, "").strip()
    base_url = env.get(BASE_URL, "").strip().rstrip("/")
    if smtp is not None:
        if not sender:
            raise SettingsError(f"Set {MAIL_FROM} to the address reminders come from.")
        if not base_url:
            raise SettingsError(f"Set {BASE_URL} to the address of the web app, for the links.")
    if sender:
        try:
            validate_email(sender, check_deliverability=False)
        except EmailNotValidError as error:
            raise SettingsError(f"{MAIL_FROM} is not an email address: {error}") from None
    if base_url and urlsplit(base_url).scheme not in ("http", "https"):
        raise SettingsError(f"{BASE_URL} must start with https:// (or http://).")
    return MailSettings(smtp, sender or "governance-ledger@localhost", base_url or "http://127.0.0.1:8000")


def _smtp_settings(env: Mapping[str, str]) -> SmtpSettings | None:
    url = env.get(SMTP_URL, "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise SettingsError(f"{SMTP_URL} must look like smtp://user:password@host:port (or smtps://).")
        tls = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if tls else 25)
        except ValueError:
            raise SettingsError(f"{SMTP_URL} has a port that is not a number.") from None
        return SmtpSettings(
            parts.hostname, port, tls, unquote(parts.username or ""), unquote(parts.password or "")
        )
    host = env.get(SMTP_HOST, "").strip()
    if not host:
        return None
    port_text = env.get(SMTP_PORT, "").strip() or "25"
    if not port_text.isdigit():
        raise SettingsError(f"{SMTP_PORT} must be a number, like 587.")
    port = int(port_text)
    return SmtpSettings(host, port, port == 465, env.get(SMTP_USER, ""), env.get(SMTP_PASSWORD, ""))


@dataclass
class Outcome:
    """What a run did, lead by lead, in words for the person who ran it."""

    sent: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def item_link(base_url: str, item: Mapping[str, str]) -> str:
    path = f"/programmes/{quote(item['programme'], safe='')}/items/{quote(item['ref'], safe='')}/update"
    return f"{base_url}{path}?{urlencode({'period': item['period']})}"


def compose(
    lead: Mapping[str, object], items: list[dict[str, object]], settings: MailSettings
) -> EmailMessage:
    """The one message a lead gets: every item they owe an update for, overdue first."""
    overdue = [i for i in items if int(i["overdue_days"]) > 0]  # type: ignore[call-overload]
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = str(lead["email"])
    count = f"{len(items)} update{'s' if len(items) != 1 else ''} due"
    message["Subject"] = f"Governance Ledger: {count}" + (f", {len(overdue)} overdue" if overdue else "")
    lines = [f"Dear {lead['display_name']},", "", "These items are waiting for your update:", ""]
    for item in items:
        days = int(item["overdue_days"])  # type: ignore[call-overload]
        when = f"OVERDUE by {days} day{'s' if days != 1 else ''}" if days else f"due {item['due_date']}"
        lines.append(f"- {item['ref']} {item['title']} ({item['programme']}, {item['period']}): {when}")
        lines.append(f"  {item_link(settings.base_url, item)}")  # type: ignore[arg-type]
    lines += ["", "You are receiving this because you lead these items.", "Governance Ledger"]
    message.set_content("\n".join(lines))
    return message


Send = Callable[[EmailMessage], None]


def remind(
    system: System,
    settings: MailSettings,
    *,
    today: date,
    actor: str,
    dry_run: bool = False,
    show: Callable[[str], None] = print,
    send: Send | None = None,
) -> Outcome:
    """Remind every lead with an account of what they owe in opened periods.

    Leads already reminded today about a programme are not reminded about it again.
    Without SMTP settings (or with `dry_run`) each message is shown and nothing is
    recorded. `send` delivers one message (an SMTP connection is opened if not given)."""
    outcome = Outcome()
    run = f"{today.isoformat()}-{uuid.uuid4().hex[:12]}"
    sending = settings.smtp is not None and not dry_run
    with _delivery(settings.smtp if sending else None, send) as deliver:
        for lead in queries.get_reminders_to_send(system.projections_db, today=today):
            name = f"{lead['username']} ({lead['display_name']})"
            if not lead["active"]:
                outcome.skipped.append(f"{name}: account deactivated")
                continue
            if not lead["email"]:
                outcome.skipped.append(f"{name}: no email address (an administrator can add one)")
                continue
            fresh = [
                i
                for i in lead["items"]
                if not system.ledger.was_reminded(i["programme"], lead["username"], today)
            ]
            if not fresh:
                outcome.skipped.append(f"{name}: already reminded today")
                continue
            message = compose(lead, fresh, settings)
            if not sending:
                show(message.as_string())
                outcome.shown.append(f"{name}: {len(fresh)} item(s)")
                continue
            try:
                deliver(message)
            except (smtplib.SMTPException, OSError) as error:
                outcome.failed.append(f"{name}: not sent ({type(error).__name__}: {error})")
                continue
            _record(system, lead["username"], fresh, today=today, run=run, actor=actor, outcome=outcome)
            outcome.sent.append(f"{name} <{lead['email']}>: {len(fresh)} item(s)")
    return outcome


def _record(
    system: System,
    username: str,
    items: list[dict[str, object]],
    *,
    today: date,
    run: str,
    actor: str,
    outcome: Outcome,
) -> None:
    by_programme: dict[str, list[dict[str, object]]] = {}
    for item in items:
        by_programme.setdefault(str(item["programme"]), []).append(item)
    try:
        with system.ledger.batch() as batch:
            for programme, listed in by_programme.items():
                system.ledger.record_reminder(
                    programme, username, day=today, items=listed, run=run, actor=actor, batch=batch
                )
    except DuplicateRef as error:  # another run reminded them meanwhile
        outcome.failed.append(f"{username}: sent, but {error.message}")


@contextmanager
def _delivery(smtp: SmtpSettings | None, send: Send | None) -> Iterator[Send]:
    """How messages go out: the given `send`, else one SMTP connection for the whole run,
    opened on the first message (so a run with nothing to send connects to nobody)."""
    if send is not None or smtp is None:
        yield send or (lambda message: None)
        return
    clients: list[smtplib.SMTP] = []
    refused: list[Exception] = []  # a server that refused us once is not asked again

    def deliver(message: EmailMessage) -> None:
        if refused:
            raise refused[0]
        if not clients:
            try:
                clients.append(_open(smtp))
            except (smtplib.SMTPException, OSError) as error:
                refused.append(error)
                raise
        clients[0].send_message(message)

    try:
        yield deliver
    finally:
        for client in clients:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


def _open(smtp: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if smtp.tls:
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS)
        client.ehlo()
        if client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
    try:
        if smtp.user:
            client.login(smtp.user, smtp.password)
    except BaseException:
        client.close()
        raise
    return client
