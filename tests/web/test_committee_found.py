"""Issue 13, item 9: what each role found on the way. A programme manager's home links to
the reports; as-at before the record starts says when it starts and offers the published
editions; the update form offers the open period first, then every period in order; the
missing list says which part is missing; the grid shows only periods where something was
rated; as-at asks for a date and time (log position advanced); the administrator's
confirmation names the programme; the grid keeps each item in view at 320px."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, time
from typing import Any

import pytest
from browser_support import new_page, sign_in
from flask.testing import FlaskClient
from web_helpers import DEMO_PASSWORD, DEMO_USERS, OTHER_PROGRAMME, PROGRAMME, AuthActions

from ledger.periods import Period
from projections.reports import publish
from web.backend import System
from web.times import LONDON

Q4, Q1, Q2 = "2023/24 Q4", "2024/25 Q1", "2024/25 Q2"
AS_AT = f"/programmes/{PROGRAMME}/as-at"


@pytest.fixture
def plan(system: System) -> System:
    """A1 rated Green with no update text in Q1, A2 rated with an update in Q1 and Q2;
    only an indicator value in 2023/24 Q4; Q2 opened for updates."""
    ledger = system.ledger
    for ref in ("A1", "A2"):
        ledger.register_item(PROGRAMME, ref, kind="action", title=f"Action {ref}", actor="setup")
    ledger.define_indicator(PROGRAMME, "VAC", name="vacancy rate", unit="%", better="lower", actor="setup")
    ledger.record_indicator_value(PROGRAMME, "VAC", period=Q4, value="12", actor="setup")
    ledger.record_status(PROGRAMME, "A1", period=Q1, status="Green", update="", actor="setup")
    for period in (Q1, Q2):
        ledger.record_status(
            PROGRAMME, "A2", period=period, status="Green", update=f"Done {period}", actor="setup"
        )
    ledger.open_period(PROGRAMME, Q2, due_date="2024-10-15", actor="setup")
    return system


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_a_programme_managers_home_links_to_the_reports(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/reports/"' in home.split('id="reports"')[1]
    assert f'href="/reports/{PROGRAMME}/">Test plan: reports</a>' in home.split('id="my-reports"')[1]


def test_as_at_before_the_record_starts_says_when_it_does_and_offers_the_editions(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    publish.publish(plan, PROGRAMME, "committee", Q1, actor=DEMO_USERS["programme manager"])
    auth.login("auditor")
    response = client.get(f"{AS_AT}?when=2001-01-01")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Its record starts at" in text(html.split('id="not-yet"')[1].split("</p>")[0])
    assert f"{AS_AT}?when=1" in html or re.search(rf"{AS_AT}\?when=\d+", html)
    editions = html.split('id="editions"')[1].split("</ul>")[0]
    assert f"/reports/{PROGRAMME}/committee/published?period=2024/25+Q1&amp;edition=1" in editions


def test_the_update_form_offers_the_open_period_first_then_every_period_in_order(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    form = client.get(f"/programmes/{PROGRAMME}/items/A1/update").get_data(as_text=True)
    select = form.split('name="period"')[1].split("</select>")[0]
    offered = re.findall(r'<option value="([^"]+)"', select)
    assert offered[0] == Q2 and 'value="2024/25 Q2" selected' in select
    assert "open for updates" in select.split("</option>")[0]
    today = Period.containing(date.today(), "quarterly")
    rest = [Period.parse(label, "quarterly") for label in offered[1:]]
    assert rest == sorted(rest, reverse=True) and len(offered) == len(set(offered))  # in order
    every = sorted([*rest, Period.parse(Q2, "quarterly")], reverse=True)
    assert every[0] == today  # nothing after today's quarter
    assert all(later.previous() == earlier for later, earlier in itertools.pairwise(every))  # none skipped
    assert rest[-1] == Period.parse(Q4, "quarterly")  # back to the earliest recorded


def test_still_missing_says_which_part_is_missing(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    page = text(client.get(f"/programmes/{PROGRAMME}/dashboard?period={Q1}").get_data(as_text=True))
    assert "A1 Action A1 Not named Update text only: rated Green, with nothing written about progress" in page


def test_the_grid_shows_only_periods_where_something_was_rated(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("auditor")
    html = client.get(f"/programmes/{PROGRAMME}/history").get_data(as_text=True)
    head = html.split('id="grid"')[1].split("</thead>")[0]
    assert re.findall(r'<th scope="col" class="govuk-table__header">([^<]+)</th>', head) == [Q1, Q2]
    assert f"Not shown: {Q4}, where something else was recorded" in text(html)


def test_as_at_asks_for_a_date_and_time_with_the_log_position_advanced(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("auditor")
    form = client.get(AS_AT).get_data(as_text=True)
    assert 'name="day"' in form and 'name="month"' in form and 'name="year"' in form and 'name="time"' in form
    assert "Advanced: a log position instead" in form and "ISO time" not in form
    today = date.today()
    by_date = client.get(f"{AS_AT}?day={today.day}&month={today.month}&year={today.year}&time=23:59")
    zone = datetime.combine(today, time(23, 59), tzinfo=LONDON).tzname()  # typed in UK time
    assert by_date.status_code == 200
    assert f"As recorded at 23:59:00 {zone} on" in by_date.get_data(as_text=True)
    position = plan.ledger.get_log_position()
    by_position = client.get(f"{AS_AT}?position={position}&day=1&month=1&year=2001")  # the position wins
    assert by_position.status_code == 200 and f"log position {position}" in by_position.get_data(as_text=True)
    bad = client.get(f"{AS_AT}?day=31&month=2&year=2024&time=9")
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "Enter a real date, for example 3 10 2024." in page and 'value="31"' in page
    assert "Enter the time on the 24-hour clock" in client.get(
        f"{AS_AT}?day=1&month=2&year=2024&time=25:00"
    ).get_data(as_text=True)


def test_the_administrators_confirmation_names_the_programme(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("administrator")
    url = f"/admin/accounts/{DEMO_USERS['officer']}"
    response = client.post(
        f"{url}/assign-programme",
        data={"programme": OTHER_PROGRAMME, "reason": "Cover"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Access to Other plan given." in page and f"Access to {OTHER_PROGRAMME}" not in page
    assert "Test plan, Other plan" in text(page)
    removal = client.get(f"{url}/unassign-programme").get_data(as_text=True)
    assert '<option value="other-plan">Other plan</option>' in removal


def test_the_grid_keeps_each_item_in_view_at_320px(chromium: Any, server: str, plan: System) -> None:
    for ref in range(3, 9):  # enough periods and items to need scrolling
        plan.ledger.register_item(
            PROGRAMME, f"A{ref}", kind="action", title=f"A long action title {ref}", actor="x"
        )
    for period in ("2024/25 Q3", "2024/25 Q4", "2025/26 Q1", "2025/26 Q2"):
        plan.ledger.record_status(
            PROGRAMME, "A2", period=period, status="Amber", update="x", mitigation="y", actor="x"
        )
    page = new_page(chromium, server)
    sign_in(page, DEMO_USERS["auditor"], DEMO_PASSWORD)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"/programmes/{PROGRAMME}/history")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    region = page.locator(".app-table-scroll").first
    assert page.evaluate("(r) => r.scrollWidth > r.clientWidth", region.element_handle())  # it scrolls inside
    region.evaluate("(r) => { r.scrollLeft = r.scrollWidth; }")
    heading = page.locator('tr[data-ref="A2"] th').first.bounding_box()
    box = region.bounding_box()
    assert heading is not None and box is not None
    assert abs(heading["x"] - box["x"]) < 2  # the item is still the row's heading, in view
