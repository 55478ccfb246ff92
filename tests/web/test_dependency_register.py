"""The dependency register page and each side's form (issue 12, item 6): a side is
confirmed only by the writers of that side's programme (a team's by the dependency's own
programme), every POST needs its CSRF token, the register shows a disagreement in words,
and bad input records nothing."""

from __future__ import annotations

import html
import re
import sqlite3
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from test_bad_input import FUZZ, VALUES, field_names, fields_in_error, summary_links
from test_every_error_at_once import csrf_token, sign_in
from web_helpers import DEMO_PASSWORD, DEMO_USERS, OTHER_PROGRAMME, PROGRAMME, AuthActions

from web.backend import System

Q1 = "2024/25 Q1"
SIDES = f"/dependencies/{PROGRAMME}/D1/sides"
PROVIDER = f"/dependencies/{PROGRAMME}/D1/confirm/provider"
RECEIVER = f"/dependencies/{PROGRAMME}/D1/confirm/receiver"
YES_HIGH = {"plan_agreed": "yes", "confidence": "High", "period": Q1}


@pytest.fixture
def plan(system: System) -> System:
    """D1 in the officer's programme, provided by a programme the officer is not in."""
    ledger = system.ledger
    ledger.register_dependency(PROGRAMME, "D1", description="School places data", period=Q1, actor="setup")
    ledger.name_dependency_sides(PROGRAMME, "D1", provider=OTHER_PROGRAMME, receiver=PROGRAMME, actor="setup")
    return system


def version(plan: System) -> str:
    return str(plan.ledger.get_dependency_sides(PROGRAMME, "D1")["version"])


def stored(plan: System, side: str) -> tuple[str, str, str]:
    return plan.ledger.get_dependency_sides(PROGRAMME, "D1")[side]["view"]


