"""Issue 9, finding 7: the per-address sign-in limit can't be escaped by claiming another
X-Forwarded-For, through the real server run exactly as `govledger serve` runs it.

uvicorn trusts forwarded headers from loopback clients by default and rewrites the client
address before Flask sees it; `web.serve.SERVER_OPTIONS` turns that off, so only the Flask
app's own ProxyFix (when GOVLEDGER_TRUSTED_PROXIES is set) believes those headers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import live_server
from test_serve_isolation import CSRF, Connection

from web.backend import System
from web.security import TRUSTED_PROXIES_ENV
from web.serve import SERVER_OPTIONS, make_asgi_app

LIMITS = {"LOGIN_RATE_LIMIT": "1000/minute", "LOGIN_RATE_LIMIT_PER_IP": "3/minute"}


def failed_sign_ins(base_url: str, forwarded_for: list[str]) -> list[int]:
    """Wrong passwords for different usernames, each claiming another X-Forwarded-For."""
    conn = Connection(base_url)
    try:
        form = conn.request("GET", "/login")
        statuses = []
        for n, address in enumerate(forwarded_for):
            conn.http.request(
                "POST", "/login",
                body=f"csrf_token={CSRF.search(form.text)[1]}&username=guess-{n}&password=wrong",
                headers={
                    "Cookie": f"govledger_session={form.cookie()}",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Forwarded-For": address,
                },
            )
            response = conn.http.getresponse()
            response.read()
            statuses.append(response.status)
        return statuses
    finally:
        conn.close()


def test_the_served_app_ignores_x_forwarded_for_from_an_untrusted_client(
    data_dir: Path, system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TRUSTED_PROXIES_ENV, raising=False)
    app = make_asgi_app(data_dir, config={"SECRET_KEY": "proxy-test", **LIMITS}, system=system)
    with live_server(app, **SERVER_OPTIONS) as url:
        statuses = failed_sign_ins(url, [f"203.0.113.{n}" for n in range(5)])
    assert statuses == [200, 200, 200, 429, 429]
