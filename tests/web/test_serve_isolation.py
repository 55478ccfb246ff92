"""Issue 9, finding 1: each request on a keep-alive connection is exactly who its own
cookie says, however large the request before it was.

Through the real server (web.serve's app under uvicorn, CSRF on, Secure cookies) and one
`http.client` connection, as the security probe drove it. Before the fix, a body over
uvicorn's 64 KiB buffer made a2wsgi resume reading the socket from Flask's thread, so the
connection's reader callback (and every later request task) carried Flask's app context:
the next request, with no cookie, ran as the user who sent the large body.
"""

from __future__ import annotations

import http.client
import logging
import re
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest
from web_helpers import DEMO_PASSWORD, DEMO_USERS, PROGRAMME

from web.backend import System

KIB = 1024
# Either side of uvicorn's 64 KiB buffer (flow_control.HIGH_WATER_LIMIT), and far over it.
BODY_SIZES = [64 * KIB - KIB, 64 * KIB + KIB, 1_000_000]
# Whether uvicorn pauses reading depends on how much arrives before the app reads it, so
# each test gives it several chances.
ROUNDS = 4
COOKIE = "govledger_session"
ITEM = "A1"
UPDATE_FORM = f"/programmes/{PROGRAMME}/items/{ITEM}/update"
PASSWORD_FORM = "/account/password"  # signed in only: who you are is in the header
SIGNED_IN_AS = re.compile(r'Signed in as </span>([^<]+)')
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    def cookie(self) -> str | None:
        """The session cookie this reply sets, if it sets one."""
        for header in self.headers.get_all("Set-Cookie") or []:
            morsel = SimpleCookie(header).get(COOKIE)
            if morsel is not None:
                return morsel.value
        return None


