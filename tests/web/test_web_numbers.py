"""Issue 9, finding 7: a number in a form or query string that SQLite cannot hold (2^63 or
more) is a clear error on the page, never a 500, and records nothing."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from test_reports_support import Q1 as REPORT_Q1
from test_reports_support import record_plan
from test_updates import Q1, record_items, seen_version
from web_helpers import OTHER_PROGRAMME, PROGRAMME, AuthActions

from projections.reports import publish
from web.backend import System
from web.forms import LARGEST_NUMBER, whole_number

BASE = f"/programmes/{PROGRAMME}"
TOO_BIG = [str(2**63), "9" * 40, "9" * 5000]
NOT_NUMBERS = ["²", "-1", "1e3", " "]

# Every form that carries the version of the record the person opened, with data that
# saves when the version is the one the form was given.
VERSIONED_FORMS = {
    "status update": (f"{BASE}/items/A1.2/update", {"period": Q1, "status": "Green", "update": "Done."}),
    "correction": (
        f"{BASE}/items/A1.1/correct",
        {"period": Q1, "status": "Amber", "update": "Late.", "mitigation": "Extra staff", "reason": "Typo"},
    ),
    "dependency review": (
        f"{BASE}/dependencies/D1/review",
        {"plan_agreed": "yes", "confidence": "High", "period": Q1, "reason": "Agreed"},
    ),
    "indicator value": (f"{BASE}/indicators/FTE/record", {"period": Q1, "value": "2,870", "reason": "Late"}),
    "risk re-rating": (
        f"{BASE}/risks/risk/R1/rerate",
        {"rag_before": "Red", "mitigation": "Drive", "rag_after": "Amber", "period": Q1, "reason": "Filled"},
    ),
    "risk closure": (f"{BASE}/risks/risk/R1/close", {"period": Q1, "reason": "Posts filled"}),
    "narrative": (f"{BASE}/narrative", {"period": Q1, "summary": "On track."}),
}


@pytest.fixture
def officer(client: FlaskClient, auth: AuthActions, system: System) -> FlaskClient:
    record_items(system.ledger)
    auth.login("officer")
    return client


@pytest.mark.parametrize("form", VERSIONED_FORMS)
def test_a_seen_version_sqlite_cannot_hold_is_a_form_error_and_records_nothing(
    officer: FlaskClient, system: System, form: str
) -> None:
    url, data = VERSIONED_FORMS[form]
    before = system.ledger.get_log_position()
    for version in [*TOO_BIG, *NOT_NUMBERS]:
        response = officer.post(url, data={**data, "seen_version": version})
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (form, version[:30])
        assert "did not carry a usable version of the record" in page
        assert system.ledger.get_log_position() == before
    # The same data with the version the page gave saves: only the number was at fault.
    version = seen_version(officer.get(url).get_data(as_text=True))
    assert officer.post(url, data={**data, "seen_version": version}).status_code == 302
    assert system.ledger.get_log_position() > before


def test_the_largest_number_sqlite_holds_is_a_conflict_not_a_crash(officer: FlaskClient) -> None:
    url, data = VERSIONED_FORMS["status update"]
    response = officer.post(url, data={**data, "seen_version": str(LARGEST_NUMBER)})
    assert response.status_code in (200, 409)


def test_report_numbers_in_the_query_string_are_checked(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    auth.login("programme manager")
    report = f"/reports/{PROGRAMME}/committee"
    period = f"period={quote(REPORT_Q1)}"
    for number in TOO_BIG:
        page = client.get(f"{report}?{period}&as_at={number}")
        assert page.status_code == 200 and "A log position is a whole number up to" in page.get_data(
            as_text=True
        )
        assert client.get(f"{report}/document?{period}&as_at={number}").status_code == 400
        assert client.get(f"{report}/published?{period}&edition={number}").status_code == 404
        assert client.get(f"{report}/changes?{period}&edition={number}").status_code == 404
        assert client.get(f"/audit/log?after={number}").status_code in (400, 404)
        response = client.post(f"{report}/publish?{period}", data={"position": number, "reason": ""})
        assert response.status_code == 200 and "has changed since you looked" in response.get_data(
            as_text=True
        )
    assert publish.list_editions(system.ledger, PROGRAMME, "committee", REPORT_Q1) == []
    assert client.get(f"/reports/{OTHER_PROGRAMME}/").status_code == 200


@pytest.mark.parametrize(
    ("text", "number"),
    [("0", 0), ("42", 42), (str(LARGEST_NUMBER), LARGEST_NUMBER), (str(2**63), None), ("²", None),
     ("", None), (None, None), ("-3", None), ("9" * 5000, None)],
)
def test_whole_number(text: str | None, number: int | None) -> None:
    assert whole_number(text) == number
