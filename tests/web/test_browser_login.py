"""In a real browser: sign in as an administrator, create an officer, sign in as them.

Starts the real server (conftest's `server`: uvicorn on a free loopback port, Flask and
Datasette behind the dispatcher) and drives Debian's Chromium through Playwright. Checks
GOV.UK Frontend's styles, fonts and JavaScript load from this server and that nothing
breaks the CSP.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import collect_problems, sign_in
from web_helpers import DEMO_PASSWORD, DEMO_USERS

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/govledger-browser-login.png")


def test_administrator_creates_an_officer_who_then_signs_in(chromium_page) -> None:
    page = chromium_page
    problems: list[str] = []
    collect_problems(page, problems)

    sign_in(page, DEMO_USERS["administrator"], DEMO_PASSWORD)
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

    sign_in(page, "o.fficer", "officer's first password")
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
