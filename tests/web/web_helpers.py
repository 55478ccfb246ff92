"""Shared test data and helpers for the web tests (imported by conftest and tests)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ledger.domain import ROLES
from web.accounts import create_account
from web.backend import System
from web.credentials import CredentialStore

DEMO_PASSWORD = "correct horse battery staple"
DEMO_USERS: dict[str, str] = {role: f"demo-{role.replace(' ', '-')}" for role in ROLES}
PROGRAMME = "test-plan"
OTHER_PROGRAMME = "other-plan"
# Hashing with scrypt costs ~50 ms a go; tests log in hundreds of times.
FAST_HASH = "pbkdf2:sha256:1000"


def app_test_config(data_dir: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "DATA_DIR": data_dir,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        **overrides,
    }


def seed(system: System, data_dir: Path) -> None:
    ledger = system.ledger
    ledger.register_programme(PROGRAMME, "Test plan", cadence="quarterly", actor="setup")
    ledger.register_programme(OTHER_PROGRAMME, "Other plan", cadence="monthly", actor="setup")
    credentials = CredentialStore(data_dir / "credentials.db", method=FAST_HASH)
    for role, username in DEMO_USERS.items():
        create_account(
            ledger, credentials, username=username, display_name=f"Demo {role}", role=role,
            password=DEMO_PASSWORD, actor="setup",
        )
    for role in ("officer", "programme manager"):
        ledger.assign_programme(DEMO_USERS[role], PROGRAMME, actor="setup")


def words(html: str) -> str:
    """A page's text, tags dropped and entities read, in single spaces: what a person reads."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, role: str = "administrator", password: str = DEMO_PASSWORD) -> TestResponse:
        """Sign in as the demo account for `role` (or as a username, if not a role)."""
        username = DEMO_USERS.get(role, role)
        return self._client.post("/login", data={"username": username, "password": password})

    def login_with_csrf(self, role: str = "administrator") -> TestResponse:
        """Sign in with the token the sign-in page gives, for an app with CSRF on."""
        page = self._client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token is not None, "the sign-in page has no CSRF token"
        username = DEMO_USERS.get(role, role)
        return self._client.post(
            "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token[1]}
        )

    def logout(self) -> TestResponse:
        return self._client.post("/logout")
