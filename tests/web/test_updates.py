"""Officers record their updates: my items, the update form, corrections, conflicts."""

from __future__ import annotations

import html
import re

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from web_helpers import DEMO_USERS, PROGRAMME, AuthActions

from ledger.application import Ledger
from ledger.domain import Item, Programme
from projections import queries
from web.backend import System

Q1 = "2024/25 Q1"
OFFICER = DEMO_USERS["officer"]
MANAGER = DEMO_USERS["programme manager"]
UPDATE = f"/programmes/{PROGRAMME}/items/A1.2/update"
RATED = f"/programmes/{PROGRAMME}/items/A1.1/update"


def record_items(ledger: Ledger) -> None:
    """A priority with two actions (one rated Green for Q1), a risk, a dependency, an
    indicator and a narrative section, so Q1 is the programme's current period."""
    ledger.register_item(PROGRAMME, "P1", kind="priority", title="Healthy communities", actor="setup")
    for ref, title in (("A1.1", "Open two family hubs"), ("A1.2", "Recruit foster carers")):
        ledger.register_item(
            PROGRAMME, ref, kind="action", title=title, parent_ref="P1", lead_officer="Jo Lead", actor="setup"
        )
        # The officer leads both actions, so "My items" lists them (issue 12: leads are accounts).
        ledger.link_lead(PROGRAMME, ref, OFFICER, actor="setup", reason="Jo Lead's account")
    ledger.record_status(
        PROGRAMME, "A1.1", period=Q1, status="Green", update="Both hubs on track.", actor="setup"
    )
    ledger.raise_risk(
        PROGRAMME,
        "R1",
        description="Staff turnover",
        rag_before="Red",
        mitigation="Recruitment drive",
        period=Q1,
        actor="setup",
    )
    ledger.register_dependency(PROGRAMME, "D1", description="NHS data sharing", period=Q1, actor="setup")
    ledger.define_indicator(PROGRAMME, "FTE", name="Staff FTE", unit="FTE", actor="setup")
    ledger.record_indicator_value(PROGRAMME, "FTE", period=Q1, value="2,869", actor="setup")
    ledger.write_narrative(PROGRAMME, period=Q1, section="achievements", text="Hubs opened.", actor="setup")


@pytest.fixture
def plan(system: System) -> System:
    record_items(system.ledger)
    return system


def seen_version(page: str) -> str:
    match = re.search(r'name="seen_version"[^>]*value="(\d+)"', page)
    assert match, "no seen_version in the form"
    return match[1]


def item_id(ref: str):
    return Item.create_id(Programme.create_id(PROGRAMME), ref)


def last_change(ledger: Ledger, ref: str):
    return ledger.get_changes_since(item_id(ref), 0)[-1]


def error_summary(page: str) -> str:
    assert "There is a problem" in page
    return page.split('class="govuk-error-summary"')[1].split("</ul>")[0]


# ---------------------------------------------------------------- my items


