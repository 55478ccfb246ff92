"""Status scales on the web (issue 11): an administrator defines and revises a council's
scale and moves a programme onto it with a mapping; dashboards, the history grid and the
committee report then speak in the programme's own words and colours."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from web_helpers import PROGRAMME, AuthActions

from ledger.domain import StatusScale
from projections import queries
from web.backend import System

Q1, Q2 = "2024/25 Q1", "2024/25 Q2"
OUTCOMES = """Achieved, on track, #00703c, A; Met
Partly achieved, minor issues, #ffdd00, PA, no, In progress
Not achieved, major issues, #d4351c, NA, yes, In progress
Carried forward, not yet due"""


def errors(page: str) -> str:
    assert "There is a problem" in page
    return page.split('class="govuk-error-summary"')[1].split("</ul>")[0]


@pytest.fixture
def rated(system: System) -> System:
    """Four items rated Green, Amber, Red and Not yet due for Q1 on RAG."""
    ledger = system.ledger
    for ref, status in (("A1", "Green"), ("A2", "Amber"), ("A3", "Red"), ("A4", "Not yet due")):
        ledger.register_item(PROGRAMME, ref, kind="action", title=f"Action {ref}", actor="setup")
        ledger.record_status(
            PROGRAMME, ref, period=Q1, status=status, update="u", mitigation="m", actor="setup"
        )
    return system


def define_outcomes(client: FlaskClient) -> None:
    page = client.post(
        "/admin/scales/new",
        data={"scale": "outcomes", "name": "Outcomes", "statuses": OUTCOMES, "reason": ""},
    )
    assert page.status_code == 302, page.text


def test_an_administrator_defines_a_scale_and_moves_a_programme_onto_it(
    client: FlaskClient, auth: AuthActions, rated: System
) -> None:
    auth.login("administrator")
    define_outcomes(client)
    scale = rated.ledger.find_scale("outcomes")
    assert [s.name for s in scale.statuses] == [
        "Achieved",
        "Partly achieved",
        "Not achieved",
        "Carried forward",
    ]
    assert (scale.statuses[1].colour, scale.statuses[1].needs_mitigation, scale.statuses[1].group) == (
        "#ffdd00",
        False,
        "In progress",
    )
    listing = client.get("/admin/scales").text
    assert "Partly achieved" in listing and 'fill="#ffdd00"' in listing

    url = f"/admin/programmes/{PROGRAMME}/scale"
    missing = client.post(
        url, data={"scale": "outcomes", "mapping": "Green = Achieved", "reason": "Council decision"}
    )
    assert "Say which status on the Outcomes scale replaces &#39;Amber&#39;" in errors(missing.text)
    position = rated.ledger.get_log_position()
    mapping = (
        "Green = Achieved\nAmber = PA\nRed = Not achieved\nNot yet due = Carried forward\n"
        "To be added = Carried forward\nComplete = Achieved"
    )
    done = client.post(url, data={"scale": "outcomes", "mapping": mapping, "reason": "Council decision"})
    assert done.status_code == 302
    assert rated.ledger.get_log_position() == position + 1
    rated.ledger.record_status(PROGRAMME, "A1", period=Q2, status="PA", update="Slower", actor="setup")

    history = client.get(f"/programmes/{PROGRAMME}/history").text
    assert "The scale changed from RAG to Outcomes" in history and "Council decision" in history
    a2 = history.split('data-ref="A2"')[1].split("</tr>")[0]
    assert "Amber" in a2 and re.search(r"Now\s*<strong[^>]*>\s*Partly achieved", a2)

    dashboard = client.get(f"/programmes/{PROGRAMME}/dashboard?period={Q2.replace(' ', '%20')}").text
    assert 'data-status="Partly achieved"' in dashboard and 'fill="#ffdd00"' in dashboard
    assert re.search(r'data-group="In progress".*?In progress.*?>1<', dashboard, re.S)
    q1 = client.get(f"/programmes/{PROGRAMME}/dashboard?period={Q1.replace(' ', '%20')}").text
    assert 'data-status="Amber"' in q1 and 'data-status="Partly achieved"' in q1  # past kept, scale shown

    report = client.get(f"/reports/{PROGRAMME}/committee/document?period={Q2.replace(' ', '%20')}").text
    assert "Partly achieved actions" in report and "Not achieved actions" in report
    assert "Amber actions" not in report
    q1_counts = {
        s["status"]: s["count"] for s in queries.get_summary(rated.projections_db, PROGRAMME, Q1)["statuses"]
    }
    assert {s: q1_counts[s] for s in ("Green", "Amber", "Red", "Not yet due")} == dict.fromkeys(
        ("Green", "Amber", "Red", "Not yet due"), 1
    )


def test_revising_a_scale_needs_a_reason_and_bad_lines_are_named(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    auth.login("administrator")
    define_outcomes(client)
    form = client.get("/admin/scales/outcomes/revise").text
    assert "Partly achieved, minor issues, #ffdd00, PA, no, In progress" in form
    position = system.ledger.get_log_position()
    bad = {
        "Achieved, on track\nMissed, behind": "Line 2: &#39;behind&#39; is not a category",
        "Achieved, on track\nachieved, major issues": "The status &#39;achieved&#39; is listed twice",
        "Met, on track, , M\nMissed, major issues, , m": "alias &#39;m&#39; clashes with &#39;Met",
        "Achieved, on track, green": "Line 1: &#39;green&#39; is not a colour",
    }
    for statuses, message in bad.items():
        page = client.post(
            "/admin/scales/outcomes/revise", data={"name": "Outcomes", "statuses": statuses, "reason": "x"}
        )
        assert message in errors(page.text), statuses
    no_reason = client.post(
        "/admin/scales/outcomes/revise", data={"name": "Outcomes", "statuses": "Met, on track"}
    )
    assert "Give a reason" in errors(no_reason.text)
    assert system.ledger.get_log_position() == position
    ok = client.post(
        "/admin/scales/outcomes/revise",
        data={"name": "Outcomes", "statuses": "Met, on track\nMissed, major issues", "reason": "Shorter"},
    )
    assert ok.status_code == 302
    events = list(system.ledger.events.get(StatusScale.create_id("outcomes")))
    assert [(type(e).__name__, e.reason, e.actor) for e in events][-1] == (
        "Revised",
        "Shorter",
        "demo-administrator",
    )


def test_a_built_in_scale_is_revised_by_defining_it_in_the_ledger(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    auth.login("administrator")
    page = client.post(
        "/admin/scales/rag/revise",
        data={
            "name": "RAG",
            "statuses": "Green, on track\nAmber, minor issues\nRed, major issues\nComplete, complete",
            "reason": "No more To be added",
        },
    )
    assert page.status_code == 302
    assert system.ledger.find_scale("rag").choices_text() == "Green, Amber, Red, Complete"
    assert (
        system.ledger.get_programme(PROGRAMME)["scale"]
        .choices_text()
        .startswith("Green, Amber, Red, To be added")
    )


def test_a_scale_change_from_a_period_keeps_earlier_periods_on_the_old_scale(
    client: FlaskClient, auth: AuthActions, rated: System
) -> None:
    auth.login("administrator")
    define_outcomes(client)
    url = f"/admin/programmes/{PROGRAMME}/scale"
    form = {"scale": "outcomes", "reason": "Council decision", "from_period": "Quarter nine"}
    position = rated.ledger.get_log_position()
    refused = client.post(url, data=form).text
    assert "Quarter nine" in errors(refused)  # the bad period is named
    assert 'value="Quarter nine"' in refused  # and what was typed is kept
    assert rated.ledger.get_log_position() == position

    done = client.post(url, data={**form, "from_period": Q2}, follow_redirects=True)
    assert f"rates on the outcomes scale from {Q2}; earlier periods keep the old scale" in done.text
    assert rated.ledger.get_log_position() == position + 1
    # Q1 is still rated on RAG, so a late Q1 rating takes RAG's words; Q2 takes the new scale's.
    rated.ledger.register_item(PROGRAMME, "A5", kind="action", title="Action A5", actor="setup")
    rated.ledger.record_status(PROGRAMME, "A5", period=Q1, status="Green", update="late", actor="setup")
    rated.ledger.record_status(PROGRAMME, "A5", period=Q2, status="PA", update="Slower", actor="setup")
    history = queries.get_item_history(rated.projections_db, PROGRAMME, "A5")
    assert {r["period"]: r["status"] for r in history} == {Q1: "Green", Q2: "Partly achieved"}
