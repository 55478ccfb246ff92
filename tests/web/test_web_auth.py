"""Signing in and out: sessions, rate limits, deactivated accounts, own password."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from web_helpers import DEMO_PASSWORD, DEMO_USERS, AuthActions

from web.backend import System


def test_sign_in_takes_you_home_and_shows_who_you_are(client: FlaskClient, auth: AuthActions) -> None:
    response = auth.login("officer")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "Demo officer" in html
    assert "(Officer)" in html
    assert "Sign out" in html
    assert '<a href="#main-content" class="govuk-skip-link"' in html
    assert '<main class="govuk-main-wrapper" id="main-content">' in html
    assert '<footer class="govuk-template__footer">' in html


def test_sign_in_page_links_labels_to_fields(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<label class="govuk-label" for="username">' in html
    assert '<label class="govuk-label" for="password">' in html
    assert 'autocomplete="current-password"' in html


def test_wrong_password_keeps_the_username_and_says_what_to_do(
    client: FlaskClient, auth: AuthActions
) -> None:
    response = auth.login("officer", password="not the password")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Error: Sign in" in html
    assert 'class="govuk-error-summary"' in html
    assert 'href="#username">Enter a correct username and password</a>' in html
    assert f'value="{DEMO_USERS["officer"]}"' in html
    assert "not the password" not in html  # passwords are never echoed back


def test_unknown_user_gets_the_same_message_as_a_wrong_password(auth: AuthActions) -> None:
    unknown = auth.login("nobody-here").get_data(as_text=True)
    assert "Enter a correct username and password" in unknown


def test_empty_form_names_each_missing_field(client: FlaskClient) -> None:
    html = client.post("/login", data={}).get_data(as_text=True)
    assert 'href="#username">Enter your username</a>' in html
    assert 'href="#password">Enter your password</a>' in html


def test_usernames_are_not_case_sensitive(auth: AuthActions) -> None:
    assert auth.login(DEMO_USERS["analyst"].upper()).status_code == 302


def test_sign_in_returns_you_to_the_page_you_asked_for(client: FlaskClient) -> None:
    response = client.get("/admin/accounts")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    response = client.post(
        login_url, data={"username": DEMO_USERS["administrator"], "password": DEMO_PASSWORD}
    )
    assert response.headers["Location"] == "/admin/accounts"


def test_sign_in_never_sends_you_to_another_site(client: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"username": DEMO_USERS["officer"], "password": DEMO_PASSWORD},
        )
        assert response.headers["Location"] == "/", target
        client.post("/logout")


def test_sign_out_ends_the_session(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("officer")
    response = auth.logout()
    assert response.headers["Location"] == "/login"
    assert "You have signed out." in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_sign_out_needs_a_post(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("officer")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_deactivated_account_cannot_sign_in_and_is_signed_out(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    auth.login("officer")
    assert client.get("/").status_code == 200
    system.ledger.deactivate_account(DEMO_USERS["officer"], actor="admin", reason="Left")
    assert client.get("/").status_code == 302  # the very next request
    assert "Enter a correct username and password" in auth.login("officer").get_data(as_text=True)


def test_revoked_role_takes_effect_on_the_next_request(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    username = DEMO_USERS["administrator"]
    system.ledger.grant_role(username, "auditor", actor="setup", reason="Needs both")
    auth.login("administrator")
    assert client.get("/admin/accounts").status_code == 200
    system.ledger.revoke_role(username, "administrator", actor="someone", reason="Moved team")
    assert client.get("/admin/accounts").status_code == 403


def test_session_cookie_is_http_only_lax_and_ends_with_the_browser(auth: AuthActions) -> None:
    cookie = auth.login("officer").headers["Set-Cookie"]
    assert cookie.startswith("govledger_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" not in cookie


def test_session_is_bound_to_the_browser(client: FlaskClient, auth: AuthActions) -> None:
    """Strong session protection: a cookie replayed from another browser is not signed in."""
    auth.login("officer")
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"User-Agent": "something else"}).status_code == 302


def test_sixth_sign_in_attempt_in_a_minute_is_refused_kindly(client: FlaskClient) -> None:
    data = {"username": DEMO_USERS["officer"], "password": "guess"}
    for _ in range(5):
        assert client.post("/login", data=data).status_code == 200
    response = client.post("/login", data=data)
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many attempts" in html
    assert "Wait a minute" in html
    assert "Traceback" not in html
    # Another username from the same address is a different bucket.
    other = {"username": DEMO_USERS["analyst"], "password": DEMO_PASSWORD}
    assert client.post("/login", data=other).status_code == 302


def test_rate_limit_does_not_apply_to_reading_the_page(client: FlaskClient) -> None:
    for _ in range(10):
        assert client.get("/login").status_code == 200


def test_change_own_password(client: FlaskClient, auth: AuthActions, app: Flask) -> None:
    auth.login("analyst")
    new = "a much longer new passphrase"
    response = client.post(
        "/account/password", data={"current": DEMO_PASSWORD, "password": new, "confirm": new}
    )
    assert response.status_code == 302
    auth.logout()
    assert auth.login("analyst").status_code == 200  # old password no longer works
    assert auth.login("analyst", password=new).status_code == 302


def test_change_password_explains_each_problem(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("analyst")
    html = client.post(
        "/account/password", data={"current": "wrong", "password": "short", "confirm": "short"}
    ).get_data(as_text=True)
    assert 'href="#current">Your current password is not correct</a>' in html
    html = client.post(
        "/account/password", data={"current": DEMO_PASSWORD, "password": "short", "confirm": "short"}
    ).get_data(as_text=True)
    assert 'href="#password">Password must be 12 characters or more</a>' in html
    html = client.post(
        "/account/password",
        data={"current": DEMO_PASSWORD, "password": "long enough password", "confirm": "different"},
    ).get_data(as_text=True)
    assert 'href="#confirm">The passwords do not match</a>' in html
