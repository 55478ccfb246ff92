"""Correcting an indicator's definition on the web: a programme manager changes its name,
unit, direction or description from the Indicators page, with a reason, and every value's
direction of travel follows. Officers see the definitions but no link to change them."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from test_updates import error_summary, record_items, seen_version
from web_helpers import PROGRAMME, AuthActions, words

from projections import queries
from web.backend import System

BASE = f"/programmes/{PROGRAMME}"
FORM = f"{BASE}/indicators/FTE/definition"
Q2 = "2024/25 Q2"


@pytest.fixture
def plan(system: System) -> System:
    """FTE (neither direction is better) recorded for Q1 and, higher, for Q2."""
    record_items(system.ledger)
    system.ledger.record_indicator_value(PROGRAMME, "FTE", period=Q2, value="2,900", actor="setup")
    return system


def test_a_programme_manager_corrects_the_direction_and_the_values_follow(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    listing = client.get(f"{BASE}/indicators").get_data(as_text=True)
    assert "FTE: Staff FTE FTE Neither None Change the definition of Staff FTE" in words(listing)
    assert f'href="{FORM}"' in listing
    (q2,) = queries.get_indicators(plan.projections_db, PROGRAMME, Q2)
    assert q2["direction"] == "neutral"
    page = client.get(FORM).get_data(as_text=True)
    assert 'value="Staff FTE"' in page and 'value="neither" checked' in page.replace("\n", " ")

    response = client.post(FORM, data={
        "name": "Staff (full-time equivalent)", "unit": "FTE", "better": "higher", "description": "",
        "reason": "The plan aims to grow the workforce", "seen_version": seen_version(page),
    })

    assert response.status_code == 302, words(response.get_data(as_text=True))[:800]
    assert response.headers["Location"].endswith(f"{BASE}/indicators")
    after = words(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "FTE: definition saved. Every value's direction of travel follows it." in after
    assert "FTE: Staff (full-time equivalent) FTE Higher is better" in after
    (q2,) = queries.get_indicators(plan.projections_db, PROGRAMME, Q2)
    assert (q2["name"], q2["better"], q2["direction"]) == ("Staff (full-time equivalent)", "higher", "good")


def test_every_problem_at_once_with_what_was_typed_and_nothing_recorded(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    version = seen_version(client.get(FORM).get_data(as_text=True))
    before = plan.ledger.get_log_position()
    unchanged = client.post(FORM, data={
        "name": "Staff FTE", "unit": "FTE", "better": "neither", "description": "",
        "reason": "Checked <b>it</b>", "seen_version": version,
    }).get_data(as_text=True)
    assert "This is the definition already" in error_summary(unchanged)
    assert "Checked &lt;b&gt;it&lt;/b&gt;" in unchanged  # kept, and escaped
    empty = error_summary(client.post(FORM, data={"seen_version": version}).get_data(as_text=True))
    for message in ("Enter the indicator", "Select which direction is better",
                    "Enter why the definition changes"):
        assert message in empty
    sideways = client.post(FORM, data={
        "name": "Staff FTE", "better": "sideways", "reason": "x", "seen_version": version,
    }).get_data(as_text=True)
    assert "Select higher, lower or neither" in error_summary(sideways)
    assert plan.ledger.get_log_position() == before


def test_officers_see_the_definitions_but_cannot_change_them(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    listing = client.get(f"{BASE}/indicators").get_data(as_text=True)
    assert "FTE: Staff FTE FTE Neither" in words(listing) and FORM not in listing
    assert client.get(FORM).status_code == 403


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"WTF_CSRF_ENABLED": True}

    def test_a_post_without_the_token_records_nothing(self, client: FlaskClient, plan: System) -> None:
        AuthActions(client).login_with_csrf("programme manager")
        before = plan.ledger.get_log_position()
        response = client.post(FORM, data={"name": "x", "better": "lower", "reason": "Forged"})
        assert response.status_code == 400 and plan.ledger.get_log_position() == before
