"""Who may use the updates pages, with real records behind every URL: officers and
programme managers on their own programmes only; nobody else, not even the empty form."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from test_updates import record_items
from web_helpers import OTHER_PROGRAMME, PROGRAMME, AuthActions

from ledger.domain import ROLES
from web.backend import System

BASE = f"/programmes/{PROGRAMME}"
FORMS = [
    f"{BASE}/items/A1.2/update",
    f"{BASE}/items/A1.1/correct",
    f"{BASE}/risks/new",
    f"{BASE}/risks/risk/R1/rerate",
    f"{BASE}/risks/risk/R1/close",
    f"{BASE}/risks/risk/R1/reopen",
    f"{BASE}/dependencies/new",
    f"{BASE}/dependencies/D1/review",
    f"{BASE}/indicators/FTE/record",
    f"{BASE}/narrative",
]
PAGES = ["/my-items", f"{BASE}/risks", f"{BASE}/dependencies", f"{BASE}/indicators"]
WRITERS = ("officer", "programme manager")


@pytest.fixture
def plan(system: System) -> System:
    record_items(system.ledger)
    return system


def expected(who: str, method: str, url: str) -> int:
    if method == "POST" and url in PAGES:
        return 405
    if who == "anonymous":
        return 302
    if who not in WRITERS:
        return 403
    # A permitted empty POST gets the form back with its errors: nothing is recorded.
    return 200


CASES = [
    pytest.param(url, method, who, id=f"{method}-{url}-{who}")
    for url in [*PAGES, *FORMS]
    for method in ("GET", "POST")
    for who in ("anonymous", *ROLES)
]


@pytest.mark.parametrize(("url", "method", "who"), CASES)
def test_access(
    client: FlaskClient, auth: AuthActions, plan: System, url: str, method: str, who: str
) -> None:
    if who != "anonymous":
        auth.login(who)
    before = plan.ledger.get_log_position()
    response = client.open(url, method=method, data={})
    assert response.status_code == expected(who, method, url), response.get_data(as_text=True)[:300]
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
    assert plan.ledger.get_log_position() == before


@pytest.mark.parametrize("url", [u.replace(PROGRAMME, OTHER_PROGRAMME) for u in FORMS if "/items/" not in u])
@pytest.mark.parametrize("role", WRITERS)
def test_writers_are_refused_programmes_not_theirs(
    client: FlaskClient, auth: AuthActions, plan: System, url: str, role: str
) -> None:
    auth.login(role)
    assert client.get(url).status_code == 403
    assert client.post(url, data={}).status_code == 403
