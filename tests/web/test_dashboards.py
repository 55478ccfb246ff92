"""Dashboards: a programme's period at a glance, every period side by side, and search."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from test_dashboards_seed import OFFICER, Q1, Q4, seed_plan
from web_helpers import OTHER_PROGRAMME, PROGRAMME, AuthActions

from web.backend import System
from web.dashboards import chart, hierarchy_order, highlight

DASHBOARD = f"/programmes/{PROGRAMME}/dashboard"
HISTORY = f"/programmes/{PROGRAMME}/history"


@pytest.fixture
def plan(system: System) -> System:
    seed_plan(system.ledger)
    return system


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def section(html: str, element_id: str) -> str:
    """The element with `element_id` up to its closing tag (tables, lists, svg)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"', html)
    assert match, f"no #{element_id}"
    tag = match[1]
    return html[match.start() : html.index(f"</{tag}>", match.start())]


def text(html: str) -> str:
    """Visible words, tags removed and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# ---------------------------------------------------------------- programmes


def test_the_programmes_page_lists_every_programme_with_its_latest_period(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    html = page(client, "/programmes")
    assert f'href="{DASHBOARD}">Test plan</a>' in html
    assert f'href="/programmes/{OTHER_PROGRAMME}/dashboard">Other plan</a>' in html
    assert "2024/25 Q1" in html  # the test plan's latest period
    assert "Nothing recorded yet" in html  # the other plan has no ratings


# ---------------------------------------------------------------- dashboard


def test_the_dashboard_counts_each_status_in_scale_order_with_a_total(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    html = page(client, DASHBOARD)
    assert "<h1" in html and Q1 in text(section(html, "main-content"))
    table = text(section(html, "summary-table"))
    rows = re.findall(
        r"govuk-tag[^\"]*\">([^<]+)</strong></th>\s*<td[^>]*>(\d+)</td>", section(html, "summary-table")
    )
    assert rows == [
        ("Green", "1"),
        ("Amber", "1"),
        ("Red", "1"),
        ("To be added", "0"),
        ("Not yet due", "1"),
        ("Complete", "0"),
    ]
    assert "Total" in table and table.endswith("4")


def test_the_chart_is_an_accessible_svg_holding_the_counts(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    html = page(client, DASHBOARD)
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg
    assert 'aria-labelledby="status-chart-title status-chart-desc"' in svg
    assert f'<title id="status-chart-title">Items by status, {Q1}</title>' in svg
    assert (
        '<desc id="status-chart-desc">Green: 1, Amber: 1, Red: 1, To be added: 0, Not yet due: 1, '
        "Complete: 0. Total: 4.</desc>"
    ) in svg
    bars = re.findall(r'data-status="([^"]+)" data-count="(\d+)"', svg)
    assert bars == [
        ("Green", "1"),
        ("Amber", "1"),
        ("Red", "1"),
        ("To be added", "0"),
        ("Not yet due", "1"),
        ("Complete", "0"),
    ]
    # A label and a count written beside each bar, not colour alone; no inline styles.
    assert re.findall(r'class="app-chart__label"[^>]*>([^<]+)</text>', svg)[:3] == ["Green", "Amber", "Red"]
    assert len(re.findall(r"<rect ", svg)) == 4  # zero counts draw no bar
    assert "style=" not in svg


def test_chart_bars_are_in_proportion() -> None:
    summary = {
        "total": 6,
        "statuses": [
            {"status": "Green", "category": "green", "count": 4},
            {"status": "Red", "category": "red", "count": 2},
            {"status": "Complete", "category": "unrated", "count": 0},
        ],
    }
    geometry = chart(summary)
    widths = [bar["width"] for bar in geometry["bars"]]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    assert [bar["fill"] for bar in geometry["bars"]] == ["#00703c", "#d4351c", "#b1b4b6"]


def test_exceptions_show_amber_and_red_with_update_and_mitigation(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    exceptions = text(section(page(client, DASHBOARD), "exceptions-table"))
    assert (
        "A1.1.2 Train report authors Lead: Lead of A1.1.2 Amber Two sessions slipped. "
        "Extra sessions booked for November." in exceptions
    )
    assert (
        "A1.2.1 Deliver the savings Lead: Lead of A1.2.1 Red Savings proposals are late. "
        "Weekly board reviews each proposal." in exceptions
    )
    assert "A1.1.1" not in exceptions  # Green


def test_direction_of_travel_counts_and_lists_what_deteriorated(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("auditor")
    html = page(client, DASHBOARD)
    assert f"Direction of travel since {Q4}" in html
    counts = text(section(html, "direction-counts"))
    assert counts == "Improved 0 Deteriorated 2 Unchanged 1 New 0 Not comparable 1"
    deteriorated = text(section(html, "deteriorated-table"))
    assert "A1.1.2 Train report authors Green deteriorated to Amber" in deteriorated
    assert "A1.2.1 Deliver the savings Amber deteriorated to Red" in deteriorated
    assert "A1.1.1" not in deteriorated


def test_items_with_no_update_this_period_are_listed(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    missing = text(section(page(client, DASHBOARD), "missing-table"))
    assert "A2.1.2 Plant trees Lead of A2.1.2 Status and update" in missing
    assert (
        "A2.1.1 Update the nature strategy Lead of A2.1.1 Update text only: rated Not yet due, with nothing "
        "written about progress"
    ) in missing
    assert "A1.1.1" not in missing


def test_another_period_can_be_chosen(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("officer")
    html = page(client, f"{DASHBOARD}?period={quote(Q4)}")
    assert "Green: 3, Amber: 1, Red: 0" in html
    assert "No item deteriorated." in html
    assert '<option value="2023/24 Q4" selected>' in html
    # Typed another way, the period is still found.
    assert "Green: 3, Amber: 1" in page(client, f"{DASHBOARD}?period=Q4+2023-24")


def test_unknown_periods_and_programmes_are_not_found(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    page(client, f"{DASHBOARD}?period=2030/31+Q1", 404)
    page(client, f"{DASHBOARD}?period=nonsense", 404)
    page(client, "/programmes/no-such-plan/dashboard", 404)
    page(client, "/programmes/no-such-plan/history", 404)


def test_a_programme_with_nothing_recorded_says_so(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("analyst")
    html = page(client, f"/programmes/{OTHER_PROGRAMME}/dashboard")
    assert "Nothing has been recorded for this programme." in html
    assert "<svg" not in html


def test_links_follow_what_the_reader_may_open(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("officer")
    officer = page(client, DASHBOARD)
    assert f'href="{HISTORY}"' in officer
    assert "/as-at" not in officer and "narrative-diff" not in officer  # auditors' pages
    auth.logout()
    auth.login("auditor")
    auditor = page(client, DASHBOARD)
    assert f'href="/programmes/{PROGRAMME}/as-at"' in auditor
    assert f'href="/programmes/{PROGRAMME}/narrative-diff"' in auditor
    assert f'href="/programmes/{PROGRAMME}/changed-after-publication"' in auditor


# ---------------------------------------------------------------- history grid


def test_the_grid_shows_each_status_as_words_by_period_grouped_by_hierarchy(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    html = page(client, HISTORY)
    grid = section(html, "grid")
    header = text(grid[: grid.index("</thead>")])
    assert header == f"Status of each item by period, grouped under aims and priorities Item {Q4} {Q1}"
    refs = re.findall(r'data-ref="([^"]+)"', grid)
    assert refs == [
        "V",
        "Aim 1",
        "P1.1",
        "A1.1.1",
        "A1.1.2",
        "P1.2",
        "A1.2.1",
        "Aim 2",
        "P2.1",
        "A2.1.1",
        "A2.1.2",
    ]
    rows = {ref: text(row) for ref, row in re.findall(r'data-ref="([^"]+)">(.*?)</tr>', grid, re.S)}
    assert rows["A1.1.2"] == "A1.1.2 timeline Train report authors Green Amber"
    assert rows["A1.2.1"] == "A1.2.1 timeline Deliver the savings Amber Red"
    assert rows["A2.1.2"] == "A2.1.2 timeline Plant trees – Not rated – Not rated"
    # Colour repeats the words: GOV.UK tags per category.
    assert '<strong class="govuk-tag govuk-tag--red">Red</strong>' in grid
    assert '<strong class="govuk-tag govuk-tag--green">Green</strong>' in grid
    assert f'href="/programmes/{PROGRAMME}/items/A1.1.2/timeline"' in grid
    assert 'class="govuk-table__header app-grid__item app-depth-3"' in grid


def test_the_grid_marks_a_restated_period(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    plan.ledger.correct_status(
        PROGRAMME,
        "A1.1.1",
        period=Q4,
        status="Amber",
        update="Late.",
        mitigation="Chasing.",
        actor=OFFICER,
        reason="Was late",
    )
    auth.login("officer")
    grid = section(page(client, HISTORY), "grid")
    row = text(re.search(r'data-ref="A1.1.1">(.*?)</tr>', grid, re.S)[1])
    assert row == "A1.1.1 timeline Publish decisions Amber Restated Green"


def test_a_grid_with_nothing_rated_says_so(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("officer")
    assert "Nothing has been rated for this programme yet." in page(
        client, f"/programmes/{OTHER_PROGRAMME}/history"
    )


def test_hierarchy_order_puts_children_under_parents() -> None:
    rows = [
        {"ref": r, "path": p}
        for r, p in [
            ("A1.10", "Aim 1 > A1.10"),
            ("A1.9", "Aim 1 > A1.9"),
            ("Aim 2", "Aim 2"),
            ("Aim 1", "Aim 1"),
        ]
    ]
    assert [r["ref"] for r in hierarchy_order(rows)] == ["Aim 1", "A1.9", "A1.10", "Aim 2"]


# ---------------------------------------------------------------- search


def test_search_finds_updates_and_narratives_with_the_words_highlighted(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    html = page(client, "/search?q=sessions")
    results = section(html, "results")
    assert "2 results" in html
    assert "Two <mark>sessions</mark> slipped." in results
    assert "<mark>Sessions</mark> booked." in results
    assert f'href="/programmes/{PROGRAMME}/items/A1.1.2/timeline">A1.1.2</a>: update for {Q1}' in results
    narrative = page(client, "/search?q=trainers")
    assert "Recruiting <mark>trainers</mark>." in narrative and "Report narrative" in narrative


def test_search_can_be_narrowed_to_a_programme(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("officer")
    assert "0 results" in page(client, f"/search?q=sessions&programme={OTHER_PROGRAMME}")
    assert "2 results" in page(client, f"/search?q=sessions&programme={PROGRAMME}")


def test_search_escapes_what_was_typed_and_what_was_recorded(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    payload = '<script>alert("x")</script> budget <img src=x onerror=alert(1)>'
    plan.ledger.record_status(PROGRAMME, "A2.1.2", period=Q1, status="Green", update=payload, actor=OFFICER)
    auth.login("auditor")
    html = page(client, "/search?q=" + quote("budget <script>"))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert (
        "<mark>&lt;script&gt;</mark>alert(&#34;x&#34;)&lt;/script&gt; <mark>budget</mark> &lt;img src=x"
        in html
    )
    assert 'value="budget &lt;script&gt;"' in html
    # The dashboard and grid escape it too.
    assert "<script>alert" not in page(client, DASHBOARD)


def test_highlight_escapes_then_marks() -> None:
    assert str(highlight("a <b> & B", "b")) == "a &lt;<mark>b</mark>&gt; &amp; <mark>B</mark>"
    assert str(highlight("nothing", "")) == "nothing"
    assert str(highlight("x.y", ".")) == "x<mark>.</mark>y"  # regex characters are literal


def test_an_empty_search_shows_just_the_form(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("officer")
    html = page(client, "/search")
    assert 'id="q"' in html and "results" not in html


# ---------------------------------------------------------------- navigation


@pytest.mark.parametrize(
    ("role", "audit"),
    [
        ("officer", False),
        ("programme manager", True),
        ("auditor", True),
        ("analyst", True),
        ("administrator", True),
    ],
)
def test_navigation_links_programmes_for_everyone_and_audit_for_its_readers(
    client: FlaskClient, auth: AuthActions, role: str, audit: bool
) -> None:
    auth.login(role)
    nav = page(client, "/").split('id="navigation"')[1].split("</ul>")[0]
    assert 'href="/programmes"' in nav
    assert ('href="/audit/log"' in nav) is audit
