"""Security headers, CSP, CSRF and error pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from web_helpers import DEMO_PASSWORD, DEMO_USERS, AuthActions, app_test_config

from ledger.domain import Account
from web import create_app
from web.backend import System
from web.permissions import public


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert re.search(r"script-src 'self' 'nonce-[\w-]+'(;|$)", csp)
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"


def test_a_view_may_send_a_stricter_policy_of_its_own(app: Flask) -> None:
    @app.route("/strict")
    @public
    def strict() -> Response:
        return Response("x", headers={"Content-Security-Policy": "default-src 'none'"})

    response = app.test_client().get("/strict")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_only_inline_script_carries_this_responses_nonce(client: FlaskClient) -> None:
    response = client.get("/login")
    nonce = re.search(r"'nonce-([\w-]+)'", response.headers["Content-Security-Policy"])[1]
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    inline = [s for s in scripts if "src=" not in s]
    assert inline == [f'<script nonce="{nonce}">']
    assert '<script type="module" src="/static/govledger.js"></script>' in html
    assert "on" + "click=" not in html  # no inline event handlers either
    other = client.get("/login").headers["Content-Security-Policy"]
    assert nonce not in other  # fresh per response


def test_stylesheet_fonts_and_init_script_are_served_locally(client: FlaskClient) -> None:
    for url, kind in [
        ("/static/govuk/govuk-frontend.min.css", "text/css"),
        ("/static/govuk/govuk-frontend.min.js", "text/javascript"),
        ("/static/govledger.js", "text/javascript"),
        ("/assets/images/favicon.svg", "image/svg+xml"),
    ]:
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert response.mimetype == kind, url
    with client.get("/static/govuk/govuk-frontend.min.css") as response:
        css = response.get_data(as_text=True)
    font = re.search(r"url\((/assets/fonts/[^)]+\.woff2)\)", css)[1]
    with client.get(font) as response:
        assert response.status_code == 200
    assert "http" not in client.get("/login").get_data(as_text=True).split("<body")[0].replace(
        'content="width', ""
    )  # no CDN in the <head>


def test_no_path_traversal_out_of_static(client: FlaskClient) -> None:
    assert client.get("/static/../__init__.py").status_code == 404
    assert client.get("/assets/..%2f..%2fgovledger.js").status_code == 404


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"WTF_CSRF_ENABLED": True}

    def test_post_without_token_is_refused_and_nothing_is_recorded(
        self, client: FlaskClient, system: System
    ) -> None:
        token = _token(client.get("/login").get_data(as_text=True))
        client.post(
            "/login",
            data={"username": DEMO_USERS["administrator"], "password": DEMO_PASSWORD, "csrf_token": token},
        )
        assert client.get("/").status_code == 200
        officer = Account.create_id(DEMO_USERS["officer"])
        before = len(list(system.ledger.events.get(officer)))
        response = client.post(
            f"/admin/accounts/{DEMO_USERS['officer']}/deactivate", data={"reason": "Forged"}
        )
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "Your form could not be submitted" in html
        assert "nothing was saved" in html
        assert len(list(system.ledger.events.get(officer))) == before
        assert system.ledger.get_account(DEMO_USERS["officer"])["is_active"]

    def test_sign_in_without_token_is_refused(self, client: FlaskClient) -> None:
        response = client.post(
            "/login", data={"username": DEMO_USERS["officer"], "password": DEMO_PASSWORD}
        )
        assert response.status_code == 400
        assert client.get("/").status_code == 302

    def test_forms_carry_the_token(self, client: FlaskClient) -> None:
        token = _token(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login",
            data={"username": DEMO_USERS["officer"], "password": DEMO_PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        # The sign-out button in the header is a form with its own token.
        home = client.get("/").get_data(as_text=True)
        assert client.post("/logout", data={"csrf_token": _token(home)}).status_code == 302


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)[1]


@pytest.mark.parametrize(
    ("method", "url", "status", "title"),
    [
        ("GET", "/no-such-page", 404, "Page not found"),
        ("PUT", "/login", 405, "Sorry, that cannot be done here"),
        ("GET", "/admin/accounts", 403, "You do not have access to this page"),
    ],
)
def test_friendly_error_pages(
    client: FlaskClient, auth: AuthActions, method: str, url: str, status: int, title: str
) -> None:
    auth.login("analyst")
    response = client.open(url, method=method)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert f"<h1 class=\"govuk-heading-l\">{title}</h1>" in html
    assert "govuk-frontend.min.css" in html
    if status == 405:
        assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_500_page_never_shows_the_error(system: System, data_dir: Path) -> None:
    app: Flask = create_app(
        app_test_config(data_dir, REGISTER_ERROR_PROBE=True, PROPAGATE_EXCEPTIONS=False),
        system=system,
    )
    response = app.test_client().get("/_error-probe")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in html
    assert "error probe" not in html
    assert "Traceback" not in html
    assert "RuntimeError" not in html


def test_error_probe_only_exists_when_testing_asks_for_it(app: Flask) -> None:
    assert "errors.probe" not in app.view_functions
