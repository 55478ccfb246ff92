"""Moving an item on the web: a programme manager re-files an item from its timeline, with
a reason; everything beneath it moves too. Every problem at once, what was typed kept,
nothing recorded until it is right, CSRF; officers see no link and get 403."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from web_helpers import PROGRAMME, AuthActions, words

from web.backend import System

FORM = f"/programmes/{PROGRAMME}/items/P1/move"


def timeline(client: FlaskClient, ref: str) -> str:
    return words(client.get(f"/programmes/{PROGRAMME}/items/{ref}/timeline").get_data(as_text=True))


@pytest.fixture
def outline(system: System) -> System:
    """Aim 1 > P1 > A1, and Aim 2 with nothing beneath it."""
    for ref, kind, parent in (("Aim 1", "aim", ""), ("Aim 2", "aim", ""), ("P1", "priority", "Aim 1"),
                              ("A1", "action", "P1")):
        system.ledger.register_item(PROGRAMME, ref, kind=kind, title=f"Item {ref}", parent_ref=parent,
                                    actor="setup")
    return system


def test_a_programme_manager_moves_an_item_and_its_branch(
    client: FlaskClient, auth: AuthActions, outline: System
) -> None:
    auth.login("programme manager")
    page = client.get(f"/programmes/{PROGRAMME}/items/P1/timeline").get_data(as_text=True)
    assert f'href="{FORM}"' in page and "Sits under Aim 1 > P1" in words(page)
    form = client.get(FORM).get_data(as_text=True)
    offered = re.findall(r'<option value="([^"]*)"', form)
    assert offered == ["(top)", "Aim 1", "Aim 2"]  # not itself, nor A1 beneath it
    assert re.search(r'<option value="Aim 1"[^>]*selected', form)  # where it is now

    response = client.post(FORM, data={"parent_ref": "Aim 2", "reason": "Restructured", "seen_version": "1"})

    assert response.status_code == 302, words(response.get_data(as_text=True))[:600]
    assert response.headers["Location"].endswith(f"/programmes/{PROGRAMME}/items/P1/timeline")
    moved = timeline(client, "P1")
    assert "P1 is moved under Aim 2." in moved  # the flash
    assert "Sits under Aim 2 > P1" in moved
    assert "moved under Aim 2" in moved and "Why Restructured" in moved  # the timeline's entry
    assert "Sits under Aim 2 > P1 > A1" in timeline(client, "A1")

    to_top = client.post(FORM, data={"parent_ref": "(top)", "reason": "Its own aim now", "seen_version": "2"})
    assert to_top.status_code == 302
    assert "Sits under P1 " in timeline(client, "P1") and outline.ledger.get_item(PROGRAMME, "P1")[
        "parent_ref"] == ""


def test_every_problem_at_once_with_what_was_typed_and_nothing_recorded(
    client: FlaskClient, auth: AuthActions, outline: System
) -> None:
    auth.login("programme manager")
    before = outline.ledger.get_log_position()
    same = client.post(FORM, data={"parent_ref": "Aim 1", "reason": "Moving <b>P1</b>", "seen_version": "1"})
    html = same.get_data(as_text=True)
    assert same.status_code == 200 and "It is already there: select where it moves to" in html
    assert "Moving &lt;b&gt;P1&lt;/b&gt;" in html  # kept, and escaped
    empty = client.post(FORM, data={"parent_ref": "Aim 2", "seen_version": "1"}).get_data(as_text=True)
    start = empty.index("govuk-error-summary")
    assert "Enter why the item moves" in words(empty[start:empty.index("</ul>", start)])
    beneath = client.post(FORM, data={"parent_ref": "A1", "reason": "x", "seen_version": "1"})
    assert "Select an item of this programme from the list" in beneath.get_data(as_text=True)
    assert outline.ledger.get_log_position() == before


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"WTF_CSRF_ENABLED": True}

    def test_a_post_without_the_token_records_nothing(self, client: FlaskClient, outline: System) -> None:
        AuthActions(client).login_with_csrf("programme manager")
        before = outline.ledger.get_log_position()
        response = client.post(FORM, data={"parent_ref": "Aim 2", "reason": "Forged", "seen_version": "1"})
        assert response.status_code == 400 and outline.ledger.get_log_position() == before


def test_officers_see_where_it_sits_but_no_link_to_move_it(
    client: FlaskClient, auth: AuthActions, outline: System
) -> None:
    auth.login("officer")  # writes to the programme, but moving is for programme managers
    page = client.get(f"/programmes/{PROGRAMME}/items/P1/timeline").get_data(as_text=True)
    assert "Sits under Aim 1 > P1" in words(page) and FORM not in page
    assert client.get(FORM).status_code == 403


# ---------------------------------------------------------------- another kind

KIND_FORM = f"/programmes/{PROGRAMME}/items/P1/kind"


def test_a_programme_manager_calls_an_item_another_kind(
    client: FlaskClient, auth: AuthActions, outline: System
) -> None:
    auth.login("programme manager")
    page = client.get(f"/programmes/{PROGRAMME}/items/P1/timeline").get_data(as_text=True)
    assert f'href="{KIND_FORM}"' in page and "Kind Priority" in words(page)
    before = outline.ledger.get_log_position()
    same = client.post(KIND_FORM, data={"kind": "priority", "reason": "Tidy <i>up</i>", "seen_version": "1"})
    assert "It is already a priority: select another kind" in same.get_data(as_text=True)
    assert "Tidy &lt;i&gt;up&lt;/i&gt;" in same.get_data(as_text=True)
    unknown = client.post(KIND_FORM, data={"kind": "task", "reason": "x", "seen_version": "1"})
    assert "Select a kind of item from the list" in unknown.get_data(as_text=True)
    assert "Enter why the item becomes another kind" in client.post(
        KIND_FORM, data={"kind": "aim", "seen_version": "1"}
    ).get_data(as_text=True)
    assert outline.ledger.get_log_position() == before

    saved = client.post(KIND_FORM, data={"kind": "aim", "reason": "Promoted", "seen_version": "1"})

    assert saved.status_code == 302
    after = timeline(client, "P1")
    assert "P1 is now an aim." in after and "Kind Aim" in after and "kind changed to aim" in after
    assert outline.ledger.get_item(PROGRAMME, "P1")["kind"] == "aim"


def test_officers_cannot_change_an_items_kind(
    client: FlaskClient, auth: AuthActions, outline: System
) -> None:
    auth.login("officer")
    assert KIND_FORM not in client.get(f"/programmes/{PROGRAMME}/items/P1/timeline").get_data(as_text=True)
    assert client.get(KIND_FORM).status_code == 403
