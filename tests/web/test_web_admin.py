"""Administrators manage accounts; every change is a ledger event with who and why."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from web_helpers import DEMO_PASSWORD, DEMO_USERS, OTHER_PROGRAMME, PROGRAMME, AuthActions

from ledger.domain import Account
from web.backend import System

ADMIN = DEMO_USERS["administrator"]
OFFICER = DEMO_USERS["officer"]
NEW = {
    "username": "j.smith",
    "display_name": "Jo Smith",
    "role": "officer",
    "password": "a long initial password",
}


@pytest.fixture
def admin(client: FlaskClient, auth: AuthActions) -> FlaskClient:
    auth.login("administrator")
    return client


def events(system: System, username: str) -> list[Any]:
    return list(system.ledger.events.get(Account.create_id(username)))


def last_event(system: System, username: str) -> Any:
    return events(system, username)[-1]


def test_accounts_lists_everyone(admin: FlaskClient) -> None:
    html = admin.get("/admin/accounts").get_data(as_text=True)
    for role, username in DEMO_USERS.items():
        assert username in html
        assert f"Demo {role}" in html
    assert PROGRAMME in html


def test_create_account_records_who_opened_it_and_lets_them_sign_in(
    admin: FlaskClient, auth: AuthActions, system: System
) -> None:
    response = admin.post("/admin/accounts/new", data=NEW)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/accounts/j.smith"
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Account j.smith created." in page
    assert "Jo Smith" in page
    opened = events(system, "j.smith")[0]
    assert type(opened).__name__ == "Opened"
    assert opened.actor == ADMIN
    assert "a long initial password" not in repr(vars(opened))  # never in an event
    auth.logout()
    assert auth.login("j.smith", password=NEW["password"]).status_code == 302


def test_new_account_shows_in_the_list_straight_away(admin: FlaskClient) -> None:
    admin.post("/admin/accounts/new", data=NEW)
    assert "Jo Smith" in admin.get("/admin/accounts").get_data(as_text=True)


def test_create_account_errors_link_to_fields_and_keep_what_was_typed(
    admin: FlaskClient, system: System
) -> None:
    data = {**NEW, "username": "bad name!", "password": "short"}
    response = admin.post("/admin/accounts/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="#password">Password must be 12 characters or more</a>' in html
    assert 'value="bad name!"' in html
    assert 'value="Jo Smith"' in html
    assert 'value="officer" checked' in html
    data["password"] = NEW["password"]
    html = admin.post("/admin/accounts/new", data=data).get_data(as_text=True)
    assert 'href="#username">Usernames use letters, digits, dots, hyphens and @ only.</a>' in html


def test_create_account_with_nothing_filled_in(admin: FlaskClient) -> None:
    html = admin.post("/admin/accounts/new", data={}).get_data(as_text=True)
    assert '<legend class="govuk-fieldset__legend">' in html  # the radios say what they are for
    for field, message in [
        ("username", "Enter a username"),
        ("display_name", "Enter the person&#39;s name"),
        ("role", "Select a role"),
        ("password", "Enter an initial password"),
    ]:
        assert f'href="#{field}">{message}</a>' in html


def test_duplicate_username_is_refused(admin: FlaskClient) -> None:
    html = admin.post("/admin/accounts/new", data={**NEW, "username": OFFICER}).get_data(
        as_text=True
    )
    assert f"An account {OFFICER!r} already exists." in html.replace("&#39;", "'")


def test_display_names_are_escaped(admin: FlaskClient) -> None:
    script = "<script>alert(1)</script>"
    admin.post("/admin/accounts/new", data={**NEW, "display_name": script})
    for url in ("/admin/accounts", "/admin/accounts/j.smith", "/admin/accounts/j.smith/grant-role"):
        html = admin.get(url).get_data(as_text=True)
        assert script not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_escaped_in_the_header_too(client: FlaskClient, admin: FlaskClient, auth: AuthActions) -> None:
    admin.post("/admin/accounts/new", data={**NEW, "display_name": "<b>Jo</b>"})
    auth.logout()
    auth.login("j.smith", password=NEW["password"])
    html = client.get("/").get_data(as_text=True)
    assert "<b>Jo</b>" not in html
    assert "&lt;b&gt;Jo&lt;/b&gt;" in html


def test_grant_and_revoke_role_with_reason(admin: FlaskClient, system: System) -> None:
    url = f"/admin/accounts/{OFFICER}"
    response = admin.post(f"{url}/grant-role", data={"role": "analyst", "reason": "Joins the data team"})
    assert response.status_code == 302
    granted = last_event(system, OFFICER)
    assert (type(granted).__name__, granted.role, granted.actor, granted.reason) == (
        "RoleGranted", "analyst", ADMIN, "Joins the data team",
    )
    admin.post(f"{url}/revoke-role", data={"role": "officer", "reason": "No longer leads actions"})
    assert system.ledger.get_account(OFFICER)["roles"] == ["analyst"]
    assert last_event(system, OFFICER).reason == "No longer leads actions"


def test_role_change_needs_a_reason(admin: FlaskClient, system: System) -> None:
    before = len(events(system, OFFICER))
    response = admin.post(f"/admin/accounts/{OFFICER}/grant-role", data={"role": "analyst"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="#reason">Enter a reason</a>' in html
    assert 'value="analyst" checked' in html
    assert len(events(system, OFFICER)) == before


def test_assign_and_unassign_programmes(admin: FlaskClient, system: System) -> None:
    url = f"/admin/accounts/{OFFICER}"
    page = admin.get(f"{url}/assign-programme").get_data(as_text=True)
    assert "Other plan" in page
    response = admin.post(f"{url}/assign-programme", data={"programme": OTHER_PROGRAMME})
    assert response.status_code == 302
    assert system.ledger.get_account(OFFICER)["programmes"] == [PROGRAMME, OTHER_PROGRAMME]
    assert last_event(system, OFFICER).actor == ADMIN
    html = admin.post(f"{url}/unassign-programme", data={"programme": PROGRAMME}).get_data(as_text=True)
    assert 'href="#reason">Enter a reason</a>' in html
    admin.post(f"{url}/unassign-programme", data={"programme": PROGRAMME, "reason": "Moved"})
    assert system.ledger.get_account(OFFICER)["programmes"] == [OTHER_PROGRAMME]


def test_only_known_programmes_can_be_assigned(admin: FlaskClient, system: System) -> None:
    html = admin.post(
        f"/admin/accounts/{OFFICER}/assign-programme", data={"programme": "made-up"}
    ).get_data(as_text=True)
    assert 'href="#programme">' in html
    assert system.ledger.get_account(OFFICER)["programmes"] == [PROGRAMME]


def test_deactivate_and_reactivate(admin: FlaskClient, auth: AuthActions, system: System) -> None:
    url = f"/admin/accounts/{OFFICER}"
    admin.post(f"{url}/deactivate", data={"reason": "Left the council"})
    assert system.ledger.get_account(OFFICER)["is_active"] is False
    assert "Deactivated" in admin.get("/admin/accounts").get_data(as_text=True)
    admin.post(f"{url}/reactivate", data={"reason": "Came back"})
    assert system.ledger.get_account(OFFICER)["is_active"] is True
    assert [type(e).__name__ for e in events(system, OFFICER)][-2:] == ["Deactivated", "Reactivated"]


def test_administrators_cannot_lock_themselves_out(admin: FlaskClient, system: System) -> None:
    for path, data in [
        ("deactivate", {"reason": "Oops"}),
        ("revoke-role", {"role": "administrator", "reason": "Oops"}),
    ]:
        html = admin.post(f"/admin/accounts/{ADMIN}/{path}", data=data).get_data(as_text=True)
        assert "You cannot do this to your own account" in html
    account = system.ledger.get_account(ADMIN)
    assert account["is_active"] and "administrator" in account["roles"]


def test_reset_password(admin: FlaskClient, auth: AuthActions, system: System) -> None:
    new = "a fresh password for you"
    response = admin.post(
        f"/admin/accounts/{OFFICER}/password", data={"password": new, "confirm": new}
    )
    assert response.status_code == 302
    auth.logout()
    assert auth.login("officer", password=DEMO_PASSWORD).status_code == 200
    assert auth.login("officer", password=new).status_code == 302
    # Auditors see who reset it; the password itself is nowhere in the ledger.
    events = list(system.ledger.events.get(system.ledger.get_account(OFFICER)["id"]))
    assert type(events[-1]).__name__ == "PasswordSet"
    assert events[-1].reason == "Reset by an administrator"
    assert not any(new in str(vars(e)) for e in events)


def test_unknown_account_is_404(admin: FlaskClient) -> None:
    response = admin.get("/admin/accounts/nobody")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert admin.post("/admin/accounts/nobody/deactivate", data={"reason": "x"}).status_code == 404
