"""Hypothesis-generated bad input through the real app, CSRF on (issue 16, item 1).

Each form is fetched, its csrf_token kept, and generated values posted in every other
field it renders. Each time: no 5xx; refused input records nothing; every field shown in
error is linked from the GOV.UK error summary. Query-string parameters get the same
no-5xx check. GOVLEDGER_FUZZ_EXAMPLES sets the examples per case (30 in CI; the long run
uses 10,000 spread over the cases); the counts are printed at the end of the run.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_every_error_at_once import csrf_token, sign_in
from test_updates import Q1, plan  # noqa: F401  (fixture)
from web_helpers import DEMO_USERS, PROGRAMME

from web.backend import System

EXAMPLES = int(os.environ.get("GOVLEDGER_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 30,  # CI runs the same examples each time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COUNTS: Counter[str] = Counter()
P = f"/programmes/{PROGRAMME}"

# (role, form URL): update, correction, risk, dependency, indicator, narrative, an item's
# due date and indicators, its place and kind, an indicator's definition, the programme's
# details, period,
# publication, account.
FORMS = [
    ("officer", f"{P}/items/A1.1/update"),
    ("officer", f"{P}/items/A1.1/correct"),
    ("officer", f"{P}/risks/new"),
    ("officer", f"{P}/risks/risk/R1/rerate"),
    ("officer", f"{P}/dependencies/new"),
    ("officer", f"{P}/dependencies/D1/review"),
    ("officer", f"{P}/indicators/FTE/record"),
    ("officer", f"{P}/narrative"),
    ("programme manager", f"{P}/items/A1.1/measures"),
    ("programme manager", f"{P}/items/A1.1/move"),
    ("programme manager", f"{P}/items/A1.1/kind"),
    ("programme manager", f"{P}/indicators/FTE/definition"),
    ("programme manager", f"{P}/details"),
    ("programme manager", f"{P}/periods"),
    ("programme manager", f"/reports/{PROGRAMME}/committee/publish?period={quote(Q1)}"),
    ("administrator", "/admin/accounts/new"),
    ("administrator", f"/admin/accounts/{DEMO_USERS['officer']}/email"),
    ("administrator", f"/admin/accounts/{DEMO_USERS['officer']}/password"),
]

# Pages read by query string: period, as-at, position, page, search.
QUERIES = [
    ("officer", f"{P}/items/A1.1/update?period="),
    ("auditor", f"{P}/as-at?when="),
    ("auditor", f"{P}/as-at?period="),
    ("auditor", "/audit/log?page="),
    ("auditor", "/audit/log?position="),
    ("analyst", "/search?q="),
    ("analyst", f"{P}/dashboard?period="),
    ("analyst", f"/reports/{PROGRAMME}/committee?period="),
]

# Values a person (or an attacker) might type: empty, huge, control characters, markup,
# numbers at and past every limit, and any text at all.
VALUES = st.one_of(
    st.just(""),
    st.sampled_from(["Green", "Amber", "Red", "risk", "issue", Q1, "2024/25 Q9", "-1", "9" * 40]),
    st.sampled_from(["<script>alert(1)</script>", "\x00", "'; DROP TABLE x;--", "%s%n", "\u202e"]),
    st.text(max_size=60),
    st.sampled_from(["a " * 5_000, "a" * 10_001]),  # at and past the 10,000 limit
)


def field_names(page: str) -> list[str]:
    names = re.findall(r'<(?:input|textarea|select)[^>]*\bname="([^"]+)"', page)
    return [n for n in dict.fromkeys(names) if n != "csrf_token"]


def field_values(page: str) -> st.SearchStrategy[dict[str, str | list[str]]]:
    """Generated values for every field; a name the form repeats (a date's day, month and
    year; checkboxes) gets one value per input, as a browser posts them."""
    names = re.findall(r'<input[^>]*\bname="([^"]+)"', page)
    return st.fixed_dictionaries({
        name: VALUES if names.count(name) < 2 else st.lists(VALUES, min_size=names.count(name),
                                                            max_size=names.count(name))
        for name in field_names(page)
    })


def fields_in_error(page: str) -> set[str]:
    """Every field the page marks in error (its GOV.UK error message)."""
    return set(re.findall(r'<p id="([\w-]+)-error" class="govuk-error-message"', page))


def summary_links(page: str) -> set[str]:
    if 'class="govuk-error-summary"' not in page:
        return set()
    summary = page.split('class="govuk-error-summary"')[1].split("</ul>")[0]
    return set(re.findall(r'href="#([\w-]+)"', summary))


@pytest.fixture
def app_config() -> dict[str, bool]:
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    yield
    print(f"\nbad-input fuzz ({EXAMPLES} examples per case): " + ", ".join(
        f"{k} {COUNTS[k]}" for k in ("tried", "refused correctly", "accepted", "partial", "5xx")
    ), file=sys.__stdout__)


@pytest.mark.parametrize(("role", "url"), FORMS, ids=[u for _, u in FORMS])
def test_generated_form_input(client: FlaskClient, plan: System, role: str, url: str) -> None:  # noqa: F811
    sign_in(client, role)
    page = client.get(url).get_data(as_text=True)
    names, token = field_names(page), csrf_token(page)
    assert names, f"no fields found on {url}"

    @FUZZ
    @given(field_values(page))
    def post(values: dict[str, str | list[str]]) -> None:
        before = plan.ledger.get_log_position()
        response = client.post(url, data={**values, "csrf_token": token})
        COUNTS["tried"] += 1
        if response.status_code >= 500:
            COUNTS["5xx"] += 1
        assert response.status_code < 500, response.get_data(as_text=True)[:2000]
        if response.status_code == 302:
            COUNTS["accepted"] += 1
            return
        after = plan.ledger.get_log_position()
        if after != before:
            COUNTS["partial"] += 1
        assert after == before, "refused input recorded events"
        html = response.get_data(as_text=True)
        assert fields_in_error(html) <= summary_links(html), "an error missing from the summary"
        COUNTS["refused correctly"] += 1

    post()


@pytest.mark.parametrize(("role", "url"), QUERIES, ids=[u for _, u in QUERIES])
def test_generated_query_strings(client: FlaskClient, plan: System, role: str, url: str) -> None:  # noqa: F811
    sign_in(client, role)

    @FUZZ
    @given(VALUES.filter(lambda v: len(v) < 2_000))
    def get(value: str) -> None:
        response = client.get(url + quote(value, safe=""))
        COUNTS["tried"] += 1
        if response.status_code >= 500:
            COUNTS["5xx"] += 1
        assert response.status_code < 500, (value, response.get_data(as_text=True)[:2000])

    get()


def test_a_nul_in_a_search_is_a_search_not_a_server_error(client: FlaskClient, plan: System) -> None:  # noqa: F811
    """Found by the fuzz: /search?q=%00 was a 500 (FTS5 "unterminated string")."""
    sign_in(client, "analyst")
    response = client.get("/search?q=Hubs%00")
    assert response.status_code == 200
    assert "Hubs opened." in response.get_data(as_text=True)
