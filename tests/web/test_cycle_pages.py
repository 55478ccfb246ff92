"""The reporting cycle's pages (issue 12, items 1 and 2): "My items" shows an officer the
items they lead; programme managers open a period with a due date and extend it; the
dashboards show what is not yet updated and how many days overdue; administrators link
leads to accounts and set email addresses. Today is pinned to 20 July 2024."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from web_helpers import DEMO_PASSWORD, DEMO_USERS, FAST_HASH, OTHER_PROGRAMME, PROGRAMME, AuthActions

from ledger.domain import Item, Programme, ReportingPeriod
from projections import queries
from web.accounts import create_account
from web.backend import System
from web.credentials import CredentialStore

Q1 = "2024/25 Q1"
OFFICER = DEMO_USERS["officer"]
PERIODS = f"/programmes/{PROGRAMME}/periods"
EXTEND = f"{PERIODS}/extend"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TODAY": date(2024, 7, 20)}


@pytest.fixture
def plan(system: System, data_dir: Any) -> System:
    """A1 led by the demo officer, A2 by a second officer, A3 and A4 by free text; A5
    already updated for Q1. Q1 opened with updates due 15 July 2024."""
    ledger = system.ledger
    create_account(
        ledger,
        CredentialStore(data_dir / "credentials.db", method=FAST_HASH),
        username="kim",
        display_name="Kim Officer",
        role="officer",
        password=DEMO_PASSWORD,
        actor="setup",
    )
    ledger.assign_programme("kim", PROGRAMME, actor="setup")
    for ref, lead in (
        ("A1", "Demo officer"),
        ("A2", "Kim"),
        ("A3", "Director of Place"),
        ("A4", "Director of Place"),
        ("A5", "Head of Roads"),
    ):
        ledger.register_item(
            PROGRAMME, ref, kind="action", title=f"Action {ref}", lead_officer=lead, actor="setup"
        )
    ledger.link_lead(PROGRAMME, "A1", OFFICER, actor="setup", reason="Leads it")
    ledger.link_lead(PROGRAMME, "A2", "kim", actor="setup", reason="Leads it")
    ledger.record_status(PROGRAMME, "A5", period=Q1, status="Green", update="On track", actor="setup")
    ledger.open_period(PROGRAMME, Q1, due_date="2024-07-15", actor="setup")
    return system


def errors(page: str) -> str:
    assert "There is a problem" in page
    return page.split('class="govuk-error-summary"')[1].split("</ul>")[0]


def opening(system: System) -> ReportingPeriod:
    return system.ledger.repository.get(ReportingPeriod.create_id(Programme.create_id(PROGRAMME), Q1))


# ---------------------------------------------------------------- my items


def test_an_officer_sees_only_the_items_they_lead(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    page = client.get("/my-items").get_data(as_text=True)
    assert "These are the items you lead" in page
    assert "Action A1" in page
    for other in ("Action A2", "Action A3", "Action A4"):
        assert other not in page
    due = page.split('id="due-test-plan"')[1].split("</table>")[0]
    assert "A1" in due and "5 days overdue" in due
    assert "15 July 2024" in due and "2024-07-15" not in due  # a date as people read it
    auth.logout()
    auth.login("kim")
    page = client.get("/my-items").get_data(as_text=True)
    assert "Action A2" in page and "Action A1" not in page


def test_a_programme_manager_sees_every_item_in_their_programmes(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    page = client.get("/my-items").get_data(as_text=True)
    assert "These are the items you lead" not in page
    due = page.split('id="due-test-plan"')[1].split("</table>")[0]
    for ref in ("A1", "A2", "A3", "A4"):
        assert f"Action {ref}" in due
    assert "Action A5" not in due  # updated already


# ---------------------------------------------------------------- periods


def test_a_programme_manager_opens_a_period_with_a_due_date(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    page = client.get(PERIODS).get_data(as_text=True)
    assert Q1 in page.split('id="openings"')[1].split("</table>")[0]
    assert 'name="due_date"' in page and "Day" in page and "Month" in page and "Year" in page
    response = client.post(
        PERIODS, data={"period": "2024/25 Q2", "due_date": ["15", "10", "2024"], "reason": "Quarterly cycle"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert plan.ledger.get_reporting_period(PROGRAMME, "2024/25 Q2")["due_date"] == "2024-10-15"
    page = client.get(PERIODS).get_data(as_text=True)
    assert "2024/25 Q2 opened: updates are due by 15 October 2024." in page
    assert "15 October 2024" in page.split('id="openings"')[1].split("</table>")[0]


def test_an_opening_with_a_bad_date_keeps_what_was_typed_and_records_nothing(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    before = plan.ledger.get_log_position()
    page = client.post(
        PERIODS, data={"period": "2024/25 Q2", "due_date": ["31", "2", "2024"], "reason": "kept note"}
    ).get_data(as_text=True)
    assert "Updates due by must be a real date" in errors(page)
    assert 'value="31"' in page and "kept note" in page
    page = client.post(PERIODS, data={"period": "2024/25 Q2"}).get_data(as_text=True)
    assert "Enter the date updates are due" in errors(page)
    # The ledger's rules come back on the field: a due date before the period starts.
    page = client.post(PERIODS, data={"period": "2024/25 Q2", "due_date": ["1", "1", "2024"]}).get_data(
        as_text=True
    )
    assert "before the period starts" in errors(page)
    # Opening a period twice is refused: extend it instead.
    page = client.post(PERIODS, data={"period": Q1, "due_date": ["1", "8", "2024"]}).get_data(as_text=True)
    assert "already open" in errors(page)
    assert plan.ledger.get_log_position() == before


def test_extending_needs_a_later_date_and_a_reason(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    page = client.get(f"{EXTEND}?period=2024/25+Q1").get_data(as_text=True)
    assert '<option value="2024/25 Q1" selected>' in page
    page = client.post(EXTEND, data={"period": Q1, "due_date": ["31", "7", "2024"]}).get_data(as_text=True)
    assert "Enter why updates are due later" in errors(page)
    page = client.post(
        EXTEND, data={"period": Q1, "due_date": ["1", "7", "2024"], "reason": "Election"}
    ).get_data(as_text=True)
    assert "must be later" in errors(page) and "Election" in page
    assert opening(plan).version == 1
    response = client.post(EXTEND, data={"period": Q1, "due_date": ["31", "7", "2024"], "reason": "Election"})
    assert response.status_code == 302
    extended = opening(plan)
    assert extended.due_date == "2024-07-31"
    event = list(plan.ledger.events.get(extended.id))[-1]
    assert (event.actor, event.reason) == (DEMO_USERS["programme manager"], "Election")
    # No longer overdue as at 20 July.
    assert all(r["overdue_days"] == 0 for r in queries.get_due(plan.projections_db, today=date(2024, 7, 20)))


def test_only_the_programmes_own_managers_open_its_periods(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    assert client.get(f"/programmes/{OTHER_PROGRAMME}/periods").status_code == 403
    response = client.post(
        f"/programmes/{OTHER_PROGRAMME}/periods", data={"period": "2024-07", "due_date": ["1", "8", "2024"]}
    )
    assert response.status_code == 403
    auth.logout()
    auth.login("officer")
    assert (
        client.post(PERIODS, data={"period": "2024/25 Q2", "due_date": ["1", "8", "2024"]}).status_code == 403
    )
    assert plan.ledger.get_reporting_period(PROGRAMME, "2024/25 Q2") is None
    assert plan.ledger.get_reporting_period(OTHER_PROGRAMME, "2024-07") is None


# ---------------------------------------------------------------- dashboards


def test_dashboards_show_items_not_updated_and_days_overdue(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("auditor")
    page = client.get(f"/programmes/{PROGRAMME}/dashboard").get_data(as_text=True)
    assert "Updates due: 4 not yet updated, 4 overdue" in page
    table = page.split('id="due-table"')[1].split("</table>")[0]
    rows = re.findall(r"<strong>(A\d)</strong>.*?numeric\">(\w+)</td>", table, re.S)
    assert rows == [("A1", "5"), ("A2", "5"), ("A3", "5"), ("A4", "5")]
    assert "Demo officer (demo-officer)" in table and "Director of Place" in table
    assert table.count("15 July 2024") == 4 and "2024-07-15" not in table
    listing = client.get("/programmes").get_data(as_text=True)
    assert "4 not yet updated" in listing and "4 overdue" in listing and "up to 5 days" in listing
    assert "No period open" in listing  # the other programme


def test_a_period_without_an_opening_shows_no_due_dates(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    system.ledger.register_item(PROGRAMME, "A1", kind="action", title="Action A1", actor="setup")
    auth.login("auditor")
    page = client.get(f"/programmes/{PROGRAMME}/dashboard").get_data(as_text=True)
    assert "Updates due" not in page


# ---------------------------------------------------------------- leads and email


def test_an_administrator_links_a_free_text_lead_to_an_account(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("administrator")
    page = client.get("/admin/leads").get_data(as_text=True)
    unlinked = page.split('id="unlinked"')[1].split("</table>")[0]
    assert "Director of Place" in unlinked and "test-plan A3, test-plan A4" in unlinked
    assert "Demo officer" not in unlinked  # linked already
    link = "/admin/leads/link?lead_officer=Director+of+Place"
    page = client.post(
        link, data={"lead_officer": "Director of Place", "reason": "Kim covers Place"}
    ).get_data(as_text=True)
    assert "Select an account" in errors(page) and "Kim covers Place" in page
    response = client.post(
        link, data={"lead_officer": "Director of Place", "account": "kim", "reason": "Kim covers Place"}
    )
    assert response.status_code == 302
    for ref in ("A3", "A4"):
        item = plan.ledger.get_item(PROGRAMME, ref)
        assert item["lead_account"] == "kim" and item["lead_officer"] == "Director of Place"
        event = list(plan.ledger.events.get(Item.create_id(Programme.create_id(PROGRAMME), ref)))[-1]
        assert (event.actor, event.reason) == (DEMO_USERS["administrator"], "Kim covers Place")
    page = client.get("/admin/leads").get_data(as_text=True)
    assert "Director of Place linked to kim on 2 items." in page
    assert "Director of Place" not in page.split('id="unlinked"')[1].split("</table>")[0]
    assert client.get(link).status_code == 404  # nothing left to link


def test_an_administrator_reassigns_an_items_lead(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("administrator")
    url = f"/admin/programmes/{PROGRAMME}/items/A1/lead"
    page = client.get(url).get_data(as_text=True)
    assert f'<option value="{OFFICER}" selected>' in page
    page = client.post(url, data={"account": "kim"}).get_data(as_text=True)
    assert "Enter a reason" in errors(page)
    assert plan.ledger.get_item(PROGRAMME, "A1")["lead_account"] == OFFICER
    assert client.post(url, data={"account": "kim", "reason": "Handover"}).status_code == 302
    assert plan.ledger.get_item(PROGRAMME, "A1")["lead_account"] == "kim"
    assert client.post(url, data={"account": "", "reason": "Left"}).status_code == 302
    assert plan.ledger.get_item(PROGRAMME, "A1")["lead_account"] == ""


def test_an_administrator_sets_an_email_address(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("administrator")
    url = f"/admin/accounts/{OFFICER}/email"
    page = client.post(url, data={"email": "not-an-address", "reason": "For reminders"}).get_data(
        as_text=True
    )
    assert "Enter an email address like" in errors(page) and 'value="not-an-address"' in page
    assert plan.ledger.get_account(OFFICER)["email"] == ""
    assert client.post(url, data={"email": "jo@example.gov.uk", "reason": "For reminders"}).status_code == 302
    assert plan.ledger.get_account(OFFICER)["email"] == "jo@example.gov.uk"
    page = client.get(f"/admin/accounts/{OFFICER}").get_data(as_text=True)
    assert "jo@example.gov.uk" in page


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"TODAY": date(2024, 7, 20), "WTF_CSRF_ENABLED": True}

    @pytest.mark.parametrize(
        ("role", "url", "data"),
        [
            ("programme manager", PERIODS, {"period": "2024/25 Q2", "due_date": ["1", "8", "2024"]}),
            ("programme manager", EXTEND, {"period": Q1, "due_date": ["1", "8", "2024"], "reason": "x"}),
            (
                "administrator",
                f"/admin/programmes/{PROGRAMME}/items/A3/lead",
                {"account": "kim", "reason": "x"},
            ),
            ("administrator", f"/admin/accounts/{OFFICER}/email", {"email": "a@b.gov.uk", "reason": "x"}),
        ],
    )
    def test_a_post_without_the_token_is_refused_and_records_nothing(
        self, client: FlaskClient, plan: System, role: str, url: str, data: dict[str, Any]
    ) -> None:
        token = re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)
        )[1]
        client.post(
            "/login", data={"username": DEMO_USERS[role], "password": DEMO_PASSWORD, "csrf_token": token}
        )
        before = plan.ledger.get_log_position()
        assert client.post(url, data=data).status_code == 400
        assert plan.ledger.get_log_position() == before
        form = client.get(url).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)[1]
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 302
        assert plan.ledger.get_log_position() > before
