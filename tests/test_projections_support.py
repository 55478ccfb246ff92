"""Shared helpers for the projection tests: a small demo ledger after the seed reports,
and a dump of every table for comparing two projections databases. No tests here."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from ledger.application import Ledger
from projections.queries.flags import register_flags_function

PLAN = "cheshire-east-plan"
SEND = "cornwall-send"
Q4 = "2023/24 Q4"
Q1 = "2024/25 Q1"
Q2 = "2024/25 Q2"
PACK = "committee-pack"


def record_plan(ledger: Ledger) -> None:
    """Cheshire East Plan, Q4 2023/24 and Q1 2024/25: a hierarchy, ratings (one corrected,
    one re-rated), indicators by directorate, a narrative, a risk, an issue and a
    dependency."""
    ledger.register_programme(PLAN, "Cheshire East Plan", cadence="quarterly", actor="perf.team")
    ledger.register_item(PLAN, "Aim 1", kind="aim", title="Open", actor="perf.team")
    ledger.register_item(
        PLAN,
        "P1.1",
        kind="priority",
        title="Listen, learn and respond",
        parent_ref="Aim 1",
        actor="perf.team",
    )
    actions = {
        "A1.1.1": ("Residents' survey", "Jo Lead", "CPC"),
        "A1.1.2": ("Consultation hub", "Jo Lead", "CPC"),
        "A1.1.9": ("Complaints process", "Sam Head", "CPC"),
        "A1.1.10": ("Customer charter", "Sam Head", "E+C"),
        "A1.1.11": ("Digital by default", "Ali Chief", "E+G"),
    }
    for ref, (title, lead, committee) in actions.items():
        ledger.register_item(
            PLAN,
            ref,
            kind="action",
            title=title,
            parent_ref="P1.1",
            lead_officer=lead,
            committee=committee,
            actor="perf.team",
        )
    q4 = {"A1.1.1": "Green", "A1.1.2": "Green", "A1.1.9": "Amber", "A1.1.10": "Red"}
    for ref, status in q4.items():
        ledger.record_status(
            PLAN,
            ref,
            period=Q4,
            status=status,
            update=f"{ref} Q4 update",
            mitigation="Recovery plan agreed" if status != "Green" else "",
            actor="jo.lead",
        )
    q1 = {
        "A1.1.1": "Amber",
        "A1.1.2": "Green",
        "A1.1.9": "Green",
        "A1.1.10": "Red",
        "A1.1.11": "Measure not due",
    }
    for ref, status in q1.items():
        ledger.record_status(
            PLAN,
            ref,
            period=Q1,
            status=status,
            update=f"{ref} Q1 update",
            mitigation="Extra staff in place" if status in ("Amber", "Red") else "",
            actor="jo.lead",
        )
    # The long update from the covering report, then a correction with a reason.
    ledger.record_status(
        PLAN,
        "A1.1.2",
        period=Q1,
        status="Green",
        update="A1.1.2 longer Q1 update from the covering report",
        actor="jo.lead",
    )
    ledger.correct_status(
        PLAN,
        "A1.1.10",
        period=Q1,
        status="Amber",
        update="A1.1.10 Q1 corrected",
        mitigation="Contractor replaced",
        actor="sam.head",
        reason="Rated against the wrong milestone",
    )
    ledger.define_indicator(PLAN, "FTE", name="Staff (FTE)", unit="FTE", better="neither", actor="hr")
    ledger.define_indicator(PLAN, "VAC", name="Vacancy rate", unit="%", better="lower", actor="hr")
    ledger.record_indicator_value(PLAN, "FTE", period=Q4, value="2,869", actor="hr")
    ledger.record_indicator_value(PLAN, "FTE", period=Q1, value="2829", actor="hr")
    ledger.record_indicator_value(PLAN, "VAC", period=Q4, value="12.16%", actor="hr")
    ledger.record_indicator_value(PLAN, "VAC", period=Q1, value="13.05", actor="hr")
    ledger.record_indicator_value(PLAN, "VAC", period=Q4, value="9.5", breakdown="Place", actor="hr")
    ledger.record_indicator_value(PLAN, "VAC", period=Q1, value="8.25", breakdown="Place", actor="hr")
    ledger.write_narrative(
        PLAN,
        period=Q1,
        section="achievements",
        text="Residents' survey launched with record responses.",
        actor="perf.team",
    )
    ledger.write_narrative(
        PLAN,
        period=Q1,
        section="challenges",
        text="Recruitment to social work posts remains difficult.",
        actor="perf.team",
    )
    ledger.raise_risk(
        PLAN,
        "R1",
        description="Budget pressure in adult social care",
        rag_before="Red",
        mitigation="Savings programme",
        rag_after="Amber",
        owner="Finance",
        period=Q1,
        actor="risk.lead",
    )
    ledger.raise_risk(
        PLAN,
        "I1",
        kind="issue",
        description="Case management system outage",
        rag_before="Amber",
        owner="ICT",
        period=Q1,
        actor="risk.lead",
    )
    ledger.register_dependency(
        PLAN,
        "D1",
        description="NHS partner data sharing agreement",
        plan_agreed="yes",
        confidence="Medium",
        owner="ICB",
        period=Q1,
        actor="risk.lead",
    )


def publish_pack(ledger: Ledger, period: str = Q1) -> int:
    """Publish the committee pack built from the log as it stands; returns its position."""
    position = ledger.get_log_position()
    ledger.publish_report(
        PLAN,
        report=PACK,
        period=period,
        log_position=position,
        content_sha256="ab" * 32,
        title=f"Performance report {period}",
        actor="perf.team",
    )
    return position


def record_send(ledger: Ledger) -> None:
    """Cornwall SEND programme, monthly, with workstreams and a five-point scale."""
    ledger.register_programme(
        SEND, "Cornwall SEND inclusion programme", cadence="monthly", scale="five-point", actor="pmo"
    )
    for ref, title in (
        ("WS1", "Inclusive Charter"),
        ("WS3", "Ordinarily Available Provision"),
        ("WS7", "Peer Panels"),
        ("WS12", "Strategic Locality Planning"),
    ):
        ledger.register_item(SEND, ref, kind="workstream", title=title, lead_officer="PMO lead", actor="pmo")
    for month, statuses in (
        ("2025-12", ("Green", "Amber/Green", "Amber", "Green")),
        ("2026-01", ("Green", "Amber", "Amber/Red", "Complete")),
    ):
        for ref, status in zip(("WS1", "WS3", "WS7", "WS12"), statuses, strict=True):
            ledger.record_status(
                SEND,
                ref,
                period=month,
                status=status,
                update=f"{ref} {month}",
                mitigation="Escalated to board" if status not in ("Green", "Complete") else "",
                actor="pmo",
            )
    ledger.open_account("jo.lead", display_name="Jo Lead", role="officer", actor="admin")
    ledger.assign_programme("jo.lead", SEND, actor="admin")
    ledger.grant_role("jo.lead", "analyst", actor="admin", reason="Needs SQL for the pack")


def dump(path: str | Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table and view (full-text index internals aside), rows sorted."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    register_flags_function(conn)  # the flags view calls it, as in Datasette
    try:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE '%\\_fts%' ESCAPE '\\' ORDER BY name"
            )
        ]
        return {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}
    finally:
        conn.close()


def data_tables(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """A dump without the tracking row (whose position and as-at label legitimately differ)."""
    return {name: rows for name, rows in tables.items() if name != "projection_position"}
