"""The web's proofs: the verify page's current C2SP checkpoint (signed with the key
$GOVLEDGER_SIGNING_KEY_FILE names, else unsigned with a line saying how to sign) and
its download; inclusion proofs downloaded from the item timeline and for each published
report. Each download is checked here with the offline verifier alone.

Who may use each new route, role by role, is in test_web_permissions.py's MATRIX."""

from __future__ import annotations

import hashlib
import json
import re
from html import unescape
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from test_dashboards import page, section, text
from test_dashboards_seed import Q1, seed_plan
from web_helpers import DEMO_USERS, PROGRAMME, AuthActions

from ledger import proofcheck
from ledger.store import signed_checkpoints as signed
from tests.helpers_store import guards_dropped
from web.backend import System

TIMELINE = f"/programmes/{PROGRAMME}/items/A1.1.1/timeline"


@pytest.fixture
def plan(system: System, monkeypatch: pytest.MonkeyPatch) -> System:
    monkeypatch.delenv(signed.SIGNING_KEY_ENV, raising=False)
    monkeypatch.delenv(signed.ORIGIN_ENV, raising=False)
    seed_plan(system.ledger)
    return system


@pytest.fixture
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> signed.SigningKey:
    made = signed.generate_key("council.example/ledger")
    path = tmp_path / "keys" / "log.key"
    path.parent.mkdir()
    path.write_text(made.private_text())
    monkeypatch.setenv(signed.SIGNING_KEY_ENV, str(path))
    return made


def test_verify_shows_an_unsigned_checkpoint_and_how_to_sign(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("auditor")
    html = page(client, "/audit/verify")
    shown = re.search(r'<pre[^>]*id="current-checkpoint">(.*?)</pre>', html, re.S)
    assert shown is not None
    checkpoint = proofcheck.parse_checkpoint(unescape(shown[1]))
    assert checkpoint.size == plan.ledger.get_log_position() and checkpoint.signatures == ()
    assert "govledger keygen" in text(section(html, "unsigned")) and signed.SIGNING_KEY_ENV in html
    assert 'href="/audit/verify/checkpoint.txt"' in html


def test_with_a_key_configured_the_checkpoint_is_signed_and_downloads(
    client: FlaskClient, auth: AuthActions, plan: System, key: signed.SigningKey
) -> None:
    auth.login("auditor")
    html = page(client, "/audit/verify")
    assert "signed by <strong>council.example/ledger</strong>" in html
    assert 'id="unsigned"' not in html
    response = client.get("/audit/verify/checkpoint.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    size = plan.ledger.get_log_position()
    assert f'filename="checkpoint-{size}.txt"' in response.headers["Content-Disposition"]
    downloaded = proofcheck.parse_checkpoint(response.get_data(as_text=True))
    proofcheck.check_signature(downloaded, key.vkey())
    assert downloaded.size == size


def test_an_unusable_key_is_said_and_the_checkpoint_is_unsigned(
    client: FlaskClient, auth: AuthActions, plan: System, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad.key").write_text("not a key")
    monkeypatch.setenv(signed.SIGNING_KEY_ENV, str(tmp_path / "bad.key"))
    auth.login("auditor")
    html = page(client, "/audit/verify")
    assert "cannot be used, so the checkpoint is unsigned" in html
    assert "not a key" not in html  # the file's content is never shown
    assert proofcheck.parse_checkpoint(client.get("/audit/verify/checkpoint.txt").get_data(as_text=True)).size


def test_the_timeline_offers_a_proof_for_each_event_to_those_who_may_download_it(
    client: FlaskClient, auth: AuthActions, plan: System, key: signed.SigningKey
) -> None:
    auth.login("auditor")
    html = page(client, TIMELINE)
    positions = [int(p) for p in re.findall(r'href="/audit/proofs/(\d+)\.json"', html)]
    assert positions and all(f'id="position-{p}"' in html for p in positions)
    response = client.get(f"/audit/proofs/{positions[-1]}.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    proof = json.loads(response.get_data(as_text=True))
    said = proofcheck.check(proof, [], key.vkey())  # the auditor trusts the key only
    assert f"position {positions[-1]}" in said
    assert client.get("/audit/proofs/999999.json").status_code == 404

    client.post("/logout")
    auth.login("officer")
    assert "/audit/proofs/" not in page(client, TIMELINE)


def test_each_published_report_has_a_proof_of_its_publication(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    content = b"<html>the committee pack as published</html>"
    plan.ledger.publish_report(
        PROGRAMME,
        report="committee-pack",
        period=Q1,
        log_position=plan.ledger.get_log_position(),
        content_sha256=hashlib.sha256(content).hexdigest(),
        title="Committee pack",
        actor=DEMO_USERS["programme manager"],
    )
    published_at = plan.ledger.get_log_position()
    auth.login("analyst")
    html = page(client, f"/reports/{PROGRAMME}/publications")
    assert f'href="/audit/proofs/{published_at}.json"' in html
    proof = json.loads(client.get(f"/audit/proofs/{published_at}.json").get_data(as_text=True))
    assert proof["content_sha256"] == hashlib.sha256(content).hexdigest()
    said = proofcheck.check(proof, [proof["checkpoint"]], None, content)
    assert "as the file has" in said
    with pytest.raises(proofcheck.ProofFailed, match="report file's SHA-256"):
        proofcheck.check(proof, [proof["checkpoint"]], None, content + b" ")


def test_no_proof_is_given_for_an_event_altered_behind_the_trees_back(
    client: FlaskClient, auth: AuthActions, plan: System, data_dir: Path
) -> None:
    with guards_dropped(data_dir / "events.db") as conn:
        padded = "CAST(CAST(state AS TEXT) || ' ' AS BLOB)"
        conn.execute(f"UPDATE stored_events SET state = {padded} WHERE rowid = 2")
    auth.login("auditor")
    response = client.get("/audit/proofs/2.json")
    assert response.status_code == 409
    assert "position 2 is not the one the Merkle tree holds" in response.get_data(as_text=True)
    assert client.get("/audit/proofs/3.json").status_code == 200
