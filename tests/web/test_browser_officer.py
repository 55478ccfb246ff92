"""In a real browser: an officer rates an action Amber and sees the summary move; two
people edit the same item and the second sees the first one's change beside their own.

Serves the whole service as production does (conftest's `server`: web.serve's ASGI app
under uvicorn on a free loopback port, CSRF on) and drives Debian's Chromium through
Playwright. Screenshots of the update form and the conflict page go to /tmp for a person
to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import collect_problems, new_page, sign_in
from test_updates import Q1, record_items
from web_helpers import DEMO_PASSWORD, DEMO_USERS, PROGRAMME

from web.backend import System

pytestmark = pytest.mark.browser

FORM_SHOT = Path("/tmp/govledger-update-form.png")
CONFLICT_SHOT = Path("/tmp/govledger-conflict.png")
UPDATE = f"/programmes/{PROGRAMME}/items/A1.2/update"


@pytest.fixture
def system(system: System) -> System:
    """The programme's items recorded before the server starts."""
    record_items(system.ledger)
    return system


def signed_in(chromium: Any, server: str, role: str, problems: list[str]) -> Any:
    """A page in its own browser context (its own cookies), signed in as `role`."""
    page = new_page(chromium, server)
    collect_problems(page, problems)
    sign_in(page, DEMO_USERS[role], DEMO_PASSWORD)
    return page


def amber_count(page: Any) -> int:
    page.goto(f"/programmes/{PROGRAMME}/dashboard?period={Q1}")
    row = page.locator("#summary-table tbody tr").filter(has_text="Amber").first
    return int(row.locator("td").inner_text())


def test_an_officer_rates_an_action_amber_and_the_summary_moves(chromium: Any, server: str) -> None:
    problems: list[str] = []
    page = signed_in(chromium, server, "officer", problems)
    before = amber_count(page)

    page.get_by_role("navigation").get_by_role("link", name="My items").click()
    assert "1 of 2 items due still need an update" in page.locator("main").inner_text()
    page.get_by_role("link", name="Record update for A1.2").click()
    assert page.locator("h1").inner_text() == "Update A1.2"
    page.get_by_label("Amber").check()
    page.get_by_label("Update", exact=True).fill("Three carers approved; two in assessment.")
    page.screenshot(path=str(FORM_SHOT), full_page=True)

    # Amber without mitigation: refused, with the typed update kept.
    page.get_by_role("button", name="Save update").click()
    summary = page.locator(".govuk-error-summary")
    assert "describe the mitigation" in summary.inner_text()
    assert (
        page.get_by_label("Update", exact=True).input_value() == "Three carers approved; two in assessment."
    )
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "mitigation"

    page.get_by_label("Mitigation or corrective action").fill("Extra assessment panel in June.")
    page.get_by_role("button", name="Save update").click()
    main = page.locator("main").inner_text()
    assert "A1.2: Amber saved for 2024/25 Q1." in main
    assert "0 of 2 items due still need an update" in main
    assert page.locator("table").filter(has_text="Recorded for").get_by_text("Amber").is_visible()
    assert amber_count(page) == before + 1
    assert problems == [], problems


def test_a_second_editor_sees_the_first_ones_change_beside_their_own_text(
    chromium: Any, server: str, system: System
) -> None:
    problems: list[str] = []
    officer = signed_in(chromium, server, "officer", problems)
    manager = signed_in(chromium, server, "programme manager", problems)
    officer.goto(UPDATE)
    manager.goto(UPDATE)  # both open the form before either saves

    officer.get_by_label("Green").check()
    officer.get_by_label("Update", exact=True).fill("Officer: three carers approved.")
    officer.get_by_role("button", name="Save update").click()
    assert "A1.2: Green saved" in officer.locator("main").inner_text()

    manager.get_by_label("Amber").check()
    manager.get_by_label("Update", exact=True).fill("Manager: panel dates slipping.")
    manager.get_by_label("Mitigation or corrective action").fill("Extra panel booked.")
    manager.get_by_role("button", name="Save update").click()

    assert manager.locator("h1").inner_text() == "Someone else changed this while you were working on it"
    theirs = manager.locator(".govuk-grid-column-one-half").first.inner_text()
    assert "Demo officer" in theirs and "recorded Green for 2024/25 Q1" in theirs
    assert "Officer: three carers approved." in theirs
    assert manager.get_by_label("Update", exact=True).input_value() == "Manager: panel dates slipping."
    assert manager.get_by_label("Amber").is_checked()
    manager.screenshot(path=str(CONFLICT_SHOT), full_page=True)
    assert system.ledger.get_item(PROGRAMME, "A1.2")["ratings"][Q1]["status"] == "Green"

    # Their informed choice: save theirs anyway. It changes the officer's status, so a
    # reason is asked for, and nothing typed is lost on the way.
    manager.get_by_role("button", name="Save mine anyway").click()
    assert "Give a reason" in manager.locator(".govuk-error-summary").inner_text()
    assert manager.get_by_label("Mitigation or corrective action").input_value() == "Extra panel booked."
    manager.get_by_label("Reason for changing the status").fill("Panel dates have slipped since.")
    manager.get_by_role("button", name="Save update").click()
    assert "A1.2: Amber saved" in manager.locator("main").inner_text()
    rating = system.ledger.get_item(PROGRAMME, "A1.2")["ratings"][Q1]
    assert (rating["status"], rating["update"]) == ("Amber", "Manager: panel dates slipping.")
    # The conflict page is served as 409 Conflict, which Chromium notes in the console.
    assert [p for p in problems if "status of 409" not in p] == [], problems