def test_my_items_shows_what_is_due_and_still_missing_this_period(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    page = client.get("/my-items").get_data(as_text=True)
    assert "Test plan" in page
    assert Q1 in page and "April 2024 to June 2024" in page
    # P1 has actions under it, so only the two actions are due; A1.2 has nothing yet.
    assert "1 of 2 items due still need an update" in page
    missing = page.split("Still missing for")[1].split("</table>")[0]
    assert "A1.2" in missing and "A1.1" not in missing and "Status and update" in missing
    assert f'href="{UPDATE}?period=2024/25+Q1"' in missing
    recorded = page.split("Recorded for")[1].split("</table>")[0]
    # The status in words as well as colour.
    assert "A1.1" in recorded and "govuk-tag--green" in recorded and "Green" in recorded
    for link in ("risks", "dependencies", "indicators", "narrative"):
        assert f"/programmes/{PROGRAMME}/{link}" in page


def test_my_items_with_nothing_recorded_starts_at_todays_period(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("programme manager")
    page = client.get("/my-items").get_data(as_text=True)
    assert "Test plan" in page and "0 of 0 items due" in page
    assert "Other plan" not in page  # not one of theirs


def test_the_navigation_leads_writers_to_their_items(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("officer")
    nav = client.get("/").get_data(as_text=True).split('id="navigation"')[1].split("</ul>")[0]
    assert 'href="/my-items"' in nav
    auth.logout()
    auth.login("auditor")
    nav = client.get("/").get_data(as_text=True).split('id="navigation"')[1].split("</ul>")[0]
    assert "/my-items" not in nav


# ---------------------------------------------------------------- the update form


def test_the_form_offers_the_scale_with_descriptions_and_is_filled_from_the_last_rating(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    page = client.get(f"{RATED}?period=2024/25+Q2").get_data(as_text=True)
    for status, description in (("Green", "On track"), ("Amber", "Mainly on track with some minor issues")):
        assert f'value="{status}"' in page and description in page
    assert '<option value="2024/25 Q2" selected>' in page
    # Q2 has nothing yet: start from Q1's status and update.
    assert 'value="Green" checked' in page
    assert "Both hubs on track." in page and "Filled in from 2024/25 Q1" in page
    assert "Required if the status is Amber or Red" in page
    assert seen_version(page) == str(plan.ledger.get_item(PROGRAMME, "A1.1")["version"])


def test_a_valid_update_is_recorded_in_the_ledger_and_the_projections(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    version = seen_version(client.get(UPDATE).get_data(as_text=True))
    response = client.post(
        UPDATE,
        data={
            "period": Q1,
            "status": "Amber",
            "update": "Three carers approved; two in assessment.",
            "mitigation": "Extra assessment panel in June.",
            "seen_version": version,
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/my-items"
    change = last_change(plan.ledger, "A1.2")
    assert (change.actor, change.what) == (OFFICER, "recorded Amber for 2024/25 Q1")
    rating = plan.ledger.get_item(PROGRAMME, "A1.2")["ratings"][Q1]
    assert rating["mitigation"] == "Extra assessment panel in June."
    rows = {r["ref"]: r for r in queries.get_ratings(plan.projections_db, PROGRAMME, Q1)}
    assert rows["A1.2"]["status"] == "Amber" and rows["A1.2"]["recorded_by"] == OFFICER
    assert rows["A1.2"]["update"] == "Three carers approved; two in assessment."
    page = client.get("/my-items").get_data(as_text=True)
    assert "A1.2: Amber saved for 2024/25 Q1." in page
    assert "0 of 2 items due still need an update" in page


TYPED = "Typed with care <b>& kept</b>"


@pytest.mark.parametrize(
    ("url", "changes", "field", "message"),
    [
        pytest.param(
            UPDATE,
            {"status": "Purple"},
            "status",
            "'Purple' is not a status on the RAG scale",
            id="unknown-status",
        ),
        pytest.param(
            UPDATE, {"period": "2024/25 Q9"}, "period", "Select a period from the list", id="bad-period"
        ),
        pytest.param(
            UPDATE,
            {"status": "Amber", "mitigation": ""},
            "mitigation",
            "describe the mitigation",
            id="amber-without-mitigation",
        ),
        pytest.param(UPDATE, {"status": ""}, "status", "Select a status", id="no-status"),
        pytest.param(
            RATED,
            {"status": "Red", "mitigation": "Weekly reviews"},
            "reason",
            "Give a reason for re-rating it Red",
            id="rerating-without-reason",
        ),
        pytest.param(
            UPDATE, {"seen_version": ""}, "seen_version", "usable version", id="no-seen-version"
        ),
    ],
)
def test_invalid_input_shows_the_problem_keeps_the_typing_and_records_nothing(
    client: FlaskClient, auth: AuthActions, plan: System, url: str, changes: dict, field: str, message: str
) -> None:
    auth.login("officer")
    version = seen_version(client.get(url).get_data(as_text=True))
    before = plan.ledger.get_log_position()
    data = {
        "period": Q1,
        "status": "Green",
        "update": TYPED,
        "mitigation": "",
        "reason": "",
        "seen_version": version,
    }
    response = client.post(url, data={**data, **changes})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    summary = error_summary(page)
    assert html.escape(message, quote=True) in summary or message in html.unescape(summary)
    assert f'href="#{field}"' in summary
    assert html.escape(TYPED) in page  # what they typed is still in the form, escaped
    assert plan.ledger.get_log_position() == before
    assert page.startswith("<!DOCTYPE html>") and "<title>Error: " in page


def test_an_update_for_a_programme_not_assigned_is_forbidden(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    plan.ledger.register_item("other-plan", "X1", kind="action", title="Elsewhere", actor="setup")
    auth.login("officer")
    assert client.get("/programmes/other-plan/items/X1/update").status_code == 403
    assert client.post("/programmes/other-plan/items/X1/update", data={}).status_code == 403


def test_an_unknown_item_is_not_found(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("officer")
    assert client.get(f"/programmes/{PROGRAMME}/items/NOPE/update").status_code == 404


def test_a_script_in_an_update_comes_back_escaped(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    payload = '<script>alert("x")</script>'
    version = seen_version(client.get(UPDATE).get_data(as_text=True))
    client.post(UPDATE, data={"period": Q1, "status": "Green", "update": payload, "seen_version": version})
    assert plan.ledger.get_item(PROGRAMME, "A1.2")["ratings"][Q1]["update"] == payload
    for page in (client.get(UPDATE).get_data(as_text=True), client.get("/my-items").get_data(as_text=True)):
        assert payload not in page
    assert str(escape(payload)) in client.get(UPDATE).get_data(as_text=True)


# ---------------------------------------------------------------- conflicts


def test_a_stale_form_shows_the_other_change_beside_the_officers_text_then_saves_if_they_choose(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    opened = seen_version(client.get(UPDATE).get_data(as_text=True))
    # Meanwhile the programme manager records A1.2 for Q1.
    plan.ledger.record_status(
        PROGRAMME,
        "A1.2",
        period=Q1,
        status="Green",
        update="Manager's summary.",
        actor=MANAGER,
        seen_version=int(opened),
    )
    before = plan.ledger.get_log_position()
    mine = {
        "period": Q1,
        "status": "Green",
        "update": "Officer's own detailed words.",
        "seen_version": opened,
    }

    response = client.post(UPDATE, data=mine)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert plan.ledger.get_log_position() == before  # nothing lost, nothing saved
    assert "Someone else changed this while you were working on it" in page
    assert "Demo programme manager" in page and "recorded Green for 2024/25 Q1" in page
    theirs, yours = page.split("Yours (not saved yet)")
    assert "Manager&#39;s summary." in theirs or "Manager's summary." in theirs
    assert "Officer&#39;s own detailed words." in yours
    assert "Save mine anyway" in page and "Discard mine" in page
    newer = seen_version(page)
    assert int(newer) == plan.ledger.get_item(PROGRAMME, "A1.2")["version"] > int(opened)

    # "Save mine anyway": the form now carries the version they have seen.
    response = client.post(UPDATE, data={**mine, "seen_version": newer})
    assert response.status_code == 302
    assert plan.ledger.get_item(PROGRAMME, "A1.2")["ratings"][Q1]["update"] == "Officer's own detailed words."
    assert last_change(plan.ledger, "A1.2").actor == OFFICER


def test_discard_mine_goes_back_without_saving(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("officer")
    opened = seen_version(client.get(UPDATE).get_data(as_text=True))
    plan.ledger.record_status(PROGRAMME, "A1.2", period=Q1, status="Green", update="Theirs.", actor=MANAGER)
    page = client.post(
        UPDATE,
        data={"period": Q1, "status": "Red", "update": "Mine.", "mitigation": "M", "seen_version": opened},
    ).get_data(as_text=True)
    assert re.search(r'href="/my-items"[^>]*>\s*Discard mine', page)
    assert plan.ledger.get_item(PROGRAMME, "A1.2")["ratings"][Q1]["update"] == "Theirs."


# ---------------------------------------------------------------- corrections


CORRECT = f"/programmes/{PROGRAMME}/items/A1.1/correct"


def test_a_correction_needs_a_reason_and_is_recorded_as_a_correction(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    page = client.get(CORRECT).get_data(as_text=True)
    assert 'value="Green" checked' in page and "Both hubs on track." in page
    version = seen_version(page)
    data = {
        "period": Q1,
        "status": "Amber",
        "update": "One hub delayed.",
        "mitigation": "New site found.",
        "seen_version": version,
    }
    before = plan.ledger.get_log_position()
    page = client.post(CORRECT, data=data).get_data(as_text=True)
    assert "Enter a reason" in error_summary(page) and "One hub delayed." in page
    assert plan.ledger.get_log_position() == before

    response = client.post(CORRECT, data={**data, "reason": "Typed the wrong rating"})
    assert response.status_code == 302
    change = last_change(plan.ledger, "A1.1")
    assert (change.actor, change.what) == (OFFICER, "corrected to Amber for 2024/25 Q1")
    history = queries.get_item_history(plan.projections_db, PROGRAMME, "A1.1")
    assert [h["update"] for h in history] == ["Both hubs on track.", "One hub delayed."]


def test_an_item_with_nothing_recorded_has_nothing_to_correct(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    page = client.get(f"/programmes/{PROGRAMME}/items/A1.2/correct").get_data(as_text=True)
    assert "nothing to correct" in page and '<form method="post" novalidate>' not in page


def test_a_save_whose_projection_fails_says_it_was_saved_and_not_to_resubmit(
    client: FlaskClient, auth: AuthActions, plan: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("read model bug")

    auth.login("officer")
    version = seen_version(client.get(UPDATE).get_data(as_text=True))
    monkeypatch.setitem(plan.projector.handlers, "Item.StatusRecorded", broken)
    response = client.post(
        UPDATE,
        data={"period": Q1, "status": "Green", "update": "On track.", "seen_version": version},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Your change was saved, but the pages are behind" in page
    assert "do not submit the change again" in page and "read model bug" not in page
    assert plan.ledger.get_item(PROGRAMME, "A1.2")["ratings"][Q1]["update"] == "On track."
