"""Issue 9, finding 3: request bodies are bounded, through the real server.

$GOVLEDGER_MAX_REQUEST_BYTES is set low here, so small bodies show every limit: Flask's
MAX_CONTENT_LENGTH for forms, the import upload's own larger one, and the Dispatcher's,
which refuses a declared Content-Length before reading a byte of the body and stops a
streamed (chunked) one at the limit.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from test_serve_isolation import CSRF, PASSWORD_FORM, Connection, Reply, sign_in
from web_helpers import DEMO_PASSWORD, app_test_config

from web import create_app
from web.backend import System
from web.config import MAX_REQUEST_BYTES_ENV
from web.serve import largest_flask_body, make_asgi_app

LIMIT = 100_000
TOO_LARGE = "What you sent is too large"
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def low_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_REQUEST_BYTES_ENV, f"{LIMIT:_}")


def declared_but_unsent(base_url: str, path: str, length: int, sent: bytes = b"") -> Reply:
    """Headers promising `length` bytes, then only `sent`: a server that waits for the
    body before answering never answers (the timeout fails the test)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(length))
        conn.endheaders(sent)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read().decode())
    finally:
        conn.close()


def chunked(base_url: str, path: str, chunks: Iterator[bytes], cookie: str | None = None) -> Reply:
    """A streamed body with no Content-Length; sending stops when the server hangs up."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked"}
    if cookie:
        headers["Cookie"] = f"govledger_session={cookie}"
    try:
        conn.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        try:
            for chunk in chunks:
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused part way: the answer is already waiting
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read().decode())
    finally:
        conn.close()


def still_serving(base_url: str) -> None:
    """A new connection signs in with a normal form POST."""
    assert sign_in(base_url, "officer")


def test_limits_come_from_the_environment(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == LIMIT
    # The server's own limit lets an import upload through; Flask holds forms to theirs.
    assert largest_flask_body(app) == app.config["IMPORT_MAX_BYTES"] + 64 * 1024


def test_a_limit_that_is_not_a_number_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, system: System
) -> None:
    monkeypatch.setenv(MAX_REQUEST_BYTES_ENV, "2MB")
    with pytest.raises(RuntimeError, match=f"{MAX_REQUEST_BYTES_ENV} must be a whole number of bytes"):
        create_app(app_test_config(data_dir), system=system)


def test_an_anonymous_100MB_post_to_login_is_refused_unread(server: str) -> None:
    refused = declared_but_unsent(server, "/login", 100 * MIB, sent=b"username=x&password=")
    assert refused.status == 413
    assert TOO_LARGE in refused.text and "Nothing has been saved" in refused.text
    assert refused.headers["Connection"] == "close"
    assert "nonce-" in refused.headers["Content-Security-Policy"]
    assert refused.headers["X-Frame-Options"] == "DENY"
    still_serving(server)


def test_a_form_over_the_form_limit_is_refused_and_records_nothing(server: str, system: System) -> None:
    cookie = sign_in(server, "administrator")
    conn = Connection(server)
    try:
        page = conn.request("GET", PASSWORD_FORM, cookie=cookie)
        before = system.ledger.recorder.max_notification_id()
        form = {"csrf_token": CSRF.search(page.text)[1], "current": DEMO_PASSWORD,
                "password": "p" * LIMIT, "confirm": "p" * LIMIT}
        refused = conn.request("POST", PASSWORD_FORM, cookie=cookie, form=form)
    finally:
        conn.close()
    assert refused.status == 413 and TOO_LARGE in refused.text
    assert system.ledger.recorder.max_notification_id() == before
    still_serving(server)


def test_a_streamed_body_to_the_data_is_stopped_at_the_limit(server: str) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(100):  # 6.4 MB offered, 64 times the limit
            sent.append(64 * 1024)
            yield b"x" * (64 * 1024)

    cookie = sign_in(server, "analyst")
    refused = chunked(server, "/data/-/logout", chunks(), cookie=cookie)
    assert refused.status == 413 and TOO_LARGE in refused.text
    still_serving(server)


def test_an_import_upload_keeps_its_own_larger_limit(server: str) -> None:
    """A file over the forms' limit reaches the import page, which checks it itself."""
    cookie = sign_in(server, "programme manager")
    conn = Connection(server)
    try:
        page = conn.request("GET", "/import", cookie=cookie)
        boundary = "limit-test"
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{CSRF.search(page.text)[1]}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n{'x' * (3 * LIMIT)}\r\n--{boundary}--\r\n"
        ).encode()
        conn.http.request("POST", "/import", body=body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Cookie": f"govledger_session={cookie}", "User-Agent": "isolation-probe",
        })
        response = conn.http.getresponse()
        text = response.read().decode()
    finally:
        conn.close()
    assert response.status == 200, text[:300]
    assert "must be an Excel workbook" in text


def test_the_server_refuses_what_no_page_accepts(data_dir: Path, system: System) -> None:
    """Over the largest body any page takes, the Dispatcher answers before Flask reads."""
    from browser_support import live_server

    app = make_asgi_app(data_dir, config={"SECRET_KEY": "limits"}, system=system)
    with live_server(app) as url:
        refused = declared_but_unsent(url, "/import", app.flask_limit + 1)
        assert refused.status == 413 and refused.headers["Connection"] == "close"
        still_serving(url)
