"""Issue 11 item 5 on the web: a programme manager retires, merges or reinstates an item
from its timeline, with a period and a reason (every problem at once, what was typed
kept, nothing recorded until it is right, CSRF). Once merged, the item shows as "retired
(merged into R5)" and is not listed as missing an update: not on My items (due in an
opened period, or still missing) nor on the dashboard (item 8's last bullet)."""

from __future__ import annotations

import re
import sqlite3

import pytest
from flask.testing import FlaskClient
from web_helpers import PROGRAMME, AuthActions

from web.backend import System

Q1, Q2, Q3 = "2024/25 Q1", "2024/25 Q2", "2024/25 Q3"
FORM = f"/programmes/{PROGRAMME}/items/R8/retire"


@pytest.fixture
def register(system: System) -> System:
    """R1, R5 and R8 rated in Q1; Q2 opened for updates (nothing recorded for it yet)."""
    ledger = system.ledger
    for ref in ("R1", "R5", "R8"):
        ledger.register_item(PROGRAMME, ref, kind="action", title=f"Risk {ref}", actor="setup")
        ledger.record_status(PROGRAMME, ref, period=Q1, status="Green", update="On track", actor="setup")
    ledger.open_period(PROGRAMME, Q2, due_date="2024-10-15", actor="setup")
    return system


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").split())


def section(html: str, marker: str) -> str:
    """The table (or list) that `marker` (an id or caption text) is in."""
    at = html.index(marker)
    return html[html.rfind("<table", 0, at) if "<table" in html[:at] else at: html.index("</table>", at)]


def missing_on_my_items(client: FlaskClient) -> tuple[str, str]:
    html = client.get("/my-items").get_data(as_text=True)
    return words(section(html, f"due-{PROGRAMME}")), words(section(html, f"Still missing for {Q2}"))


def test_a_merge_from_the_web_shows_as_retired_and_is_not_missing(
    client: FlaskClient, auth: AuthActions, register: System
) -> None:
    auth.login("programme manager")
    due, still_missing = missing_on_my_items(client)
    assert "R8" in due and "R8" in still_missing  # before: R8 owes its Q2 update
    item_page = client.get(f"/programmes/{PROGRAMME}/items/R8/timeline").get_data(as_text=True)
    assert f'href="{FORM}"' in item_page and "On the register Yes" in words(item_page)
    form = client.get(FORM)
    assert form.status_code == 200
    assert 'value="R5"' in form.get_data(as_text=True)  # another item of the programme to merge into

    response = client.post(FORM, data={
        "action": "merge", "period": Q2, "merged_into": "R5", "reason": "Merged by the board",
        "seen_version": "2",
    })
    assert response.status_code == 302, words(response.get_data(as_text=True))[:600]
    assert response.headers["Location"].endswith(f"/programmes/{PROGRAMME}/items/R8/timeline")
    timeline = words(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "R8 is retired (merged into R5) from 2024/25 Q2." in timeline  # the flash
    assert "On the register Retired (merged into R5) from 2024/25 Q2" in timeline
    # The timeline's entry: who, the period, what changed and why.
    assert "Retired for 2024/25 Q2 Who demo-programme-manager" in timeline
    entry = "Status: retired (merged into R5) (new) merged into R5 from 2024/25 Q2 Why Merged by the board"
    assert entry in timeline

    due, still_missing = missing_on_my_items(client)
    assert "R1" in due and "R5" in due and "R8" not in due
    assert "2 of 2 items due still need an update" in words(client.get("/my-items").get_data(as_text=True))
    assert "R1" in still_missing and "R8" not in still_missing
    dashboard = client.get(f"/programmes/{PROGRAMME}/dashboard?period={Q2}").get_data(as_text=True)
    assert "R8" not in words(section(dashboard, "missing-table"))
    grid = client.get(f"/programmes/{PROGRAMME}/history").get_data(as_text=True)
    r8 = re.search(r'<tr[^>]*data-ref="R8".*?</tr>', grid, re.S)
    assert r8 is not None and "Retired (merged into R5)" in words(r8[0])

    report = words(client.get(f"/reports/{PROGRAMME}/committee/document?period={Q2}").get_data(as_text=True))
    assert "R8 Risk R8 Not stated retired (merged into R5)" in report  # the appendix's Q2 column
    assert "R5 Risk R5 Not stated Not recorded" in report
    assert "R8 Risk R8 Not stated Not recorded" not in report

    reopened = client.get(FORM).get_data(as_text=True)
    assert re.search(r'value="reinstate"[^>]*checked', reopened)  # retired: reinstating is offered
    back = client.post(FORM, data={
        "action": "reinstate", "period": Q3, "reason": "Split out again", "seen_version": "3",
    })
    assert back.status_code == 302, words(back.get_data(as_text=True))[:1500]
    with sqlite3.connect(register.projections_db) as db:
        assert list(db.execute(
            "SELECT ref, retired_from, merged_into, reinstated_from, reinstated_reason FROM item_retirements"
        )) == [("R8", Q2, "R5", Q3, "Split out again")]


def test_every_problem_at_once_with_what_was_typed_and_nothing_recorded(
    client: FlaskClient, auth: AuthActions, register: System
) -> None:
    auth.login("programme manager")
    before = register.ledger.get_log_position()
    typed = "The board merged <b>R8</b>"
    response = client.post(FORM, data={"action": "merge", "period": Q2, "reason": typed, "seen_version": "2"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Select the item it is merged into" in html
    assert "The board merged &lt;b&gt;R8&lt;/b&gt;" in html  # kept, and escaped
    empty = client.post(FORM, data={"seen_version": "2"}).get_data(as_text=True)
    start = empty.index("govuk-error-summary")
    summary = words(empty[start:empty.index("</ul>", start)])
    for message in ("Select whether to retire, merge or reinstate the item", "Select a period",
                    "Enter why the item leaves or returns to the register"):
        assert message in summary
    retire_with_target = client.post(FORM, data={
        "action": "retire", "period": Q2, "merged_into": "R5", "reason": "Closed", "seen_version": "2",
    }).get_data(as_text=True)
    assert "Only a merge names the item it is merged into" in retire_with_target
    into_itself = client.post(FORM, data={
        "action": "reinstate", "period": Q2, "reason": "Back", "seen_version": "2",
    }).get_data(as_text=True)
    assert "not retired" in words(into_itself).lower()  # the ledger's own rule, on the page
    assert register.ledger.get_log_position() == before


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"WTF_CSRF_ENABLED": True}

    def test_a_post_without_the_token_records_nothing(self, client: FlaskClient, register: System) -> None:
        AuthActions(client).login_with_csrf("programme manager")
        before = register.ledger.get_log_position()
        response = client.post(FORM, data={"action": "retire", "period": Q2, "reason": "Forged"})
        assert response.status_code == 400 and register.ledger.get_log_position() == before


def test_readers_see_the_item_off_the_register_but_no_link_to_change_it(
    client: FlaskClient, auth: AuthActions, register: System
) -> None:
    register.ledger.retire_item(PROGRAMME, "R8", period=Q2, reason="Closed", actor="setup")
    auth.login("officer")  # writes to the programme, but retiring is for programme managers
    page = client.get(f"/programmes/{PROGRAMME}/items/R8/timeline").get_data(as_text=True)
    assert "On the register Retired from 2024/25 Q2" in words(page) and FORM not in page
    assert client.get(FORM).status_code == 403
