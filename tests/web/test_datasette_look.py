"""Datasette's pages at /data/ in the app's look (issue 16 item 4, issue 13 item 9): the
page's language, the app's header with a link back and a sign-out that works, the app's
status colours, the look served from this origin, and dashboards that open on one
programme. axe-core's checks of the same pages are in test_browser_accessibility.py."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_helpers import DEMO_PASSWORD, DEMO_USERS, OTHER_PROGRAMME, PROGRAMME

from web.backend import System
from web.serve import Dispatcher, make_asgi_app

Client = httpx.AsyncClient


@pytest.fixture
def served(data_dir: Path, system: System) -> Iterator[Dispatcher]:
    yield make_asgi_app(
        data_dir, config={"SECRET_KEY": "look", "SESSION_COOKIE_SECURE": False}, system=system
    )


def browse(served: Dispatcher, role: str, visit: Callable[[Client], Awaitable[Any]]) -> Any:
    """Sign in as `role` through the app's form, then `visit` with the same cookies."""

    async def go() -> Any:
        transport = httpx.ASGITransport(app=served)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            form = (await client.get("/login")).text
            signed_in = await client.post(
                "/login",
                data={"username": DEMO_USERS[role], "password": DEMO_PASSWORD, "csrf_token": token(form)},
            )
            assert signed_in.status_code == 302
            return await visit(client)

    return asyncio.run(go())


def token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return unescape(found[1])


def test_every_data_page_has_a_language_and_the_apps_header(served: Dispatcher) -> None:
    paths = ["/data/", "/data/projections", "/data/projections/items", "/data/-/dashboards", "/data/nowhere"]

    async def visit(client: Client) -> list[httpx.Response]:
        return [await client.get(path) for path in paths]

    pages = browse(served, "analyst", visit)
    assert [p.status_code for p in pages] == [200, 200, 200, 200, 404]
    for page in pages:
        assert '<html lang="en">' in page.text
        assert '<a href="/">Back to the app</a>' in page.text
        assert 'href="#main-content"' in page.text and 'id="main-content"' in page.text
        assert "Signed in as </span>demo analyst" in page.text.replace("Demo", "demo")


def test_sign_out_from_a_data_page_ends_the_session(served: Dispatcher) -> None:
    async def visit(client: Client) -> tuple[int, int, int]:
        await client.get("/")  # an app page first, as from the app's Data link
        page = (await client.get("/data/projections/items")).text
        assert 'action="/logout"' in page
        signed_out = await client.post("/logout", data={"csrf_token": token(page)})
        after = await client.get("/data/projections/items")
        return signed_out.status_code, after.status_code, len(after.history)

    signed_out, after, _ = browse(served, "auditor", visit)
    assert signed_out == 302 and after == 403


def test_straight_from_sign_in_the_header_sends_you_to_the_app_to_sign_out(served: Dispatcher) -> None:
    """Signed in with ?next=/data/..., the session has no CSRF secret yet: a token made
    for it would be refused, so the header links to the app instead of a broken form."""

    async def visit(client: Client) -> str:
        return (await client.get("/data/")).text

    page = browse(served, "analyst", visit)
    assert 'action="/logout"' not in page and '<a href="/">Sign out in the app</a>' in page


def test_rag_categories_show_in_the_apps_status_colours(served: Dispatcher, system: System) -> None:
    system.ledger.register_item(PROGRAMME, "X1", kind="action", title="Coloured", actor="pm")
    system.ledger.record_status(
        PROGRAMME, "X1", period="2024/25 Q1", status="Amber", update="Slipping", mitigation="Plan", actor="pm"
    )

    async def visit(client: Client) -> str:
        return (await client.get("/data/projections/status_history", params={"programme": PROGRAMME})).text

    page = browse(served, "analyst", visit)
    assert '<strong class="app-status app-status--amber">Amber</strong>' in page


def test_the_look_comes_from_this_origin(served: Dispatcher) -> None:
    async def visit(client: Client) -> list[httpx.Response]:
        page = (await client.get("/data/projections")).text
        assets = re.findall(r'(?:href|src)="(/data/-govledger/[^"]+)"', page)
        return [await client.get(unescape(a)) for a in assets]

    css, js = browse(served, "analyst", visit)
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert ".app-status--amber" in css.text
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "_filter_column" in js.text


def test_dashboards_open_on_one_programme_and_leave_the_cookies_alone(served: Dispatcher) -> None:
    async def visit(client: Client) -> tuple[httpx.Response, httpx.Response]:
        opened = await client.get("/data/-/dashboards/statuses-by-period")
        return opened, await client.get(opened.headers["location"])

    opened, page = browse(served, "analyst", visit)
    assert opened.status_code == 302 and "set-cookie" not in opened.headers
    # The first programme by name: the seed's OTHER_PROGRAMME ("other-plan").
    assert opened.headers["location"] == f"/data/-/dashboards/statuses-by-period?programme={OTHER_PROGRAMME}"
    assert page.status_code == 200
    assert f'<option value="{OTHER_PROGRAMME}" selected>' in page.text
