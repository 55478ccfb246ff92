"""The demo runs the reporting cycle (issue 12, item 7): leads linked to the demo
accounts, Cheshire East Q1 opened with a due date, every update submitted and approved
before the committee paper was published (the review check passed, no override), one
revision returned with a comment afterwards, and the updates the paper left empty still
listed as missing and overdue."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import date

import pytest
from flask.testing import FlaskClient

from govledger.demo.cycle import OFFICER, Q1, Q1_DUE, RETURN_COMMENT, REVISED_REF
from govledger.demo.load import CHESHIRE_EAST, CORNWALL, DemoLoad, load_demo
from projections import queries
from web import create_app
from web.backend import open_system

OFFICER_LEADS = {"A3.1.1", "A3.1.2", "A3.3.2", "A3.3.3"}  # the Head of Planning's actions
NO_COMMENTARY = {"A3.3.2", "A3.4.3", "A3.5.1", "A3.5.3"}  # printed in the paper with no update


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoLoad:
    return load_demo(tmp_path_factory.mktemp("demo-cycle") / "data")


def select(demo: DemoLoad, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(demo.data_dir / "projections.db") as db:
        return db.execute(sql, args).fetchall()


def test_q1_is_opened_with_its_due_date(demo: DemoLoad) -> None:
    assert select(demo, "select programme, period, due_date, opened_by from period_openings") == [
        (CHESHIRE_EAST, Q1, Q1_DUE, "pm")
    ]


def test_every_q1_update_was_approved_by_the_manager_but_the_one_returned(demo: DemoLoad) -> None:
    states = dict(
        select(
            demo, "select state, count(*) from review_state where programme = ? group by state", CHESHIRE_EAST
        )
    )
    assert states == {"approved": 65, "returned": 1}
    approvers = select(
        demo, "select distinct approved_by from review_state where programme = ?", CHESHIRE_EAST
    )
    assert approvers == [("pm",)]


def test_the_returned_update_carries_its_comment_and_had_been_approved(demo: DemoLoad) -> None:
    row = select(
        demo,
        "select ref, state, comment, by, returns, submitted_by, approved_by from review_state "
        "where state = 'returned'",
    )
    assert row == [(REVISED_REF, "returned", RETURN_COMMENT, "pm", 1, OFFICER, "pm")]


def test_the_paper_was_published_on_its_approvals_not_an_override(demo: DemoLoad) -> None:
    published = select(
        demo,
        "select review_checked, approved_items, not_approved, override_reason from publications "
        "where programme = ? and period = ?",
        CHESHIRE_EAST,
        Q1,
    )
    assert published == [(1, 66, "", "")]


def test_the_updates_the_paper_left_empty_are_missing_and_overdue(demo: DemoLoad) -> None:
    due = queries.get_due(demo.data_dir / "projections.db", today=date(2024, 9, 1), programme=CHESHIRE_EAST)
    assert {(r["ref"], r["overdue_days"]) for r in due} == {(ref, 16) for ref in NO_COMMENTARY}
    mine = queries.get_due(
        demo.data_dir / "projections.db",
        today=date(2024, 9, 1),
        programme=CHESHIRE_EAST,
        lead_account=OFFICER,
    )
    assert [r["ref"] for r in mine] == ["A3.3.2"]


def test_leads_are_linked_to_the_demo_officers(demo: DemoLoad) -> None:
    linked = select(demo, "select programme, ref, lead_account from items where lead_account != ''")
    assert set(linked) == {(CHESHIRE_EAST, ref, OFFICER) for ref in OFFICER_LEADS} | {
        (CORNWALL, "WS1", "send.officer"),
        (CORNWALL, "WS3", "send.officer"),
    }


@pytest.fixture
def officer_client(demo: DemoLoad) -> Iterator[FlaskClient]:
    system = open_system(demo.data_dir)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "DATA_DIR": demo.data_dir,
        },
        system=system,
    )
    try:
        client = app.test_client()
        signed_in = client.post("/login", data={"username": OFFICER, "password": demo.passwords[OFFICER]})
        assert signed_in.status_code == 302
        yield client
    finally:
        system.close()


def test_my_items_lists_exactly_the_items_the_officer_leads(officer_client: FlaskClient) -> None:
    page = officer_client.get("/my-items")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    listed = set(re.findall(r"<strong>(A\d+\.\d+\.\d+)</strong>", html))
    assert listed == OFFICER_LEADS
    assert re.search(r"A3\.3\.2</strong>.*?\d+ days overdue", html, re.S)


def test_the_dependency_register_holds_the_reports_dependencies_with_both_sides_named(
    demo: DemoLoad, officer_client: FlaskClient
) -> None:
    # The sources name who each programme waits on, but record no agreed plan or
    # confidence for either side, so every dependency awaits both sides' confirmation.
    sides = "select programme, ref, provider, receiver, agreement from dependency_sides order by 1 desc, 2"
    assert select(demo, sides) == [
        (CORNWALL, "D1", "South Gloucestershire Council", CORNWALL, "awaiting both sides"),
        (CORNWALL, "D2", "CACE leads", CORNWALL, "awaiting both sides"),
        ("cheshire-childrens-trust", "D1", "Loughborough University", "cheshire-childrens-trust",
         "awaiting both sides"),
        ("cheshire-childrens-trust", "D2", "Communities of Cheshire Partnership",
         "cheshire-childrens-trust", "awaiting both sides"),
    ]  # fmt: skip
    page = officer_client.get("/dependencies").get_data(as_text=True)
    for party in ("South Gloucestershire Council", "CACE leads", "Loughborough University"):
        assert party in page
    assert page.count("Awaiting both sides") == 4