class Connection:
    """One keep-alive HTTP/1.1 connection. Cookies are sent by hand, as a browser would
    send a Secure one over https, and only when the caller passes one."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.http = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.sockets: set[int] = set()

    def request(
        self, method: str, path: str, *, cookie: str | None = None,
        form: dict[str, str] | None = None, body: bytes | None = None,
    ) -> Reply:
        headers = {"User-Agent": "isolation-probe"}
        if cookie is not None:
            headers["Cookie"] = f"{COOKIE}={cookie}"
        if form is not None:
            body = urlencode(form).encode()
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.http.request(method, path, body=body, headers=headers)
        self.sockets.add(id(self.http.sock))
        response = self.http.getresponse()
        return Reply(response.status, response.headers, response.read().decode())

    def close(self) -> None:
        self.http.close()


def sign_in(base_url: str, role: str) -> str:
    """A session cookie for the demo account of `role`, from a connection of its own."""
    conn = Connection(base_url)
    try:
        form = conn.request("GET", "/login")
        signed_in = conn.request(
            "POST", "/login", cookie=form.cookie(),
            form={"csrf_token": CSRF.search(form.text)[1], "username": DEMO_USERS[role],
                  "password": DEMO_PASSWORD},
        )
        assert signed_in.status == 302, signed_in.text
        # The first page after signing in puts the CSRF secret in the session.
        page = conn.request("GET", PASSWORD_FORM, cookie=signed_in.cookie())
        cookie = page.cookie()
        assert cookie is not None
        return cookie
    finally:
        conn.close()


def signed_out_cookie(base_url: str, role: str) -> str:
    """The cookie the service hands back on signing out."""
    cookie = sign_in(base_url, role)
    conn = Connection(base_url)
    try:
        page = conn.request("GET", PASSWORD_FORM, cookie=cookie)
        assert page.cookie() is None  # the session is settled: its CSRF token is valid
        out = conn.request("POST", "/logout", cookie=cookie, form={"csrf_token": CSRF.search(page.text)[1]})
        assert out.status == 302 and out.cookie() is not None
        return out.cookie()
    finally:
        conn.close()


def padded(form: dict[str, str], field: str, size: int) -> dict[str, str]:
    """`form` with `field` filled so the encoded body is exactly `size` bytes."""
    base = len(urlencode({**form, field: ""}))
    return {**form, field: "x" * (size - base)}


def who(reply: Reply) -> str | None:
    """The display name a page says is signed in; None when sent to sign in."""
    if reply.status == 302:
        assert urlsplit(reply.headers["Location"]).path == "/login", reply.headers["Location"]
        return None
    assert reply.status == 200, (reply.status, reply.text[:500])
    match = SIGNED_IN_AS.search(reply.text)
    assert match, "a signed-in page without a name in its header"
    return match[1].strip()


@pytest.fixture
def plan(system: System) -> System:
    system.ledger.register_item(PROGRAMME, ITEM, kind="action", title="Recruit foster carers", actor="setup")
    return system


@pytest.fixture
def no_thread_errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The probe's runs also showed 500s from SQLite connections used across threads."""
    caplog.set_level(logging.ERROR)
    yield caplog
    leaked = [r.getMessage() for r in caplog.records if "thread" in r.getMessage().lower()]
    assert not leaked, leaked
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("size", BODY_SIZES, ids=["63KiB", "65KiB", "1MB"])
def test_after_a_large_post_each_request_is_its_own_cookies_user(
    plan: System, server: str, size: int, no_thread_errors: pytest.LogCaptureFixture
) -> None:
    officer, auditor = sign_in(server, "officer"), sign_in(server, "auditor")
    signed_out = signed_out_cookie(server, "administrator")
    conn = Connection(server)
    try:
        for _ in range(ROUNDS):
            page = conn.request("GET", UPDATE_FORM, cookie=officer)
            assert who(page) == "Demo officer"
            form = {
                "csrf_token": CSRF.search(page.text)[1],
                "seen_version": re.search(r'name="seen_version"[^>]*value="(\d+)"', page.text)[1],
                "period": "2024/25 Q1", "status": "Green",
            }
            large = conn.request("POST", UPDATE_FORM, cookie=officer, form=padded(form, "update", size))
            # Read in full, then refused on its length (the form's limit): nothing is saved.
            assert large.status == 200 and "longer than" in large.text and who(large) == "Demo officer"

            assert who(conn.request("GET", PASSWORD_FORM)) is None
            assert who(conn.request("GET", PASSWORD_FORM, cookie=auditor)) == "Demo auditor"
            assert who(conn.request("GET", PASSWORD_FORM, cookie=signed_out)) is None
            assert who(conn.request("GET", "/admin/accounts")) is None
            assert conn.request("GET", "/data/projections/accounts.json", cookie=signed_out).status == 403
            assert who(conn.request("GET", PASSWORD_FORM, cookie=officer)) == "Demo officer"
        assert len(conn.sockets) == 1, "the connection was not kept alive: nothing was tested"
    finally:
        conn.close()


@pytest.mark.parametrize("size", BODY_SIZES, ids=["63KiB", "65KiB", "1MB"])
def test_after_an_analysts_large_post_an_auditor_cannot_run_sql(
    server: str, size: int, no_thread_errors: pytest.LogCaptureFixture
) -> None:
    analyst, auditor = sign_in(server, "analyst"), sign_in(server, "auditor")
    sql = "/data/projections.json?" + urlencode({"sql": "select count(*) from accounts"})
    conn = Connection(server)
    try:
        for _ in range(ROUNDS):
            page = conn.request("GET", PASSWORD_FORM, cookie=analyst)
            form = {"csrf_token": CSRF.search(page.text)[1], "password": "", "confirm": ""}
            large = conn.request("POST", PASSWORD_FORM, cookie=analyst, form=padded(form, "current", size))
            assert large.status == 200 and who(large) == "Demo analyst"

            assert conn.request("GET", sql, cookie=auditor).status == 403
            assert conn.request("GET", sql).status == 403
            assert who(conn.request("GET", PASSWORD_FORM)) is None
            assert who(conn.request("GET", PASSWORD_FORM, cookie=auditor)) == "Demo auditor"
            assert conn.request("GET", "/data/projections/accounts.json", cookie=auditor).status == 200
            # The test can tell them apart: the analyst's own cookie may run SQL.
            assert conn.request("GET", sql, cookie=analyst).status == 200
        assert len(conn.sockets) == 1, "the connection was not kept alive: nothing was tested"
    finally:
        conn.close()
