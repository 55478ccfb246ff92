"""Issue 14: two `govledger serve` processes on one data directory share the sign-in
limits and sign-outs, and `govledger status` reports the projector and the last verify."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

COOKIE = "govledger_session"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "correct-horse-battery"
GOVLEDGER = [str(Path(sys.executable).parent / "govledger")]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(port: int, method: str, path: str, cookie: str | None = None,
            form: dict[str, str] | None = None) -> tuple[int, str, str | None, str]:
    """(status, Location, the session cookie set, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"User-Agent": "scale-out-probe"}
    if cookie:
        headers["Cookie"] = f"{COOKIE}={cookie}"
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode()
    set_cookie = None
    for header in response.headers.get_all("Set-Cookie") or []:
        morsel = SimpleCookie(header).get(COOKIE)
        if morsel is not None:
            set_cookie = morsel.value
    conn.close()
    return response.status, response.headers.get("Location", ""), set_cookie, text


def sign_in(port: int, username: str, password: str) -> tuple[int, str | None]:
    _, _, cookie, page = request(port, "GET", "/login")
    status, _, signed_in, _ = request(
        port, "POST", "/login", cookie=cookie,
        form={"csrf_token": CSRF.search(page)[1], "username": username, "password": password},
    )
    return status, signed_in or cookie


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[Path, list[int]]]:
    env = {**os.environ, "GOVLEDGER_DATA_DIR": str(tmp_path), "GOVLEDGER_PASSWORD": PASSWORD}
    env.pop("GOVLEDGER_RATELIMIT_STORAGE_URI", None)
    subprocess.run([*GOVLEDGER, "account", "create", "--username", "admin", "--name", "Ada Admin",
                    "--role", "administrator"], env=env, check=True, capture_output=True)
    ports = [_port(), _port()]
    servers = [
        subprocess.Popen([*GOVLEDGER, "serve", "--port", str(port), "--insecure-cookies"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in ports
    ]
    try:
        for port in ports:  # bounded wait for each to listen
            for _ in range(300):
                try:
                    request(port, "GET", "/login")
                    break
                except OSError:
                    time.sleep(0.1)
        yield tmp_path, ports
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


def test_failed_sign_ins_spread_over_two_servers_are_limited_together(two_servers) -> None:
    _, ports = two_servers
    # LOGIN_RATE_LIMIT is 5 a minute for one address and username: 3 on each server.
    statuses = [sign_in(ports[n % 2], "admin", "wrong-password")[0] for n in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    # Even the right password is refused now, on either server.
    assert sign_in(ports[0], "admin", PASSWORD)[0] == 429


def test_a_copied_cookie_is_refused_on_every_server_after_sign_out(two_servers) -> None:
    _, ports = two_servers
    status, cookie = sign_in(ports[0], "admin", PASSWORD)
    assert status == 302
    for port in ports:  # the cookie works on both servers
        assert request(port, "GET", "/admin/accounts", cookie=cookie)[0] == 200
    _, _, with_csrf, page = request(ports[1], "GET", "/admin/accounts", cookie=cookie)
    status, location, _, _ = request(
        ports[1], "POST", "/logout", cookie=with_csrf or cookie,
        form={"csrf_token": CSRF.search(page)[1]},
    )
    assert status == 302 and "/login" in location
    for port in ports:  # the copy kept from before signing out is refused everywhere
        status, location, _, _ = request(port, "GET", "/admin/accounts", cookie=cookie)
        assert status == 302 and "/login" in location


def test_status_shows_the_log_head_the_projection_and_the_last_verify(two_servers) -> None:
    data_dir, _ = two_servers
    env = {**os.environ, "GOVLEDGER_DATA_DIR": str(data_dir)}
    before = subprocess.run([*GOVLEDGER, "status"], env=env, capture_output=True, text=True, check=True)
    assert "Event log head: position 1" in before.stdout
    assert "Last verify: never run here" in before.stdout
    subprocess.run([*GOVLEDGER, "verify"], env=env, check=True, capture_output=True)
    after = subprocess.run([*GOVLEDGER, "status"], env=env, capture_output=True, text=True, check=True)
    assert "position 1, up to date" in after.stdout
    assert "intact, 1 events" in after.stdout
