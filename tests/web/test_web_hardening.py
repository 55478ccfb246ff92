"""Issue 9, finding 7 (web): administrators do not publish, forwarded addresses are
trusted only from configured proxies, and unsafe requests from another origin are
refused. Every test here runs with CSRF protection on, as the service does."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_reports_support import Q1, record_plan
from web_helpers import DEMO_PASSWORD, DEMO_USERS, PROGRAMME, app_test_config

from ledger.periods import Period
from projections.reports import publish
from web import create_app
from web.backend import System
from web.security import TRUSTED_PROXIES_ENV

PUBLISH = f"/reports/{PROGRAMME}/committee/publish?period={quote(Q1)}"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def csrf_token(client: FlaskClient, path: str = "/login", base: str = "http://localhost") -> str:
    html = client.get(path, base_url=base).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)[1]


def sign_in(client: FlaskClient, role: str, base: str = "http://localhost", **headers: str) -> None:
    token = csrf_token(client, base=base)
    response = client.post(
        "/login",
        data={"username": DEMO_USERS[role], "password": DEMO_PASSWORD, "csrf_token": token},
        headers=headers,
        base_url=base,
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


# ---------------------------------------------------------------- forwarded addresses


def app_with(data_dir: Path, system: System, **config: Any) -> Flask:
    limits = {"LOGIN_RATE_LIMIT": "1000/minute", "LOGIN_RATE_LIMIT_PER_IP": "3/minute"}
    return create_app(app_test_config(data_dir, **limits, **config), system=system)


def failed_sign_ins(client: FlaskClient, forwarded_for: list[str]) -> list[int]:
    """Wrong passwords for different usernames, each claiming another X-Forwarded-For."""
    return [
        client.post(
            "/login",
            data={"username": f"guess-{n}", "password": "wrong"},
            headers={"X-Forwarded-For": address},
        ).status_code
        for n, address in enumerate(forwarded_for)
    ]


def test_without_trusted_proxies_x_forwarded_for_does_not_escape_the_per_address_limit(
    data_dir: Path, system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TRUSTED_PROXIES_ENV, raising=False)
    client = app_with(data_dir, system).test_client()
    addresses = [f"203.0.113.{n}" for n in range(5)]
    assert failed_sign_ins(client, addresses) == [200, 200, 200, 429, 429]


def test_with_one_trusted_proxy_the_forwarded_address_is_the_clients(
    data_dir: Path, system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TRUSTED_PROXIES_ENV, "1")
    client = app_with(data_dir, system).test_client()
    # Five clients behind the proxy: each has a bucket of its own...
    assert failed_sign_ins(client, [f"203.0.113.{n}" for n in range(5)]) == [200] * 5
    # ...and one client trying five times is limited, whatever the proxy's address.
    assert failed_sign_ins(client, ["198.51.100.7"] * 5) == [200, 200, 200, 429, 429]


def test_an_unusable_trusted_proxies_setting_stops_the_app_starting(
    data_dir: Path, system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TRUSTED_PROXIES_ENV, "yes")
    with pytest.raises(RuntimeError, match=TRUSTED_PROXIES_ENV):
        app_with(data_dir, system)


# ---------------------------------------------------------------- origin check


def narrative_post(client: FlaskClient, base: str = "http://localhost", **headers: str) -> int:
    """The officer's report narrative form, posted with a valid CSRF token."""
    page = f"/programmes/{PROGRAMME}/narrative"
    token = csrf_token(client, page, base)
    period = Period.containing(date.today(), "quarterly").label
    data = {"csrf_token": token, "period": period, "seen_version": "1", "summary": "On track."}
    return client.post(page, data=data, headers=headers, base_url=base).status_code


def test_a_post_from_another_site_is_refused_and_records_nothing(
    client: FlaskClient, system: System
) -> None:
    sign_in(client, "officer")
    before = system.ledger.get_log_position()

    response = client.post(
        f"/programmes/{PROGRAMME}/narrative",
        data={"csrf_token": csrf_token(client, f"/programmes/{PROGRAMME}/narrative")},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "did not come from a page of this service" in html
    assert "https://evil.example" in html
    assert system.ledger.get_log_position() == before
    for origin in ("null", "http://localhost.evil.example", "https://localhost", "http://localhost:8000"):
        assert narrative_post(client, Origin=origin) == 403, origin
    assert system.ledger.get_log_position() == before


def test_a_post_from_the_services_own_origin_is_accepted(client: FlaskClient, system: System) -> None:
    sign_in(client, "officer", Origin="http://localhost")
    before = system.ledger.get_log_position()
    assert narrative_post(client, Origin="http://LOCALHOST:80") == 302
    assert system.ledger.get_log_position() > before


def test_a_plain_http_post_with_neither_origin_nor_referer_is_left_to_the_csrf_token(
    client: FlaskClient, system: System
) -> None:
    sign_in(client, "officer")
    assert narrative_post(client) == 302


def test_on_https_a_post_without_origin_needs_a_same_origin_referer(
    client: FlaskClient, system: System
) -> None:
    https = "https://localhost"
    sign_in(client, "officer", https, Referer="https://localhost/login")
    before = system.ledger.get_log_position()
    assert narrative_post(client, https) == 403  # no Origin, no Referer
    refused = client.post(f"/programmes/{PROGRAMME}/narrative", base_url=https,
                          headers={"Referer": "https://evil.example/page"})
    assert refused.status_code == 403  # refused for its Referer, before the CSRF token
    assert "Referer header names https://evil.example/page" in refused.get_data(as_text=True)
    assert system.ledger.get_log_position() == before
    assert narrative_post(client, https, Referer="https://localhost/programmes") == 302
    assert system.ledger.get_log_position() > before


def test_a_configured_origin_is_accepted_behind_a_proxy(data_dir: Path, system: System) -> None:
    app = create_app(
        app_test_config(data_dir, WTF_CSRF_ENABLED=True, ALLOWED_ORIGINS=["https://ledger.example.gov.uk"]),
        system=system,
    )
    client = app.test_client()
    sign_in(client, "officer", Origin="https://ledger.example.gov.uk")
    assert narrative_post(client, Origin="https://ledger.example.gov.uk") == 302
    assert narrative_post(client, Origin="https://other.example.gov.uk") == 403


# ---------------------------------------------------------------- role names


@pytest.mark.parametrize(
    ("role", "manage_access", "no_programmes"),
    [("administrator", True, False), ("analyst", False, False), ("programme manager", False, False)],
)
def test_the_home_page_offers_what_each_role_does(
    client: FlaskClient, system: System, role: str, manage_access: bool, no_programmes: bool
) -> None:
    sign_in(client, role)
    html = client.get("/").get_data(as_text=True)
    assert ("Manage access" in html) is manage_access
    assert ("You have not been given any programmes" in html) is no_programmes


def test_a_writer_without_programmes_is_told_to_ask(client: FlaskClient, system: System) -> None:
    system.ledger.unassign_programme(DEMO_USERS["officer"], PROGRAMME, actor="setup", reason="Moved")
    sign_in(client, "officer")
    assert "You have not been given any programmes" in client.get("/").get_data(as_text=True)
