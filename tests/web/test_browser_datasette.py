"""In a real browser: Datasette's pages at /data/ work under its Content-Security-Policy
(issue 9): a table with Datasette's own scripts, and the dashboard drawn by Vega."""

from __future__ import annotations

import pytest
from browser_support import collect_problems, sign_in
from web_helpers import DEMO_PASSWORD, DEMO_USERS, PROGRAMME

pytestmark = pytest.mark.browser


def test_datasettes_pages_run_under_their_policy(chromium_page) -> None:
    page = chromium_page
    problems: list[str] = []
    collect_problems(page, problems)
    sign_in(page, DEMO_USERS["analyst"], DEMO_PASSWORD)

    response = page.goto("/data/projections/accounts")
    policy = response.headers["content-security-policy"]
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert page.locator("table.rows-and-columns").count() == 1
    # Datasette's own inline script adds the column menus' cog buttons.
    page.locator("th .dropdown-menu-icon, th svg").first.wait_for(state="attached")

    page.goto(f"/data/-/dashboards/statuses-by-period?programme={PROGRAMME}")
    page.locator(".vega-embed canvas, .vega-embed svg").first.wait_for(state="attached")

    # Vega's own log lines ("WARN ...": its spec version, an empty chart) are not faults.
    assert [p for p in problems if not p.startswith("WARN ")] == [], problems
