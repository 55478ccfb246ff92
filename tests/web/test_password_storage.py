"""Passwords (OWASP ASVS V2.4.1, V7.1.1): hashed with scrypt by default, and never
written anywhere but as that hash in the credential store: not in the event log, the
read model, the publications or the app's log, as plain bytes or in any encoding an
event would use."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from web_helpers import DEMO_USERS, AuthActions

from web.credentials import CredentialStore

INITIAL = "plum kettle orbit window"
RESET = "a fresh password for you"


def encodings(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, secret.encode("utf-16-le"), json.dumps(secret).encode(), base64.b64encode(raw)]


def test_passwords_are_hashed_with_scrypt_by_default(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "credentials.db")
    store.set_password("jo", INITIAL, actor="test")
    with closing(sqlite3.connect(tmp_path / "credentials.db")) as db:
        (stored,) = db.execute("SELECT password_hash FROM credentials WHERE username = 'jo'").fetchone()
    assert stored.startswith("scrypt:") and INITIAL not in stored
    assert store.verify("jo", INITIAL) and not store.verify("jo", RESET)


def test_no_password_is_written_outside_the_credential_stores_hash(
    client: FlaskClient, auth: AuthActions, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    auth.login("administrator")
    new = {"username": "j.smith", "display_name": "Jo Smith", "role": "officer", "password": INITIAL}
    assert client.post("/admin/accounts/new", data=new).status_code == 302
    officer = DEMO_USERS["officer"]
    reset = {"password": RESET, "confirm": RESET}
    assert client.post(f"/admin/accounts/{officer}/password", data=reset).status_code == 302
    auth.logout()
    assert auth.login("j.smith", password=INITIAL).status_code == 302  # both were really set

    files = [p for p in data_dir.rglob("*") if p.is_file() and not p.name.startswith("credentials.db")]
    assert {"events.db", "projections.db"} <= {p.name for p in files}
    for path in files:
        content = path.read_bytes()
        for secret in (INITIAL, RESET):
            assert not any(form in content for form in encodings(secret)), f"{secret!r} in {path.name}"
    assert INITIAL not in caplog.text and RESET not in caplog.text
