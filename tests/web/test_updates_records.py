"""Officers keep risks and issues, dependencies, indicator values and the report
narrative current: each form saves with one ledger command, or says what is wrong."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from test_updates import Q1, error_summary, record_items, seen_version
from web_helpers import DEMO_USERS, PROGRAMME, AuthActions

from projections import queries
from web.backend import System

OFFICER = DEMO_USERS["officer"]
MANAGER = DEMO_USERS["programme manager"]
BASE = f"/programmes/{PROGRAMME}"
Q2 = "2024/25 Q2"


@pytest.fixture
def plan(system: System) -> System:
    record_items(system.ledger)
    return system


@pytest.fixture
def officer(client: FlaskClient, auth: AuthActions, plan: System) -> FlaskClient:
    auth.login("officer")
    return client


def risk(system: System, ref: str = "R1", kind: str = "risk") -> dict:
    return next(r for r in queries.get_risks(system.projections_db, PROGRAMME, kind) if r["ref"] == ref)


# ---------------------------------------------------------------- risks and issues


def test_an_officer_raises_an_issue(officer: FlaskClient, plan: System) -> None:
    assert "R1" in officer.get(f"{BASE}/risks").get_data(as_text=True)
    response = officer.post(
        f"{BASE}/risks/new",
        data={
            "kind": "issue",
            "ref": "I1",
            "description": "Venue lost",
            "rag_before": "Amber",
            "mitigation": "Second venue booked",
            "rag_after": "",
            "owner": "Jo",
            "period": Q1,
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == f"{BASE}/risks"
    issue = risk(plan, "I1", "issue")
    assert (issue["rag_before"], issue["rag_after"], issue["raised_by"]) == ("Amber", "", OFFICER)
    page = officer.get(f"{BASE}/risks").get_data(as_text=True)
    assert "Issue I1 raised." in page and "Venue lost" in page


def test_a_risk_with_only_the_residual_rating_is_raised(officer: FlaskClient, plan: System) -> None:
    # Registers often publish only the rating after mitigation (issue 11 item 6).
    page = officer.get(f"{BASE}/risks/new").get_data(as_text=True)
    assert "Not published" in page
    data = {"kind": "risk", "ref": "R9", "description": "Supplier fails", "rag_before": "",
            "rag_after": "Amber", "period": Q1}
    response = officer.post(f"{BASE}/risks/new", data=data)
    assert response.status_code == 302, error_summary(response.get_data(as_text=True))
    assert (risk(plan, "R9")["rag_before"], risk(plan, "R9")["rag_after"]) == ("", "Amber")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ref": "R1"}, "ref", "Risk R1 already exists."),
        ({"rag_before": "Not yet due"}, "rag_before", "Not yet due is not a RAG rating"),
        ({"description": ""}, "description", "Enter a description"),
    ],
)
def test_raising_a_risk_badly_says_why_and_keeps_the_typing(
    officer: FlaskClient, plan: System, changes: dict, field: str, message: str
) -> None:
    data = {
        "kind": "risk",
        "ref": "R2",
        "description": "Typed risk text",
        "rag_before": "Red",
        "mitigation": "Typed mitigation",
        "period": Q1,
    }
    before = plan.ledger.get_log_position()
    page = officer.post(f"{BASE}/risks/new", data={**data, **changes}).get_data(as_text=True)
    summary = error_summary(page)
    assert message in summary and f'href="#{field}"' in summary
    assert "Typed mitigation" in page
    assert plan.ledger.get_log_position() == before


def test_rerating_a_risk_needs_a_reason(officer: FlaskClient, plan: System) -> None:
    url = f"{BASE}/risks/risk/R1/rerate"
    page = officer.get(url).get_data(as_text=True)
    assert 'value="Red" checked' in page and "Recruitment drive" in page
    data = {
        "rag_before": "Red",
        "mitigation": "Recruitment drive",
        "rag_after": "Amber",
        "period": Q1,
        "seen_version": seen_version(page),
    }
    page = officer.post(url, data=data).get_data(as_text=True)
    assert 'href="#reason"' in error_summary(page)
    assert officer.post(url, data={**data, "reason": "Drive has filled posts"}).status_code == 302
    row = risk(plan)
    assert (row["rag_after"], row["last_reason"], row["updated_by"]) == (
        "Amber",
        "Drive has filled posts",
        OFFICER,
    )


def test_closing_and_reopening_a_risk_need_reasons(officer: FlaskClient, plan: System) -> None:
    close = f"{BASE}/risks/risk/R1/close"
    version = seen_version(officer.get(close).get_data(as_text=True))
    page = officer.post(close, data={"period": Q1, "seen_version": version}).get_data(as_text=True)
    assert "Enter a reason for closing it" in error_summary(page)
    assert (
        officer.post(
            close, data={"period": Q1, "reason": "Posts filled", "seen_version": version}
        ).status_code
        == 302
    )
    assert risk(plan)["state"] == "closed"
    page = officer.get(f"{BASE}/risks").get_data(as_text=True)
    assert f"{BASE}/risks/risk/R1/reopen" in page

    reopen = f"{BASE}/risks/risk/R1/reopen"
    version = seen_version(officer.get(reopen).get_data(as_text=True))
    assert (
        officer.post(reopen, data={"period": Q2, "reason": "Two left", "seen_version": version}).status_code
        == 302
    )
    assert risk(plan)["state"] == "open"


def test_a_stale_risk_form_shows_the_other_change(officer: FlaskClient, plan: System) -> None:
    url = f"{BASE}/risks/risk/R1/rerate"
    version = seen_version(officer.get(url).get_data(as_text=True))
    plan.ledger.close_risk(PROGRAMME, "R1", period=Q1, actor=MANAGER, reason="Posts filled")
    data = {
        "rag_before": "Red",
        "mitigation": "Officer's plan",
        "rag_after": "Green",
        "period": Q1,
        "reason": "Officer's reason",
        "seen_version": version,
    }
    response = officer.post(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Demo programme manager" in page and "closed for 2024/25 Q1" in page
    assert "Officer&#39;s plan" in page and "Posts filled" in page
    assert officer.post(url, data={**data, "seen_version": seen_version(page)}).status_code == 302
    assert risk(plan)["rag_after"] == "Green"


# ---------------------------------------------------------------- dependencies


def test_an_officer_registers_and_reviews_a_dependency(officer: FlaskClient, plan: System) -> None:
    response = officer.post(
        f"{BASE}/dependencies/new",
        data={
            "ref": "D2",
            "description": "Housing land",
            "plan_agreed": "no",
            "confidence": "Low",
            "period": Q1,
        },
    )
    assert response.status_code == 302
    url = f"{BASE}/dependencies/D2/review"
    page = officer.get(url).get_data(as_text=True)
    assert 'value="no" checked' in page and 'value="Low" checked' in page
    data = {"plan_agreed": "yes", "confidence": "High", "period": Q2, "seen_version": seen_version(page)}
    assert officer.post(url, data=data).status_code == 302
    row = next(d for d in queries.get_dependencies(plan.projections_db, PROGRAMME) if d["ref"] == "D2")
    assert (row["plan_agreed"], row["confidence"], row["period"], row["updated_by"]) == (
        "yes",
        "High",
        Q2,
        OFFICER,
    )


def test_an_unknown_confidence_is_refused(officer: FlaskClient, plan: System) -> None:
    url = f"{BASE}/dependencies/D1/review"
    version = seen_version(officer.get(url).get_data(as_text=True))
    page = officer.post(
        url, data={"plan_agreed": "yes", "confidence": "Certain", "period": Q1, "seen_version": version}
    ).get_data(as_text=True)
    assert "'Certain' is not a confidence level" in error_summary(page).replace("&#39;", "'")


# ---------------------------------------------------------------- indicators


def test_an_officer_records_an_indicator_value_and_a_change_needs_a_reason(
    officer: FlaskClient, plan: System
) -> None:
    page = officer.get(f"{BASE}/indicators").get_data(as_text=True)
    assert "Staff FTE" in page and "2869" in page
    url = f"{BASE}/indicators/FTE/record"
    version = seen_version(officer.get(f"{url}?period={Q2}").get_data(as_text=True))
    assert (
        officer.post(url, data={"period": Q2, "value": "2,829", "seen_version": version}).status_code == 302
    )
    values = queries.get_indicators(plan.projections_db, PROGRAMME, Q2)
    assert [(v["value_text"], v["previous_value"], v["recorded_by"]) for v in values] == [
        ("2829", 2869, OFFICER)
    ]

    page = officer.get(f"{url}?period={Q1}").get_data(as_text=True)
    assert 'value="2869"' in page
    data = {"period": Q1, "value": "2870", "seen_version": seen_version(page)}
    before = plan.ledger.get_log_position()
    page = officer.post(url, data=data).get_data(as_text=True)
    assert 'href="#reason"' in error_summary(page) and 'value="2870"' in page
    assert plan.ledger.get_log_position() == before
    assert officer.post(url, data={**data, "reason": "Late starters"}).status_code == 302
    assert queries.get_indicators(plan.projections_db, PROGRAMME, Q1)[0]["restated"] == 1


def test_a_breakdown_value_and_a_non_number(officer: FlaskClient, plan: System) -> None:
    url = f"{BASE}/indicators/FTE/record"
    version = seen_version(officer.get(url).get_data(as_text=True))
    page = officer.post(url, data={"period": Q1, "value": "lots", "seen_version": version}).get_data(
        as_text=True
    )
    assert 'href="#value"' in error_summary(page)
    data = {"period": Q1, "breakdown": "Adults", "value": "1,200", "seen_version": version}
    assert officer.post(url, data=data).status_code == 302
    values = queries.get_indicators(plan.projections_db, PROGRAMME, Q1)
    assert [(v["breakdown"], v["value_text"]) for v in values] == [("", "2869"), ("Adults", "1200")]


# ---------------------------------------------------------------- report narrative


def test_an_officer_writes_the_report_narrative(officer: FlaskClient, plan: System) -> None:
    url = f"{BASE}/narrative"
    page = officer.get(url).get_data(as_text=True)
    assert "Report narrative for 2024/25 Q1" in page and "Hubs opened." in page
    assert "Planned deliverables for next period" in page
    data = {
        "period": Q1,
        "seen_version": seen_version(page),
        "achievements": "Hubs opened.",
        "planned_next": "Third hub.",
        "challenges": "Recruitment.",
    }
    assert officer.post(url, data=data).status_code == 302
    sections = {s["section"]: s for s in queries.get_sections(plan.projections_db, PROGRAMME, Q1)}
    assert (
        sections["planned_next"]["text"] == "Third hub." and sections["planned_next"]["written_by"] == OFFICER
    )
    assert sections["achievements"]["written_by"] == "setup"  # unchanged, so not rewritten


def test_a_narrative_for_a_new_period_starts_empty(officer: FlaskClient, plan: System) -> None:
    url = f"{BASE}/narrative"
    page = officer.get(f"{url}?period={Q2}").get_data(as_text=True)
    assert "Report narrative for 2024/25 Q2" in page and "Hubs opened." not in page
    data = {"period": Q2, "seen_version": seen_version(page), "summary": "A new quarter."}
    assert officer.post(url, data=data).status_code == 302
    assert [s["text"] for s in queries.get_sections(plan.projections_db, PROGRAMME, Q2)] == ["A new quarter."]


def test_a_stale_narrative_shows_their_text_above_the_officers(officer: FlaskClient, plan: System) -> None:
    url = f"{BASE}/narrative"
    version = seen_version(officer.get(url).get_data(as_text=True))
    plan.ledger.write_narrative(
        PROGRAMME, period=Q1, section="challenges", text="Manager: budget.", actor=MANAGER
    )
    data = {
        "period": Q1,
        "seen_version": version,
        "achievements": "Hubs opened.",
        "challenges": "Officer: staff.",
    }
    before = plan.ledger.get_log_position()
    response = officer.post(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and plan.ledger.get_log_position() == before
    assert "wrote Future challenges" in page and "Manager: budget." in page and "Officer: staff." in page
    assert officer.post(url, data={**data, "seen_version": seen_version(page)}).status_code == 302
    sections = {s["section"]: s["text"] for s in queries.get_sections(plan.projections_db, PROGRAMME, Q1)}
    assert sections["challenges"] == "Officer: staff."
