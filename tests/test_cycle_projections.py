"""The reporting cycle in the read model (issue 12, items 1 to 3 and the `due` table of
item 8): leads' accounts, email addresses, period openings, reminders, the `due` view and
its query functions (days overdue from the date given), the audit trail, and the
"overdue" canned query in Datasette."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from projections import queries
from projections.datasette_config import make_datasette
from projections.system import System, build

PLAN = "plan"
Q1 = "2024/25 Q1"
AUDITOR = {"id": "ann", "roles": ["auditor"]}


@pytest.fixture
def cycle(system: System) -> System:
    ledger = system.ledger
    ledger.register_programme(PLAN, "Council Plan", cadence="quarterly", actor="admin")
    ledger.open_account("jo", display_name="Jo Bloggs", role="officer", actor="admin")
    ledger.register_item(PLAN, "P1", kind="priority", title="Places", actor="admin")
    for ref, lead in (("A1", "Jo Bloggs"), ("A2", "Director of Place"), ("A3", "Director of Place")):
        ledger.register_item(
            PLAN, ref, kind="action", title=f"Action {ref}", parent_ref="P1", lead_officer=lead, actor="admin"
        )
    ledger.link_lead(PLAN, "A1", "jo", actor="admin", reason="Jo's account")
    ledger.set_email("jo", "jo@example.gov.uk", actor="admin", reason="Reminders")
    ledger.open_period(PLAN, Q1, due_date="2024-07-15", actor="pm")
    ledger.record_status(PLAN, "A3", period=Q1, status="Green", update="Done", actor="jo")
    return system


def table(db: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def test_leads_emails_and_openings_are_projected(cycle: System) -> None:
    db = cycle.projections_db
    leads = {r["ref"]: r["lead_account"] for r in table(db, "SELECT ref, lead_account FROM items")}
    assert leads == {"P1": "", "A1": "jo", "A2": "", "A3": ""}
    assert table(db, "SELECT username, email FROM accounts") == [
        {"username": "jo", "email": "jo@example.gov.uk"}
    ]
    [opened] = table(db, "SELECT * FROM period_openings")
    assert (opened["period"], opened["due_date"], opened["first_due_date"], opened["extensions"]) == (
        Q1,
        "2024-07-15",
        "2024-07-15",
        0,
    )
    cycle.ledger.extend_period(PLAN, Q1, due_date="2024-07-31", actor="pm", reason="Election")
    [opened] = table(db, "SELECT * FROM period_openings")
    assert (
        opened["due_date"],
        opened["first_due_date"],
        opened["extensions"],
        opened["extended_reason"],
    ) == (
        "2024-07-31",
        "2024-07-15",
        1,
        "Election",
    )
    # The opened period is a period of the programme even with nothing rated in it yet.
    assert [p["period"] for p in queries.get_periods(db, PLAN)] == [Q1]


def test_due_lists_leaf_items_not_updated_with_days_overdue_as_at_the_date_given(cycle: System) -> None:
    db = cycle.projections_db
    before = queries.get_due(db, today=date(2024, 7, 15))
    assert [(r["ref"], r["overdue_days"]) for r in before] == [
        ("A1", 0),
        ("A2", 0),
    ]  # P1 has actions under it
    after = queries.get_due(db, today=date(2024, 7, 20))
    assert [(r["ref"], r["overdue_days"], r["lead_account"]) for r in after] == [
        ("A1", 5, "jo"),
        ("A2", 5, ""),
    ]
    every = queries.get_due(db, today=date(2024, 7, 20), outstanding=False)
    assert {r["ref"]: r["updated"] for r in every} == {"A1": 0, "A2": 0, "A3": 1}
    assert [r["ref"] for r in queries.get_due(db, today=date(2024, 7, 20), lead_account="jo")] == ["A1"]
    [summary] = queries.get_due_summary(db, today=date(2024, 7, 20))
    assert (
        summary["expected"],
        summary["not_updated"],
        summary["overdue"],
        summary["most_days_overdue"],
    ) == (3, 2, 2, 5)
    # The view itself counts from SQLite's clock, for Datasette.
    days = (date.today() - date(2024, 7, 15)).days
    assert {r["ref"]: r["overdue_days"] for r in table(db, "SELECT * FROM due")} == {
        "A1": days,
        "A2": days,
        "A3": 0,
    }


def test_unlinked_leads_and_reminders_to_send(cycle: System) -> None:
    db = cycle.projections_db
    assert [(u["lead_officer"], [i["ref"] for i in u["items"]]) for u in queries.get_unlinked_leads(db)] == [
        ("Director of Place", ["A2", "A3"])
    ]
    [lead] = queries.get_reminders_to_send(db, today=date(2024, 7, 20))
    assert (lead["username"], lead["email"], [i["ref"] for i in lead["items"]]) == (
        "jo",
        "jo@example.gov.uk",
        ["A1"],
    )
    items = [{"ref": "A1", "period": Q1, "due_date": "2024-07-15"}]
    cycle.ledger.record_reminder(PLAN, "jo", day=date(2024, 7, 20), items=items, run="r1", actor="remind")
    [sent] = queries.get_reminders(db, day=date(2024, 7, 20))
    assert (sent["lead_account"], sent["item_count"], json.loads(sent["items"]), sent["run"]) == (
        "jo",
        1,
        items,
        "r1",
    )


def test_the_audit_trail_says_who_linked_opened_extended_and_reminded(cycle: System) -> None:
    cycle.ledger.extend_period(PLAN, Q1, due_date="2024-07-31", actor="pm", reason="Election")
    cycle.ledger.record_reminder(
        PLAN,
        "jo",
        day=date(2024, 7, 20),
        items=[{"ref": "A1", "period": Q1, "due_date": "x"}],
        run="r",
        actor="remind",
    )
    log = table(cycle.projections_db, "SELECT * FROM audit_log ORDER BY position")
    found = {r["event_type"]: r for r in log}
    assert (
        found["LeadLinked"]["summary"] == "lead linked to account jo"
        and found["LeadLinked"]["to_value"] == "jo"
    )
    assert found["EmailSet"]["field"] == "email"
    assert found["Extended"]["from_value"] == "2024-07-15" and found["Extended"]["to_value"] == "2024-07-31"
    assert (
        found["Extended"]["reason"] == "Election" and found["Extended"]["aggregate_kind"] == "ReportingPeriod"
    )
    assert (
        found["Sent"]["summary"] == "reminded jo of 1 item(s) due"
        and found["Sent"]["to_value"] == f"A1 ({Q1})"
    )


def test_a_rebuild_gives_the_same_rows(cycle: System, tmp_path: Path) -> None:
    cycle.ledger.extend_period(PLAN, Q1, due_date="2024-07-31", actor="pm", reason="Election")
    build(cycle.ledger, tmp_path / "rebuilt.db")
    for name in ("items", "accounts", "period_openings", "reminders", "due"):
        sql = f"SELECT * FROM {name} ORDER BY 1, 2"
        assert table(tmp_path / "rebuilt.db", sql) == table(cycle.projections_db, sql)


def test_the_overdue_canned_query(cycle: System) -> None:
    ds = make_datasette(cycle.projections_db)
    cookies = {"ds_actor": ds.sign({"a": AUDITOR}, "actor")}
    stem = cycle.projections_db.stem

    def overdue(programme: str) -> list[dict[str, Any]]:
        async def request() -> Any:
            return await ds.client.get(
                f"/{stem}/overdue.json?_shape=array&programme={programme}", cookies=cookies
            )

        response = asyncio.run(request())
        assert response.status_code == 200, response.text
        return response.json()

    days = (date.today() - date(2024, 7, 15)).days
    assert [(r["ref"], r["overdue_days"]) for r in overdue(PLAN)] == [("A1", days), ("A2", days)]
    assert overdue("") == overdue(PLAN) and overdue("other") == []
    cycle.ledger.extend_period(PLAN, Q1, due_date=date.today() + timedelta(days=1), actor="pm", reason="Late")
    assert overdue(PLAN) == []
