"""In a real browser, the reporting cycle's review (issue 12): an officer submits an
update by saving it; the programme manager returns it (a comment is required); the
officer sees the comment and resubmits; the manager approves it; the committee report
is published with nothing to override, and its record lists the approval with the
SHA-256 of exactly what was approved.

Serves the whole service as production does (conftest's `server`: CSRF on, secure
cookies) and drives Debian's Chromium through Playwright.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from browser_support import collect_problems, new_page, sign_in
from web_helpers import DEMO_PASSWORD, DEMO_USERS, PROGRAMME

from ledger.domain import content_sha256
from web.backend import System

pytestmark = pytest.mark.browser

Q1 = "2024/25 Q1"
UPDATE = f"/programmes/{PROGRAMME}/items/A1/update?period={quote(Q1)}"


@pytest.fixture
def system(system: System) -> System:
    """One action, A1, in a programme whose Q1 is open for updates."""
    system.ledger.register_item(PROGRAMME, "A1", kind="action", title="Resurface roads", actor="setup")
    system.ledger.open_period(PROGRAMME, Q1, due_date="2024-07-15", actor="setup")
    return system


def signed_in(chromium: Any, server: str, role: str, problems: list[str]) -> Any:
    page = new_page(chromium, server)
    collect_problems(page, problems)
    sign_in(page, DEMO_USERS[role], DEMO_PASSWORD)
    return page


def review_a1(manager: Any) -> None:
    """From the navigation to A1's review page."""
    manager.get_by_role("navigation").get_by_role("link", name="Review").click()
    manager.get_by_role("link", name=f"Review A1 for {Q1}").click()
    assert manager.locator("h1").inner_text() == f"Review A1's update for {Q1}"


def test_submit_return_resubmit_approve_publish(chromium: Any, server: str, system: System) -> None:
    problems: list[str] = []
    officer = signed_in(chromium, server, "officer", problems)
    manager = signed_in(chromium, server, "programme manager", problems)

    # Submit: saving the update is submitting it.
    officer.goto(UPDATE)
    officer.get_by_label("Green").check()
    officer.get_by_label("Update", exact=True).fill("Resurfacing under way.")
    officer.get_by_role("button", name="Save update").click()
    assert "Submitted for review." in officer.locator("main").inner_text()

    # Return: the comment is required, and the choice is kept while it is missing.
    review_a1(manager)
    assert "Resurfacing under way." in manager.locator("main").inner_text()
    manager.get_by_label("Return it to the officer").check()
    manager.get_by_role("button", name="Save decision").click()
    assert "Give a comment" in manager.locator(".govuk-error-summary").inner_text()
    assert manager.get_by_label("Return it to the officer").is_checked()
    manager.get_by_label("Comment").fill("Say which roads, and by when.")
    manager.get_by_role("button", name="Save decision").click()
    assert f"A1's update for {Q1} returned to the officer." in manager.locator("main").inner_text()

    # Resubmit: the officer reads the comment on the form and saves again.
    officer.goto(UPDATE)
    state = officer.locator("#review-state").inner_text()
    assert "Returned" in state and "Say which roads, and by when." in state
    officer.get_by_label("Update", exact=True).fill(
        "Resurfacing of London Road and Mill Lane, done by August."
    )
    officer.get_by_role("button", name="Save update").click()
    assert "Submitted for review." in officer.locator("main").inner_text()

    # Approve what is there now.
    review_a1(manager)
    assert "London Road and Mill Lane" in manager.locator("main").inner_text()
    manager.get_by_label("Approve this update").check()
    manager.get_by_role("button", name="Save decision").click()
    assert f"A1's update for {Q1} approved." in manager.locator("main").inner_text()
    assert "Nothing is waiting for your review." in manager.locator("main").inner_text()

    # Publish: everything is approved, so no override is asked for.
    manager.goto(f"/reports/{PROGRAMME}/committee/publish?period={quote(Q1)}")
    assert "Every item in the report is approved as it stands" in manager.locator("main").inner_text()
    assert manager.get_by_label("Why publish with updates not approved").count() == 0
    manager.get_by_role("button", name="Publish").click()
    assert "published (edition 1" in manager.locator("main").inner_text()
    manager.get_by_role("link", name="Record and approvals (edition 1)").click()
    approvals = manager.locator("#approvals").inner_text()
    rating = system.ledger.get_item(PROGRAMME, "A1")["ratings"][Q1]
    digest = content_sha256(rating["status"], rating["update"], rating["mitigation"])
    assert "A1" in approvals and DEMO_USERS["programme manager"] in approvals
    assert digest in approvals.replace("\u200b", "").replace("\n", "")
    assert "no override" in manager.locator("#override").inner_text()
    assert problems == [], problems
