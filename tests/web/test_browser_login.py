"""In a real browser: sign in as an administrator, create an officer, sign in as them.

Starts the real server (uvicorn on a free loopback port, Flask and Datasette behind the
dispatcher) and drives Debian's Chromium through Playwright. Checks GOV.UK Frontend's
styles, fonts and JavaScript load from this server and that nothing breaks the CSP.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import DEMO_PASSWORD, DEMO_USERS

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/govledger-browser-login.png")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(data_dir: Path) -> Iterator[str]:
    import uvicorn

    from web.serve import make_asgi_app

    # Secure cookies, as in production: browsers accept them from http://127.0.0.1.
    app = make_asgi_app(data_dir, config={"SECRET_KEY": "browser-test"})
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.close()


@pytest.fixture
def chromium_page(server: str) -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): no browser to drive")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(base_url=server)
            page.set_default_timeout(10_000)
            yield page
        finally:
            browser.close()


def _sign_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_administrator_creates_an_officer_who_then_signs_in(chromium_page) -> None:
    page = chromium_page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    _sign_in(page, DEMO_USERS["administrator"], DEMO_PASSWORD)
    assert page.locator("h1").inner_text() == "Governance Ledger"
    page.get_by_role("navigation").get_by_role("link", name="Accounts").click()
    page.get_by_role("button", name="Create an account").click()

    page.get_by_label("Username").fill("o.fficer")
    page.get_by_label("Full name").fill("Olu Fficer")
    page.get_by_label("Officer", exact=True).check()
    page.get_by_label("Initial password").fill("officer's first password")
    page.get_by_role("button", name="Create account").click()
    assert "Account o.fficer created." in page.locator(".govuk-notification-banner").inner_text()

    page.get_by_role("button", name="Sign out").click()
    assert "You have signed out." in page.locator(".govuk-notification-banner").inner_text()

    _sign_in(page, "o.fficer", "officer's first password")
    assert "Signed in as Olu Fficer: Officer." in page.locator("main").inner_text()
    nav = page.locator("nav").inner_text()
    assert "Accounts" not in nav

    # GOV.UK Frontend's CSS and its fonts came from this server's /static and /assets.
    family = page.locator(".govuk-service-navigation__service-name").evaluate(
        "el => getComputedStyle(el).fontFamily"
    )
    assert "GDS Transport" in family
    page.evaluate("document.fonts.ready")
    loaded = page.evaluate(
        "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
    )
    assert any("GDS Transport" in f for f in loaded), loaded
    # The nonce'd inline script and the module that starts GOV.UK Frontend both ran.
    assert "govuk-frontend-supported" in page.locator("body").get_attribute("class")
    page.goto("/account/password")
    assert page.locator("[data-govuk-password-input-init]").count() == 3
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.goto("/")
    page.screenshot(path=str(SCREENSHOT.with_name("govledger-browser-home.png")), full_page=True)

    # The same sign-in opens Datasette at /data/; signing out closes it again.
    page.get_by_role("navigation").get_by_role("link", name="Data").click()
    assert page.url.endswith("/data/")
    assert "Governance Ledger" in page.locator("h1").inner_text()
    page.go_back()
    page.get_by_role("button", name="Sign out").click()
    assert page.request.get("/data/").status == 403

    assert problems == [], problems