def test_the_receivers_officer_confirms_their_side_and_the_register_says_who(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    page = client.get("/dependencies").get_data(as_text=True)
    assert RECEIVER in page and PROVIDER not in page  # only the side they may confirm
    response = client.post(RECEIVER, data={**YES_HIGH, "seen_version": version(plan)})
    assert response.status_code == 302
    assert stored(plan, "receiver") == ("yes", "High", Q1)
    with sqlite3.connect(plan.projections_db) as db:
        assert db.execute("select receiver_confirmed_by from dependency_sides").fetchone() == (
            DEMO_USERS["officer"],
        )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Awaiting the provider" in page
    # Each programme side is named as readers know it, never by its slug.
    assert "<strong>Other plan</strong>" in page and f"<strong>{OTHER_PROGRAMME}</strong>" not in page
    assert "the provider (Other plan)" in page and f"({OTHER_PROGRAMME})" not in page


def test_a_side_of_another_programme_is_refused_and_nothing_recorded(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    before = plan.ledger.get_log_position()
    assert client.get(PROVIDER).status_code == 403
    assert client.post(PROVIDER, data={**YES_HIGH, "seen_version": version(plan)}).status_code == 403
    assert plan.ledger.get_log_position() == before


def test_a_teams_side_is_confirmed_by_the_dependencys_programme(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    response = client.post(
        SIDES, data={"provider": "Highways <team>", "receiver": PROGRAMME, "seen_version": version(plan)}
    )
    assert response.status_code == 302
    assert client.post(PROVIDER, data={**YES_HIGH, "seen_version": version(plan)}).status_code == 302
    assert (
        client.post(
            RECEIVER,
            data={"plan_agreed": "no", "confidence": "Low", "period": Q1, "seen_version": version(plan)},
        ).status_code
        == 302
    )
    page = client.get("/dependencies").get_data(as_text=True)
    assert "Highways &lt;team&gt;" in page and "Highways <team>" not in page
    assert (
        html.escape(
            "The sides disagree on the plan: the provider (Highways <team>) says a plan is agreed, "
            "the receiver (Test plan) says no plan is agreed; and on confidence: High for the "
            "provider, Low for the receiver."
        )
        in page
    )


def test_an_incomplete_confirmation_names_every_problem_and_records_nothing(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    before = plan.ledger.get_log_position()
    response = client.post(RECEIVER, data={"period": Q1, "seen_version": version(plan)})
    assert response.status_code == 200
    summary = response.get_data(as_text=True)
    assert "Say whether a jointly agreed plan is in place" in summary
    assert "Choose a confidence" in summary
    assert plan.ledger.get_log_position() == before


def test_naming_the_same_party_twice_is_refused(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("officer")
    before = plan.ledger.get_log_position()
    response = client.post(
        SIDES, data={"provider": PROGRAMME, "receiver": PROGRAMME, "seen_version": version(plan)}
    )
    assert response.status_code == 200
    assert "must be different" in response.get_data(as_text=True)
    assert plan.ledger.get_log_position() == before


@pytest.mark.parametrize("role", ["auditor", "analyst", "administrator"])
def test_readers_see_the_register_but_no_forms(
    client: FlaskClient, auth: AuthActions, plan: System, role: str
) -> None:
    auth.login(role)
    page = client.get("/dependencies").get_data(as_text=True)
    assert "School places data" in page and "Confirm for the" not in page and "Name the sides" not in page
    assert client.get(RECEIVER).status_code == 403
    assert client.post(SIDES, data={"provider": "a", "receiver": "b"}).status_code == 403


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    @pytest.mark.parametrize(
        ("url", "data"),
        [(RECEIVER, YES_HIGH), (SIDES, {"provider": "Highways team", "receiver": PROGRAMME})],
    )
    def test_a_post_without_the_token_is_refused_and_records_nothing(
        self, client: FlaskClient, plan: System, url: str, data: dict[str, str]
    ) -> None:
        token = re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)
        )[1]
        client.post(
            "/login", data={"username": DEMO_USERS["officer"], "password": DEMO_PASSWORD, "csrf_token": token}
        )
        before = plan.ledger.get_log_position()
        assert client.post(url, data={**data, "seen_version": version(plan)}).status_code == 400
        assert plan.ledger.get_log_position() == before
        form = client.get(url).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)[1]
        seen = re.search(r'name="seen_version"[^>]*value="([^"]+)"', form)[1]
        assert client.post(url, data={**data, "seen_version": seen, "csrf_token": token}).status_code == 302
        assert plan.ledger.get_log_position() > before

    @pytest.mark.parametrize("url", [RECEIVER, SIDES])
    def test_generated_input_never_fails_the_server_nor_records_part_of_it(
        self, client: FlaskClient, plan: System, url: str
    ) -> None:
        """The bad-input suite's check (tests/web/test_bad_input.py) on both forms."""
        sign_in(client, "officer")
        page = client.get(url).get_data(as_text=True)
        names, token = field_names(page), csrf_token(page)
        assert {"plan_agreed", "confidence", "period"} <= set(names) or {"provider", "receiver"} <= set(names)

        @FUZZ
        @given(st.fixed_dictionaries({name: VALUES for name in names}))
        def post(values: dict[str, str]) -> None:
            before = plan.ledger.get_log_position()
            response = client.post(url, data={**values, "csrf_token": token})
            assert response.status_code < 500, response.get_data(as_text=True)[:2000]
            if response.status_code != 302:
                assert plan.ledger.get_log_position() == before, "refused input recorded events"
                page = response.get_data(as_text=True)
                assert fields_in_error(page) <= summary_links(page), "an error missing from the summary"

        post()


def test_a_programmes_dependencies_page_links_to_its_register(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    page = client.get(f"/programmes/{PROGRAMME}/dependencies").get_data(as_text=True)
    link = f'href="/dependencies?programme={PROGRAMME}"'
    assert link in page
    register = client.get(f"/dependencies?programme={PROGRAMME}").get_data(as_text=True)
    assert "School places data" in register and OTHER_PROGRAMME in register
