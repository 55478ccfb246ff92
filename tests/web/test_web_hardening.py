"""Issue 9, finding 7 (web): administrators do not publish, forwarded addresses are
trusted only from configured proxies, and unsafe requests from another origin are
refused. Every test here runs with CSRF protection on, as the service does."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_reports_support import Q1, record_plan
from web_helpers import DEMO_PASSWORD, DEMO_USERS, PROGRAMME, app_test_config

from projections.reports import publish
from web import create_app
from web.backend import System

PUBLISH = f"/reports/{PROGRAMME}/committee/publish?period={quote(Q1)}"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)[1]


def sign_in(client: FlaskClient, role: str, **headers: str) -> None:
    response = client.post(
        "/login",
        data={"username": DEMO_USERS[role], "password": DEMO_PASSWORD, "csrf_token": csrf_token(client)},
        headers=headers,
    )
    assert response.status_code == 302, response.get_data(as_text=True)


# ---------------------------------------------------------------- administrators


def test_an_administrator_may_not_publish_even_with_a_valid_form(
    client: FlaskClient, system: System
) -> None:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    sign_in(client, "administrator")
    position = str(system.ledger.get_log_position())

    assert client.get(PUBLISH).status_code == 403
    page = client.get(f"/reports/{PROGRAMME}/committee?period={quote(Q1)}").get_data(as_text=True)
    assert "/publish?" not in page  # no button leading to a refusal
    token = csrf_token(client, "/account/password")
    response = client.post(PUBLISH, data={"csrf_token": token, "position": position, "reason": "x"})

    assert response.status_code == 403
    assert publish.list_editions(system.ledger, PROGRAMME, "committee", Q1) == []
    assert str(system.ledger.get_log_position()) == position


def test_a_programme_manager_still_publishes_with_csrf_on(client: FlaskClient, system: System) -> None:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    sign_in(client, "programme manager")
    html = client.get(PUBLISH).get_data(as_text=True)
    position = re.search(r'name="position" type="hidden" value="(\d+)"', html)[1]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)[1]

    response = client.post(PUBLISH, data={"csrf_token": token, "position": position, "reason": ""})

    assert response.status_code == 302
    assert len(publish.list_editions(system.ledger, PROGRAMME, "committee", Q1)) == 1
