"""`govledger remind` against a real SMTP server on loopback (aiosmtpd, started here):
one message per lead with their due and overdue items and links, recorded once per lead,
programme and day; nothing sent or recorded without SMTP settings or with --dry-run."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner, Result

from govledger.cli import main
from govledger.system import open_system
from projections import queries

PASSWORD = "s3cret-relay-password"
BASE = "https://ledger.example.gov.uk"


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"relay", PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=_authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def cycle(tmp_path: Path) -> Path:
    """Two programmes with opened periods; jo leads items in both, sam one, and one lead
    is free text. As at 2024-07-20: plan's Q1 was due 2024-07-15 (5 days overdue), send's
    2024-07 is due 2024-08-10."""
    with open_system(tmp_path) as system:
        ledger = system.ledger
        ledger.register_programme("plan", "Council Plan", cadence="quarterly", actor="admin")
        ledger.register_programme("send", "SEND", cadence="monthly", actor="admin")
        ledger.open_account("jo", display_name="Jo Bloggs", role="officer", actor="admin")
        ledger.open_account("sam", display_name="Sam Smith", role="officer", actor="admin")
        ledger.open_account("ann", display_name="Ann Other", role="officer", actor="admin")
        ledger.set_email("jo", "jo@example.gov.uk", actor="admin", reason="Reminders")
        ledger.set_email("sam", "sam@example.gov.uk", actor="admin", reason="Reminders")
        for programme, ref, lead in [
            ("plan", "A1", "jo"),
            ("plan", "A2", "jo"),
            ("plan", "A3", "sam"),
            ("plan", "A4", "ann"),  # no email address: skipped
            ("plan", "A5", ""),  # free text only: nobody to remind
            ("send", "WS7", "jo"),
        ]:
            ledger.register_item(
                programme, ref, kind="action", title=f"Item {ref}", lead_officer="Director", actor="admin"
            )
            if lead:
                ledger.link_lead(programme, ref, lead, actor="admin", reason="Leads it")
        ledger.open_period("plan", "2024/25 Q1", due_date="2024-07-15", actor="pm")
        ledger.open_period("send", "2024-07", due_date="2024-08-10", actor="pm")
        # Updated, so not due: A2 has a status and an update.
        ledger.record_status("plan", "A2", period="2024/25 Q1", status="Green", update="Done", actor="jo")
    return tmp_path


def run(data: Path, today: str, env: dict[str, str], *extra: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data), "remind", "--today", today, *extra], env=env)


def settings(port: int) -> dict[str, str]:
    return {
        "GOVLEDGER_SMTP_URL": f"smtp://relay:{PASSWORD}@127.0.0.1:{port}",
        "GOVLEDGER_MAIL_FROM": "performance@example.gov.uk",
        "GOVLEDGER_BASE_URL": BASE + "/",
    }


def reminder_rows(data: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(data / "events.db") as conn:
        return conn.execute(
            "SELECT topic, CAST(state AS TEXT) FROM stored_events WHERE topic LIKE '%Reminder%'"
        ).fetchall()


def test_each_lead_gets_one_message_with_their_due_and_overdue_items_and_links(
    cycle: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    result = run(cycle, "2024-07-20", settings(port))
    assert result.exit_code == 0, result.output
    by_recipient = {tuple(rcpt): message for rcpt, message in inbox.received}
    assert set(by_recipient) == {("jo@example.gov.uk",), ("sam@example.gov.uk",)}
    jo = by_recipient[("jo@example.gov.uk",)]
    assert jo["From"] == "performance@example.gov.uk"
    assert jo["Subject"] == "Governance Ledger: 2 updates due, 1 overdue"
    body = jo.get_content()
    assert "A1 Item A1 (plan, 2024/25 Q1): OVERDUE by 5 days" in body
    assert "WS7 Item WS7 (send, 2024-07): due 2024-08-10" in body
    assert f"{BASE}/programmes/plan/items/A1/update?period=2024%2F25+Q1" in body
    assert f"{BASE}/programmes/send/items/WS7/update?period=2024-07" in body
    assert "A2" not in body  # updated already
    sam = by_recipient[("sam@example.gov.uk",)]
    assert sam["Subject"] == "Governance Ledger: 1 update due, 1 overdue"
    assert "A3 Item A3" in sam.get_content() and "A1" not in sam.get_content()
    assert "ann (Ann Other): no email address" in result.output
    # Recorded: one event per lead and programme, naming the items, never the message or secret.
    recorded = reminder_rows(cycle)
    assert len(recorded) == 3
    for topic, state in recorded:
        assert topic == "ledger.domain:Reminder.Sent"
        assert PASSWORD not in state and "Dear" not in state and "OVERDUE" not in state
    sent = queries.get_reminders(cycle / "projections.db", day=date(2024, 7, 20))
    assert sorted((r["programme"], r["lead_account"], r["item_count"]) for r in sent) == [
        ("plan", "jo", 1),
        ("plan", "sam", 1),
        ("send", "jo", 1),
    ]


def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_sends_again(
    cycle: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    assert run(cycle, "2024-07-20", settings(port)).exit_code == 0
    assert len(inbox.received) == 2
    again = run(cycle, "2024-07-20", settings(port))
    assert again.exit_code == 0, again.output
    assert len(inbox.received) == 2
    assert "jo (Jo Bloggs): already reminded today" in again.output
    assert len(reminder_rows(cycle)) == 3
    next_day = run(cycle, "2024-07-21", settings(port))
    assert next_day.exit_code == 0, next_day.output
    assert len(inbox.received) == 4
    assert "OVERDUE by 6 days" in inbox.received[-1][1].get_content() + inbox.received[-2][1].get_content()
    assert len(reminder_rows(cycle)) == 6


def test_once_an_item_is_updated_it_is_no_longer_in_the_reminder(
    cycle: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    with open_system(cycle) as system:
        system.ledger.record_status(
            "plan", "A3", period="2024/25 Q1", status="Amber", update="Late", mitigation="Plan B", actor="sam"
        )
    assert run(cycle, "2024-07-20", settings(port)).exit_code == 0
    assert [rcpt for rcpt, _ in inbox.received] == [["jo@example.gov.uk"]]


def test_without_smtp_settings_or_with_dry_run_it_shows_the_messages_and_records_nothing(
    cycle: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    shown = run(cycle, "2024-07-20", {"GOVLEDGER_SMTP_URL": "", "GOVLEDGER_SMTP_HOST": ""})
    assert shown.exit_code == 0, shown.output
    assert "To: jo@example.gov.uk" in shown.output and "OVERDUE by 5 days" in shown.output
    assert "Would send to jo (Jo Bloggs): 2 item(s)" in shown.output
    dry = run(cycle, "2024-07-20", settings(port), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "To: sam@example.gov.uk" in dry.output
    assert PASSWORD not in dry.output + shown.output
    assert inbox.received == [] and reminder_rows(cycle) == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GOVLEDGER_SMTP_URL": "http://mail"}, "must look like smtp://"),
        ({"GOVLEDGER_SMTP_URL": "smtp://127.0.0.1:25", "GOVLEDGER_MAIL_FROM": ""}, "GOVLEDGER_MAIL_FROM"),
        ({"GOVLEDGER_SMTP_HOST": "127.0.0.1", "GOVLEDGER_SMTP_PORT": "x"}, "must be a number"),
        (
            {
                "GOVLEDGER_SMTP_URL": "smtp://127.0.0.1:25",
                "GOVLEDGER_MAIL_FROM": "a@b.uk",
                "GOVLEDGER_BASE_URL": "",
            },
            "GOVLEDGER_BASE_URL",
        ),
    ],
)
def test_wrong_settings_exit_2_saying_what_to_fix(cycle: Path, env: dict[str, str], message: str) -> None:
    result = run(cycle, "2024-07-20", env)
    assert result.exit_code == 2
    assert message in result.output
    assert reminder_rows(cycle) == []


def test_host_and_port_settings_with_a_wrong_password_fail_and_record_nothing(
    cycle: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    env = {
        "GOVLEDGER_SMTP_URL": "",
        "GOVLEDGER_SMTP_HOST": "127.0.0.1",
        "GOVLEDGER_SMTP_PORT": str(port),
        "GOVLEDGER_SMTP_USER": "relay",
        "GOVLEDGER_SMTP_PASSWORD": "wrong",
        "GOVLEDGER_MAIL_FROM": "performance@example.gov.uk",
        "GOVLEDGER_BASE_URL": BASE,
    }
    failed = run(cycle, "2024-07-20", env)
    assert failed.exit_code == 1
    assert "not sent" in failed.output and "wrong" not in failed.output
    assert inbox.received == [] and reminder_rows(cycle) == []
    env["GOVLEDGER_SMTP_PASSWORD"] = PASSWORD
    assert run(cycle, "2024-07-20", env).exit_code == 0
    assert len(inbox.received) == 2


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, for an SMTPS server on loopback."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_smtps_sends_over_tls_checking_the_servers_certificate(
    cycle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    cert, key = _self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        ssl_context=server_tls,
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        env = {**settings(port), "GOVLEDGER_SMTP_URL": f"smtps://relay:{PASSWORD}@127.0.0.1:{port}"}
        # Not trusted: refused, nothing sent or recorded.
        refused = run(cycle, "2024-07-20", env)
        assert refused.exit_code == 1 and "CERTIFICATE_VERIFY_FAILED" in refused.output
        assert inbox.received == [] and reminder_rows(cycle) == []
        # Trusted (OpenSSL reads SSL_CERT_FILE for the default verify paths): sent.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        sent = run(cycle, "2024-07-20", env)
        assert sent.exit_code == 0, sent.output
        assert sorted(r for rcpt, _ in inbox.received for r in rcpt) == [
            "jo@example.gov.uk",
            "sam@example.gov.uk",
        ]
        assert len(reminder_rows(cycle)) == 3
    finally:
        controller.stop()
