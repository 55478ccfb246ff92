"""The web verify page shows each check `govledger verify` runs, by name, with its
result: the hash chain, the Merkle tree, published reports' stored bytes, credentials
against the ledger and the checkpoint's signature; a disagreement is named and turns
the page's verdict to "Not intact"."""

# ruff: noqa: F811  (the fixtures `plan` and `key` come from test_proof_web)

from __future__ import annotations

import hashlib
import re
import sqlite3
from contextlib import closing
from html import unescape
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from test_dashboards import page, section, text
from test_dashboards_seed import Q1
from test_proof_web import key, plan  # noqa: F401  (fixtures: the seeded plan, the signing key)
from web_helpers import DEMO_USERS, PROGRAMME, AuthActions

from ledger import proofcheck
from ledger.store import signed_checkpoints as signed
from projections.reports.publish import publications_dir
from tests.helpers_store import guards_dropped
from web.backend import System

NAMES = [
    "Hash chain", "Merkle tree", "Published reports", "Credentials against the ledger", "Checkpoint signature"
]
CONTENT = b"<html>the committee pack as published</html>"


@pytest.fixture
def published(plan: System, data_dir: Path) -> Path:
    """A published committee pack, its bytes stored under their SHA-256 as publishing does."""
    digest = hashlib.sha256(CONTENT).hexdigest()
    plan.ledger.publish_report(
        PROGRAMME,
        report="committee-pack",
        period=Q1,
        log_position=plan.ledger.get_log_position(),
        content_sha256=digest,
        title="Committee pack",
        actor=DEMO_USERS["programme manager"],
    )
    stored = publications_dir(data_dir) / f"{digest}.html"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(CONTENT)
    return stored


def results(html: str) -> dict[str, tuple[str, str]]:
    """Each check's row in the table: name -> (result, detail)."""
    row_pattern = r'<tr class="govuk-table__row" data-check="([^"]+)">(.*?)</tr>'
    rows = re.findall(row_pattern, section(html, "checks"), re.S)
    found = {}
    for name, row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        found[name] = (text(cells[0]), unescape(text(cells[1])))
    return found


def test_every_check_is_shown_by_name_and_agrees_on_an_intact_ledger(
    client: FlaskClient, auth: AuthActions, plan: System, published: Path, key: signed.SigningKey
) -> None:
    auth.login("auditor")
    html = page(client, "/audit/verify")
    shown = results(html)
    assert list(shown) == NAMES
    assert {result for result, _ in shown.values()} == {"Agrees"}
    events = plan.ledger.get_log_position()
    assert shown["Hash chain"][1] == f"{events} events verify"
    assert f"{events:,} leaves" in shown["Merkle tree"][1]
    assert shown["Published reports"][1].startswith("1 stored copies checked")
    assert "Signed by council.example/ledger" in shown["Checkpoint signature"][1]
    assert "Intact" in text(section(html, "result"))


def test_without_a_key_the_signature_is_not_checked_and_says_why(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("auditor")
    shown = results(page(client, "/audit/verify"))
    assert shown["Checkpoint signature"] == (
        "Not checked",
        "Not checked: no signing key is configured, so the checkpoint is unsigned.",
    )


def test_a_published_reports_changed_bytes_are_named(
    client: FlaskClient, auth: AuthActions, plan: System, published: Path
) -> None:
    published.write_bytes(CONTENT + b" ")
    auth.login("auditor")
    html = page(client, "/audit/verify")
    result, detail = results(html)["Published reports"]
    assert result == "Disagrees" and "'Committee pack'" in detail
    assert results(html)["Hash chain"][0] == "Agrees"
    verdict = text(section(html, "result"))
    assert "Not intact" in verdict and "Published reports does not agree" in verdict


def test_an_altered_tree_node_is_named_and_later_checks_wait_for_a_broken_chain(
    client: FlaskClient, auth: AuthActions, plan: System, data_dir: Path
) -> None:
    with guards_dropped(data_dir / "events.db") as conn:
        conn.execute("UPDATE merkle_tree SET hash = zeroblob(32) WHERE id = 2")
    auth.login("auditor")
    html = page(client, "/audit/verify")
    assert results(html)["Merkle tree"][0] == "Disagrees"
    assert "Merkle tree does not agree" in text(section(html, "result"))
    with closing(sqlite3.connect(data_dir / "events.db")) as conn, conn:
        padded = "CAST(CAST(state AS TEXT) || ' ' AS BLOB)"
        conn.execute(f"UPDATE stored_events SET state = {padded} WHERE rowid = 3")
    shown = results(page(client, "/audit/verify"))
    assert shown["Hash chain"][0] == "Disagrees"
    assert {shown[name][0] for name in NAMES[1:]} == {"Not checked"}


def test_taking_a_checkpoint_keeps_a_signed_one_shown_with_its_download(
    client: FlaskClient, auth: AuthActions, plan: System, data_dir: Path, key: signed.SigningKey
) -> None:
    auth.login("auditor")
    assert 'id="no-kept-checkpoint"' in page(client, "/audit/verify")
    assert client.post("/audit/verify/checkpoint").status_code == 302
    html = page(client, "/audit/verify")
    shown = text(section(html, "kept-checkpoint"))
    size = plan.ledger.get_log_position()
    assert f"Events covered {size}" in shown and "Signed by council.example/ledger" in shown
    link = re.search(r'href="(/audit/verify/checkpoints/checkpoint-[0-9TZ]+\.txt)"', html)
    assert link is not None
    with client.get(link[1]) as response:  # a file response: closed when read
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        downloaded = proofcheck.parse_checkpoint(response.get_data(as_text=True))
    proofcheck.check_signature(downloaded, key.vkey())
    assert downloaded.size == size
    # Only the names the service writes are served from the folder.
    (data_dir / "checkpoints" / "notes.txt").write_text("private\n")
    assert client.get("/audit/verify/checkpoints/notes.txt").status_code == 404
    assert client.get("/audit/verify/checkpoints/..%2Fevents.db").status_code == 404
