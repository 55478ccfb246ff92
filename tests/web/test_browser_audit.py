"""In a real browser: an officer's change is found by an auditor, on the item's timeline
and in Datasette at /data/, signed in once; the dashboard and grid are screenshotted.

Uses conftest's `server` and `chromium_page`: the server shares its ledger system with
the test, so the officer's change is recorded through the same ledger the pages read.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import collect_problems, sign_in
from test_dashboards_seed import OFFICER, Q1, seed_plan
from web_helpers import DEMO_PASSWORD, DEMO_USERS, PROGRAMME

from web.backend import System

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")
REASON = "Browser check: the October date was wrong"


@pytest.fixture
def system(system: System) -> System:
    """The small plan of test_dashboards_seed, recorded before the server starts."""
    seed_plan(system.ledger)
    return system


def test_an_officers_change_is_found_by_an_auditor(system: System, chromium_page) -> None:
    page = chromium_page
    problems: list[str] = []
    collect_problems(page, problems)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The officer corrects their item (through the ledger the web app writes with).
    system.ledger.correct_status(
        PROGRAMME,
        "A1.1.1",
        period=Q1,
        status="Amber",
        update="On track for December.",
        mitigation="Weekly check-ins with the team.",
        actor=OFFICER,
        reason=REASON,
    )

    sign_in(page, DEMO_USERS["auditor"], DEMO_PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Programmes").click()
    page.get_by_role("link", name="Test plan", exact=True).click()
    assert page.locator("h1").inner_text().startswith(Q1)
    chart = page.get_by_role("img", name=f"Items by status, {Q1}")
    assert chart.is_visible()
    assert "Amber: 2" in chart.locator("desc").text_content()
    page.screenshot(path=str(SCREENSHOTS / "govledger-browser-dashboard.png"), full_page=True)

    # From the exceptions to the item's timeline: who, when, from → to, why.
    page.locator("#exceptions-table").get_by_role("link", name="A1.1.1", exact=True).click()
    assert page.locator("h1").inner_text() == "A1.1.1: Publish decisions"
    last = page.locator("#timeline > li").last
    entry = last.inner_text()
    assert f"Status corrected for {Q1}" in entry
    assert f"Restatement: corrects {Q1} after the period ended" in entry
    assert OFFICER in entry and REASON in entry
    assert "Green" in entry and "Amber" in entry
    last.get_by_text("Changes from the text it replaced").click()
    # Marked by element and in words, not by colour alone.
    assert last.locator(".app-diff del").first.text_content() == "[deleted: October.]"
    assert last.locator(".app-diff ins").first.text_content() == "[inserted: December.]"
    assert last.locator(".app-diff del").first.evaluate("e => getComputedStyle(e).textDecorationLine") == (
        "line-through"
    )

    # The grid, every period side by side.
    page.goto(f"/programmes/{PROGRAMME}/history")
    row = page.locator('tr[data-ref="A1.1.1"]')
    assert "Restated" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "govledger-browser-grid.png"), full_page=True)

    # Datasette, signed in by the same session: the audit_log table has the change.
    databases = page.request.get("/data/.json").json()
    name = next(n for n in databases if "projections" in n) if isinstance(databases, dict) else "projections"
    page.goto(f"/data/{name}/audit_log?subject_ref=A1.1.1&event_type=StatusCorrected")
    table = page.locator("table.rows-and-columns").inner_text()
    assert OFFICER in table and REASON in table

    assert problems == [], problems
