"""One port: the dispatcher, and Datasette sharing Flask's sign-in."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_helpers import DEMO_PASSWORD, DEMO_USERS, AuthActions

from web.backend import System
from web.home import STATIC
from web.serve import Dispatcher, make_actor_from_request, make_asgi_app

# ---------------------------------------------------------------- the actor hook alone


@dataclass
class FakeDatasetteRequest:
    """Just what the hook reads from datasette.utils.asgi.Request."""

    cookies: dict[str, str]
    headers: dict[str, str]
    scope: dict[str, Any] = field(default_factory=lambda: {"client": ("127.0.0.1", 5000)})


def _signed_in_request(client: FlaskClient, app: Flask, **headers: str) -> FakeDatasetteRequest:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return FakeDatasetteRequest(
        cookies={cookie.key: cookie.value},
        headers={
            "cookie": f"{cookie.key}={cookie.value}",
            "user-agent": client.environ_base["HTTP_USER_AGENT"],
            **headers,
        },
    )


def test_actor_is_the_signed_in_account_with_its_roles(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("analyst")
    actor = make_actor_from_request(app)(_signed_in_request(client, app))
    assert actor == {"id": DEMO_USERS["analyst"], "display": "Demo analyst", "roles": ["analyst"]}


def test_no_cookie_means_no_actor(app: Flask) -> None:
    assert make_actor_from_request(app)(FakeDatasetteRequest({}, {})) is None


def test_a_tampered_cookie_means_no_actor(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("administrator")
    request = _signed_in_request(client, app)
    name = app.config["SESSION_COOKIE_NAME"]
    forged = request.cookies[name][:-2] + "xx"
    request.cookies[name] = forged
    request.headers["cookie"] = f"{name}={forged}"
    assert make_actor_from_request(app)(request) is None


def test_a_cookie_replayed_from_another_browser_means_no_actor(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("analyst")
    request = _signed_in_request(client, app, **{"user-agent": "another browser"})
    assert make_actor_from_request(app)(request) is None


def test_a_deactivated_account_means_no_actor(
    app: Flask, client: FlaskClient, auth: AuthActions, system: System
) -> None:
    auth.login("analyst")
    request = _signed_in_request(client, app)
    system.ledger.deactivate_account(DEMO_USERS["analyst"], actor="admin", reason="Left")
    assert make_actor_from_request(app)(request) is None


def test_a_cookie_signed_with_another_key_means_no_actor(
    app: Flask, client: FlaskClient, auth: AuthActions, system: System, data_dir: Path
) -> None:
    from web_helpers import app_test_config

    from web import create_app

    auth.login("analyst")
    request = _signed_in_request(client, app)
    other = create_app(app_test_config(data_dir, SECRET_KEY="another key"), system=system)
    assert make_actor_from_request(other)(request) is None


# ---------------------------------------------------------------- the whole ASGI app


@pytest.fixture
def asgi(data_dir: Path, system: System) -> Iterator[Dispatcher]:
    dispatcher = make_asgi_app(
        data_dir, config={"SECRET_KEY": "serve-test", "SESSION_COOKIE_SECURE": False}, system=system
    )
    yield dispatcher


Step = tuple[str, str, dict[str, str] | None]


def _run(dispatcher: Dispatcher, *steps: Step, login: str | None = None) -> list[httpx.Response]:
    """Send requests in order through one cookie-keeping client; optionally sign in first."""

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=dispatcher)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            if login:
                form = (await c.get("/login")).text
                token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)[1]
                signed_in = await c.post(
                    "/login",
                    data={"username": DEMO_USERS[login], "password": DEMO_PASSWORD, "csrf_token": token},
                )
                assert signed_in.status_code == 302, signed_in.text
            return [await c.request(method, url, params=params) for method, url, params in steps]

    return asyncio.run(go())


def _get(url: str, **params: str) -> Step:
    return ("GET", url, params or None)


def test_pages_go_to_flask(asgi: Dispatcher) -> None:
    home, login, css = _run(asgi, _get("/"), _get("/login"), _get("/static/govuk/govuk-frontend.min.css"))
    assert home.status_code == 302 and home.headers["location"].startswith("/login")
    assert login.status_code == 200 and "Sign in to Governance Ledger" in login.text
    assert "nonce-" in login.headers["content-security-policy"]
    assert css.status_code == 200


def test_data_goes_to_datasette_and_anonymous_is_refused(asgi: Dispatcher) -> None:
    bare, data = _run(asgi, _get("/data"), _get("/data/"))
    assert bare.status_code == 302 and bare.headers["location"] == "/data/"
    assert data.status_code == 403
    assert 'href="/login?next=%2Fdata%2F"' in data.text  # how to get in, and back
    assert data.headers["x-content-type-options"] == "nosniff"
    assert data.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in data.headers["content-security-policy"]


def test_analyst_browses_and_runs_sql(asgi: Dispatcher) -> None:
    count = "select count(*) as n from accounts"
    index, sql = _run(
        asgi,
        _get("/data/"),
        _get("/data/projections.json", sql=count, _shape="array"),
        login="analyst",
    )
    assert index.status_code == 200
    assert sql.status_code == 200, sql.text
    assert sql.json() == [{"n": len(DEMO_USERS)}]


def test_auditor_reads_tables_but_cannot_run_sql(asgi: Dispatcher) -> None:
    table, sql = _run(
        asgi,
        _get("/data/projections/accounts.json", _shape="array"),
        _get("/data/projections.json", sql="select 1"),
        login="auditor",
    )
    assert table.status_code == 200, table.text
    assert {row["username"] for row in table.json()} == set(DEMO_USERS.values())
    assert "password" not in table.text
    assert sql.status_code == 403


def test_every_role_may_look_at_the_data(asgi: Dispatcher) -> None:
    """projections.datasette_config lets anyone with a role read; only analysts run SQL."""
    (data,) = _run(asgi, _get("/data/"), login="officer")
    assert data.status_code == 200


def test_datasette_links_stay_under_data(asgi: Dispatcher) -> None:
    index, table, json_export = _run(
        asgi, _get("/data/"), _get("/data/projections/accounts"),
        _get("/data/projections/accounts.json", _shape="array"), login="analyst",
    )
    assert 'href="/data/projections"' in index.text
    assert 'href="/data/projections/accounts.json"' in table.text
    assert 'href="/data/projections/accounts.csv?_size=max"' in table.text
    for page in (index, table):
        assert "/data/data/" not in page.text  # Datasette 0.65 doubles an unstripped prefix
    assert json_export.status_code == 200


def test_lifespan_shutdown_closes_the_system(data_dir: Path, system: System) -> None:
    dispatcher = make_asgi_app(data_dir, config={"SECRET_KEY": "x"}, system=system)
    closed: list[bool] = []
    dispatcher.close = lambda: closed.append(True)  # type: ignore[method-assign]
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return next(messages)

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    asyncio.run(dispatcher({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert closed == [True]


# ---------------------------------------------------------------- the pages' files


def _flask_refused(dispatcher: Dispatcher) -> list[str]:
    """Make Flask's side answer 599 and note the paths it was asked for."""
    asked: list[str] = []

    async def flask(scope: dict[str, Any], receive: Any, send: Any) -> None:
        asked.append(scope["path"])
        await send({"type": "http.response.start", "status": 599, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    dispatcher.flask = flask  # type: ignore[assignment]
    return asked


def test_static_files_are_served_without_flask(asgi: Dispatcher) -> None:
    asked = _flask_refused(asgi)
    js, font, icon, head = _run(
        asgi,
        _get("/static/govledger.js"),
        _get("/assets/images/favicon.svg"),
        _get("/favicon.ico"),
        ("HEAD", "/static/govuk/govuk-frontend.min.css", None),
    )
    assert asked == []
    assert js.status_code == 200 and js.content == (STATIC / "govledger.js").read_bytes()
    assert js.headers["content-type"].startswith("text/javascript")
    assert js.headers["cache-control"] == "public, max-age=300"
    assert font.headers["cache-control"] == icon.headers["cache-control"] == "public, max-age=86400"
    assert icon.headers["content-type"] in ("image/vnd.microsoft.icon", "image/x-icon")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 1000
    for response in (js, font, icon, head):
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in response.headers  # plain HTTP


def test_a_static_file_unchanged_is_not_sent_again(asgi: Dispatcher) -> None:
    asked = _flask_refused(asgi)

    async def go() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            first = await c.get("/static/govledger.js")
            again = await c.get("/static/govledger.js", headers={"If-None-Match": first.headers["etag"]})
            return first, again

    first, again = asyncio.run(go())
    assert asked == []
    assert first.headers["strict-transport-security"] == "max-age=31536000"  # HTTPS, as Flask
    assert again.status_code == 304 and again.content == b""
    assert again.headers["cache-control"] == "public, max-age=300"
    assert again.headers["x-content-type-options"] == "nosniff"


def test_what_is_not_a_file_goes_on_to_flask(asgi: Dispatcher) -> None:
    missing, traversal, directory, post = _run(
        asgi,
        _get("/static/no-such-file.js"),
        _get("/assets/..%2f..%2fgovledger.js"),
        _get("/static/govuk/"),
        ("POST", "/static/govledger.js", None),
    )
    assert missing.status_code == traversal.status_code == directory.status_code == 404
    assert "Page not found" in missing.text  # Flask's own page
    assert post.status_code in (400, 405)  # Flask's CSRF check or its method check
