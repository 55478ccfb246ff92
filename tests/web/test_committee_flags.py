"""Issue 13 on the web: a programme manager links an item to indicators and sets its due
date (CSRF, errors kept, nothing partial); the dashboard shows the flags in words with a
count; "Why is this red?" lists exactly the item's events for the period, in order, and
every status on the dashboard, the grid and the item page links to it."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from web_helpers import OTHER_PROGRAMME, PROGRAMME, AuthActions

from ledger.domain import Item, Programme
from web.backend import System

Q1, Q2 = "2024/25 Q1", "2024/25 Q2"
UPDATE = "Recruitment campaign launched; twelve posts filled and induction under way."
MEASURES = f"/programmes/{PROGRAMME}/items/A1/measures"
DASHBOARD = f"/programmes/{PROGRAMME}/dashboard"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TODAY": date(2024, 11, 1)}


@pytest.fixture
def plan(system: System) -> System:
    """A1 Green both quarters with the same update (stale); A2 Green to Amber to Red in Q2
    (re-rated, then corrected); vacancy rate worsened from Q1 to Q2."""
    ledger = system.ledger
    for ref in ("A1", "A2", "A3"):
        ledger.register_item(PROGRAMME, ref, kind="action", title=f"Action {ref}", actor="setup")
    indicators = (("VAC", "vacancy rate", "%", "lower"), ("FTE", "staff in post", "FTE", "higher"))
    for ref, name, unit, better in indicators:
        ledger.define_indicator(PROGRAMME, ref, name=name, unit=unit, better=better, actor="setup")
    ledger.record_indicator_value(PROGRAMME, "VAC", period=Q1, value="12", actor="setup")
    ledger.record_indicator_value(PROGRAMME, "VAC", period=Q2, value="14", actor="setup")
    for period in (Q1, Q2):
        ledger.record_status(PROGRAMME, "A1", period=period, status="Green", update=UPDATE, actor="setup")
    ledger.record_status(PROGRAMME, "A2", period=Q1, status="Green", update="Fine", actor="setup")
    ledger.record_status(PROGRAMME, "A2", period=Q2, status="Green", update="Fine still", actor="jo")
    ledger.record_status(
        PROGRAMME, "A2", period=Q2, status="Amber", update="Slipping", mitigation="Extra staff",
        reason="Contractor late", actor="sam",
    )
    ledger.correct_status(
        PROGRAMME, "A2", period=Q2, status="Red", update="Stopped", mitigation="Re-tender",
        reason="Contractor went bust", actor="sam",
    )
    ledger.record_status(PROGRAMME, "A3", period=Q2, status="Green", update="Other work", actor="setup")
    return system


def item(system: System, ref: str) -> Item:
    found = system.ledger.repository.get(Item.create_id(Programme.create_id(PROGRAMME), ref))
    assert isinstance(found, Item)
    return found


def errors(page: str) -> str:
    assert "There is a problem" in page
    return page.split('class="govuk-error-summary"')[1].split("</ul>")[0]


# ---------------------------------------------------------------- due date and indicators


def test_a_programme_manager_links_indicators_and_sets_a_due_date(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    form = client.get(MEASURES).get_data(as_text=True)
    assert 'value="VAC"' in form and 'value="FTE"' in form and 'name="due_date"' in form
    version = re.search(r'name="seen_version"[^>]*value="(\d+)"', form)[1]
    response = client.post(MEASURES, data={
        "due_date": ["30", "9", "2024"], "indicators": ["VAC"], "seen_version": version,
    })
    assert response.status_code == 302
    assert (item(plan, "A1").due_date, item(plan, "A1").indicators) == ("2024-09-30", ("VAC",))
    page = client.get(f"/programmes/{PROGRAMME}/items/A1/timeline").get_data(as_text=True)
    assert "Due 30 September 2024; measured by VAC" in re.sub(r"\s+", " ", page) and MEASURES in page
    # Changing them needs a reason: every problem at once, what was typed kept, nothing saved.
    before = plan.ledger.get_log_position()
    page = client.post(MEASURES, data={
        "due_date": ["31", "2", "2025"], "indicators": ["FTE"], "seen_version": str(item(plan, "A1").version),
    }).get_data(as_text=True)
    assert "Due date must be a real date" in errors(page) and 'value="31"' in page
    page = client.post(MEASURES, data={
        "due_date": ["31", "3", "2025"], "indicators": ["FTE"], "seen_version": str(item(plan, "A1").version),
    }).get_data(as_text=True)
    assert "reason" in errors(page).lower()
    assert plan.ledger.get_log_position() == before
    assert client.post(MEASURES, data={
        "due_date": ["31", "3", "2025"], "indicators": ["FTE"], "reason": "Re-planned",
        "seen_version": str(item(plan, "A1").version),
    }).status_code == 302
    events = list(plan.ledger.events.get(item(plan, "A1").id))[-2:]
    assert [(type(e).__name__, e.reason) for e in events] == [
        ("DueDateSet", "Re-planned"), ("IndicatorsLinked", "Re-planned"),
    ]


def test_only_the_programmes_own_managers_change_them(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    response = client.post(MEASURES, data={"due_date": ["1", "1", "2025"], "seen_version": "1"})
    assert response.status_code == 403
    assert MEASURES not in client.get(f"/programmes/{PROGRAMME}/items/A1/timeline").get_data(as_text=True)
    auth.logout()
    auth.login("programme manager")
    assert client.get(f"/programmes/{OTHER_PROGRAMME}/items/A1/measures").status_code == 403
    assert item(plan, "A1").due_date == ""


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"TODAY": date(2024, 11, 1), "WTF_CSRF_ENABLED": True}

    def test_a_post_without_the_token_is_refused_and_records_nothing(
        self, client: FlaskClient, plan: System
    ) -> None:
        AuthActions(client).login_with_csrf("programme manager")
        data = {"due_date": ["1", "1", "2025"], "seen_version": str(item(plan, "A1").version)}
        before = plan.ledger.get_log_position()
        assert client.post(MEASURES, data=data).status_code == 400
        assert plan.ledger.get_log_position() == before
        form = client.get(MEASURES).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)[1]
        assert client.post(MEASURES, data={**data, "csrf_token": token}).status_code == 302
        assert item(plan, "A1").due_date == "2025-01-01"


# ---------------------------------------------------------------- flags on the dashboard


def test_the_dashboard_shows_each_flag_in_words_with_a_count(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    plan.ledger.link_item_indicators(PROGRAMME, "A3", indicators=["VAC"], actor="pm")
    plan.ledger.set_item_due_date(PROGRAMME, "A3", due_date="2024-10-01", actor="pm")
    auth.login("auditor")
    page = client.get(f"{DASHBOARD}?period={Q2}").get_data(as_text=True)
    assert "Flags (3)" in page
    assert re.sub(r"\s+", " ", page.split('id="flag-counts">')[1].split("</p>")[0]) == (
        "1 stale update, 0 unchanged, 2 watermelons."
    )
    table = page.split('id="flags-table"')[1].split("</table>")[0]
    rows = re.findall(
        r'data-kind="([^"]+)".*?>(A\d)</a>.*?<td class="govuk-table__cell">([^<]+)</td>\s*</tr>', table, re.S
    )
    assert rows == [
        ("stale update", "A1", f"The update for {Q2} is identical to {Q1}&#39;s."),
        ("watermelon", "A3", "Rated Green while vacancy rate worsened from 12% to 14% (lower is better)."),
        ("watermelon", "A3", "Rated Green but due 01/10/2024 (31 days ago) and not complete."),
    ]
    # Q1 has nothing before it to copy, and no indicator worsened.
    page = client.get(f"{DASHBOARD}?period={Q1}").get_data(as_text=True)
    assert "No item is flagged for 2024/25 Q1." in page


# ---------------------------------------------------------------- why is this red?


def test_why_lists_exactly_the_items_events_for_the_period_in_order(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    page = client.get(f"/programmes/{PROGRAMME}/items/A2/why?period={Q2}").get_data(as_text=True)
    assert f"Why is A2 Red for {Q2}?" in page
    steps = page.split('id="why-steps"')[1].split("</ol>")[0]
    assert len(re.findall(r'<li class="app-timeline__entry', steps)) == 3  # not Q1's, not A1's
    texts = [
        re.sub(r"\s+", " ", s).strip()
        for s in re.findall(r'<dd class="govuk-summary-list__value">(.*?)</dd>', steps, re.S)
    ]
    assert [t for t in texts if t.startswith(("First recorded", "Status", "The update"))] == [
        "First recorded for 2024/25 Q2: Green", "Status Green to Amber, and the update",
        "Status Amber to Red, and the update",
    ]
    assert re.findall(r"Who</dt><dd[^>]*>(\w+)</dd>", steps) == ["jo", "sam", "sam"]
    assert "Contractor late" in steps and "Contractor went bust" in steps
    assert "Yes: corrects 2024/25 Q2 after it was first recorded" in steps
    assert "Yes: re-rates 2024/25 Q2 after it was first recorded" in steps
    # The change into the Red category is marked, in words, on the last step only.
    turn = steps.split("This is the change that made it")
    assert len(turn) == 2 and turn[1].startswith(" Red</strong>, from Amber")
    assert "data-changed-category" in steps.split('id="step-')[-1]
    assert "Not submitted for review" in page
    assert client.get(f"/programmes/{PROGRAMME}/items/A2/why?period=2023/24+Q1").status_code == 404
    assert client.get(f"/programmes/{PROGRAMME}/items/A9/why?period={Q2}").status_code == 404


def test_every_status_shown_links_to_why(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("programme manager")
    why = f"/programmes/{PROGRAMME}/items/A2/why?period=2024/25+Q2"
    dashboard = client.get(f"{DASHBOARD}?period={Q2}").get_data(as_text=True)
    assert why in dashboard.split('id="exceptions-table"')[1].split("</table>")[0]
    assert why in dashboard.split('id="deteriorated-table"')[1].split("</table>")[0]
    grid = client.get(f"/programmes/{PROGRAMME}/history").get_data(as_text=True)
    assert why in grid and f"/programmes/{PROGRAMME}/items/A1/why?period=2024/25+Q1" in grid
    assert why in client.get(f"/programmes/{PROGRAMME}/items/A2/timeline").get_data(as_text=True)
    assert why in client.get("/my-items").get_data(as_text=True)


# ---------------------------------------------------------------- narrative against numbers


def test_the_manager_sees_narrative_checks_before_publishing_and_on_the_record(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    plan.ledger.write_narrative(
        PROGRAMME, period=Q2, section="summary", text="Green 3 and Red 0 this quarter.", actor="pm"
    )
    publish_url = f"/reports/{PROGRAMME}/committee/publish?period=2024/25+Q2"
    auth.login("programme manager")
    page = client.get(publish_url).get_data(as_text=True)
    checks = page.split('id="narrative-checks"')[1].split("</ul>")[0]
    assert "“Summary” says Green 3, but 2 are rated Green for 2024/25 Q2." in checks
    assert "“Summary” says Red 0, but 1 is rated Red for 2024/25 Q2." in checks
    position = re.search(r'name="position" type="hidden" value="(\d+)"', page)[1]
    assert client.post(publish_url, data={"position": position, "reason": ""}).status_code == 302
    # A re-rating after publication: the live check names it; the record keeps what was published.
    plan.ledger.record_status(
        PROGRAMME, "A3", period=Q2, status="Amber", update="Slipped", mitigation="More staff",
        reason="New information", actor="sam",
    )
    live = client.get(publish_url).get_data(as_text=True).split('id="narrative-checks"')[1]
    assert "“Summary” was written before 1 later change to 2024/25 Q2&#39;s ratings: A3 Green to Amber." in (
        live
    )
    record = client.get(f"/reports/{PROGRAMME}/committee/record?period=2024/25+Q2&edition=1")
    text = record.get_data(as_text=True).split('id="narrative-checks"')[1].split("</ul>")[0]
    assert f"as published, from log position {position}" in text
    assert "says Green 3, but 2 are rated Green" in text and "written before" not in text


def test_the_live_report_links_each_status_to_why_and_the_published_bytes_do_not(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("auditor")
    document = f"/reports/{PROGRAMME}/committee/document?period=2024/25+Q2"
    linked = client.get(f"{document}&links=1").get_data(as_text=True)
    why = f'href="/programmes/{PROGRAMME}/items/A2/why?period=2024%2F25+Q2">Red</a>'
    assert why in linked.split('id="exceptions-red"')[1].split("</section>")[0]
    assert why in linked.split('id="appendix"')[1]
    assert "/why?" not in client.get(document).get_data(as_text=True)  # what publishing freezes
    page = client.get(f"/reports/{PROGRAMME}/committee?period=2024/25+Q2").get_data(as_text=True)
    assert "links=1" in page
