"""A programme's details on the web: a programme manager changes its name, description,
contact and whether Amber and Red updates need a mitigation. Each change is an event; a
change of the mitigation rule needs a reason and governs updates from then on."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from test_updates import error_summary, seen_version
from web_helpers import PROGRAMME, AuthActions, words

from ledger.domain import Programme
from ledger.errors import LedgerError
from projections import queries
from web.backend import System

FORM = f"/programmes/{PROGRAMME}/details"
DASHBOARD = f"/programmes/{PROGRAMME}/dashboard"
DETAILS = {
    "name": "Test plan", "description": "", "contact_name": "", "contact_phone": "", "contact_email": "",
    "requires_mitigation": "yes",
}


def test_a_programme_manager_changes_the_details_and_the_rule_follows(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    system.ledger.register_item(PROGRAMME, "A1", kind="action", title="Hubs", actor="setup")
    amber = {"period": "2024/25 Q1", "status": "Amber", "update": "Late", "actor": "demo-officer"}
    with pytest.raises(LedgerError, match="mitigation"):
        system.ledger.record_status(PROGRAMME, "A1", **amber)
    auth.login("programme manager")
    assert f'href="{FORM}"' in client.get(DASHBOARD).get_data(as_text=True)
    page = client.get(FORM).get_data(as_text=True)
    assert 'value="Test plan"' in page and re.search(r'value="yes"[^>]*checked', page)
    version = seen_version(page)
    changed = {
        **DETAILS, "name": "Corporate Plan 2025-29", "description": "The council's four-year plan",
        "contact_name": "Jo Bloggs", "contact_email": "jo.bloggs@example.gov.uk", "requires_mitigation": "no",
    }

    before = system.ledger.get_log_position()
    without_reason = client.post(FORM, data={**changed, "seen_version": version}).get_data(as_text=True)
    assert "why Corporate Plan 2025-29 no longer requires mitigation for Amber and Red" in error_summary(
        without_reason
    )
    assert 'value="Corporate Plan 2025-29"' in without_reason  # kept
    assert system.ledger.get_log_position() == before  # not even the new name

    saved = client.post(FORM, data={**changed, "reason": "Cabinet, 4 June", "seen_version": version})

    assert saved.status_code == 302, words(saved.get_data(as_text=True))[:800]
    assert "Corporate Plan 2025-29: details saved." in words(client.get(saved.headers["Location"]).get_data(
        as_text=True))
    row = queries.get_programme(system.projections_db, PROGRAMME)
    assert (row["name"], row["description"], row["contact"]["email"], row["requires_mitigation"]) == (
        "Corporate Plan 2025-29", "The council's four-year plan", "jo.bloggs@example.gov.uk", False
    )
    recorded = [type(e).__name__ for e in system.ledger.events.get(Programme.create_id(PROGRAMME))]
    assert recorded[-4:] == ["Renamed", "DescriptionChanged", "ContactChanged", "MitigationRuleChanged"]
    system.ledger.record_status(PROGRAMME, "A1", **amber)  # from now on, no mitigation needed
    assert queries.get_ratings(system.projections_db, PROGRAMME, "2024/25 Q1")[0]["status"] == "Amber"


def test_every_problem_at_once_with_what_was_typed_and_nothing_recorded(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    auth.login("programme manager")
    version = seen_version(client.get(FORM).get_data(as_text=True))
    before = system.ledger.get_log_position()
    unchanged = client.post(FORM, data={**DETAILS, "seen_version": version}).get_data(as_text=True)
    assert "These are the details already: change one of them" in error_summary(unchanged)
    system.ledger.change_programme_details(
        PROGRAMME, name="Test plan", description="Line one\nLine two", contact={}, requires_mitigation=True,
        actor="setup",
    )
    before = system.ledger.get_log_position()
    version = seen_version(client.get(FORM).get_data(as_text=True))
    as_a_browser_sends_it = {**DETAILS, "description": "Line one\r\nLine two", "seen_version": version}
    assert "These are the details already" in client.post(FORM, data=as_a_browser_sends_it).get_data(
        as_text=True
    )
    bad = client.post(FORM, data={
        **DETAILS, "name": "", "contact_email": "jo at council", "requires_mitigation": "maybe",
        "description": "<script>x</script>", "seen_version": version,
    }).get_data(as_text=True)
    summary = words(error_summary(bad))
    for message in ("Enter the programme's name", "Enter an email address like name@council.gov.uk",
                    "Select yes or no"):
        assert message in summary
    assert "&lt;script&gt;x&lt;/script&gt;" in bad and "<script>x</script>" not in bad
    assert system.ledger.get_log_position() == before


def test_officers_cannot_change_the_details(client: FlaskClient, auth: AuthActions, system: System) -> None:
    auth.login("officer")
    assert FORM not in client.get(DASHBOARD).get_data(as_text=True)
    assert client.get(FORM).status_code == 403


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"WTF_CSRF_ENABLED": True}

    def test_a_post_without_the_token_records_nothing(self, client: FlaskClient, system: System) -> None:
        AuthActions(client).login_with_csrf("programme manager")
        before = system.ledger.get_log_position()
        response = client.post(FORM, data={**DETAILS, "name": "Forged"})
        assert response.status_code == 400 and system.ledger.get_log_position() == before
