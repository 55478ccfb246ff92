"""Every problem with a form is on the page at once, each naming its field (GOV.UK error
summary), and nothing is recorded. Issue 16: re-rating to Amber took three submits, the
missing mitigation reported first and the missing reason only after it."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from test_updates import Q1, RATED, plan, seen_version  # noqa: F401  (fixture)
from web_helpers import DEMO_PASSWORD, DEMO_USERS, PROGRAMME

from ledger.errors import InvalidInput
from web.backend import System

CORRECT = RATED.replace("/update", "/correct")


@pytest.fixture
def app_config() -> dict[str, bool]:
    return {"WTF_CSRF_ENABLED": True}


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no csrf_token in the form"
    return match[1]


def summary_links(page: str) -> set[str]:
    """The fields the GOV.UK error summary links to."""
    assert 'class="govuk-error-summary"' in page, page[:2000]
    summary = page.split('class="govuk-error-summary"')[1].split("</ul>")[0]
    return set(re.findall(r'href="#([\w-]+)"', summary))


def sign_in(client: FlaskClient, role: str) -> None:
    """Sign in through the real form, CSRF token and all."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    username = DEMO_USERS.get(role, role)
    response = client.post(
        "/login", data={"csrf_token": token, "username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]


def post_form(client: FlaskClient, url: str, **data: str) -> tuple[int, str]:
    page = client.get(url).get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "seen_version": seen_version(page), **data}
    response = client.post(url, data=form)
    return response.status_code, response.get_data(as_text=True)


def test_the_ledger_reports_missing_mitigation_and_reason_together(plan: System) -> None:  # noqa: F811
    with pytest.raises(InvalidInput) as raised:
        plan.ledger.record_status(
            PROGRAMME, "A1.1", period=Q1, status="Amber", update="Slipping.", actor="officer"
        )
    assert [p.field for p in raised.value.problems] == ["mitigation", "reason"]


@pytest.mark.parametrize(
    ("url", "data", "fields"),
    [
        # The reported case: re-rating Green to Amber with neither mitigation nor reason.
        (RATED, {"status": "Amber", "update": "Slipping."}, {"mitigation", "reason"}),
        # A form error (no update) and the ledger's rules, all on one page.
        (RATED, {"status": "Amber", "update": ""}, {"update", "mitigation", "reason"}),
        (CORRECT, {"status": "Red", "update": "Wrong rating."}, {"mitigation", "reason"}),
    ],
    ids=["rerate-amber", "rerate-amber-no-update", "correct-to-red"],
)
def test_every_problem_is_shown_at_once_and_nothing_is_recorded(
    client: FlaskClient, plan: System, url: str, data: dict, fields: set  # noqa: F811
) -> None:
    sign_in(client, "officer")
    before = plan.ledger.get_log_position()
    status, page = post_form(client, url, period=Q1, mitigation="", reason="", **data)
    assert status == 200
    assert summary_links(page) == fields
    assert plan.ledger.get_log_position() == before


def test_once_every_problem_is_fixed_one_submit_saves(
    client: FlaskClient, plan: System  # noqa: F811
) -> None:
    sign_in(client, "officer")
    before = plan.ledger.get_log_position()
    status, _ = post_form(
        client, RATED, period=Q1, status="Amber", update="Slipping.", mitigation="Extra staff", reason="Late"
    )
    assert status == 302
    # The re-rating and its submission for review (saving is submitting), in one save.
    assert plan.ledger.get_log_position() == before + 2


def test_an_items_due_date_and_indicators_show_every_problem_at_once(
    client: FlaskClient, plan: System  # noqa: F811
) -> None:
    # A date that does not exist and an indicator the programme does not define: both
    # named on one page, and neither the date nor the links saved.
    url = f"/programmes/{PROGRAMME}/items/A1.1/measures"
    sign_in(client, "programme manager")
    before = plan.ledger.get_log_position()
    status, page = post_form(client, url, due_date=["31", "2", "2027"], indicators=["FTE", "NOPE"])
    assert status == 200
    assert summary_links(page) == {"due_date", "indicators"}
    assert "NOPE" in page.split('class="govuk-error-summary"')[1].split("</ul>")[0]
    assert plan.ledger.get_log_position() == before
    status, _ = post_form(client, url, due_date=["31", "3", "2027"], indicators=["FTE"])
    assert status == 302
    assert plan.ledger.get_log_position() == before + 2  # the date and the link, together
