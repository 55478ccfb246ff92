"""Small ledgers for the report tests (no tests here: imported by test_report*.py and
tests/web/test_reports_pages.py), and the plan's tree, which tests/web/test_dashboards_seed.py
rates its own way.

`record_plan` builds a committee-style plan small enough to count by hand:

    Vision V
      Aim 1 ─ P1.1 ─ A1.1.1 Green, A1.1.2 Amber
            └ P1.2 ─ A1.2.1 Red
      Aim 2 ─ P2.1 ─ A2.1.1 "Measure not due" (Not yet due), A2.1.2 nothing recorded

with indicators for Q4 2023/24 and Q1 2024/25, and a narrative summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ledger.application import Batch, Ledger

__test__ = False

PLAN = "test-plan"
PLAN_NAME = "Test plan"
Q1 = "2024/25 Q1"
Q4 = "2023/24 Q4"
DEMO_PLAN = "cheshire-east-plan-2024-25"

# (ref, kind, title, parent ref)
ITEMS = [
    ("V", "vision", "A better place", ""),
    ("Aim 1", "aim", "An open organisation", "V"),
    ("P1.1", "priority", "Be transparent", "Aim 1"),
    ("A1.1.1", "action", "Publish decisions", "P1.1"),
    ("A1.1.2", "action", "Train report authors", "P1.1"),
    ("P1.2", "priority", "Balance the budget", "Aim 1"),
    ("A1.2.1", "action", "Deliver the savings", "P1.2"),
    ("Aim 2", "aim", "A thriving place", "V"),
    ("P2.1", "priority", "Reduce carbon", "Aim 2"),
    ("A2.1.1", "action", "Update the nature strategy", "P2.1"),
    ("A2.1.2", "action", "Plant trees", "P2.1"),
]
# By period: (ref, status, update, mitigation)
RATINGS = {
    Q1: [
        ("A1.1.1", "Green", "On track for October.", ""),
        ("A1.1.2", "Amber", "Two sessions slipped.", "Extra sessions booked for November."),
        ("A1.2.1", "Red", "Savings proposals are late.", "Weekly board reviews each proposal."),
        ("A2.1.1", "Measure not due", "", ""),
    ],
}


def record_tree(
    ledger: Ledger,
    programme: str,
    ratings: Mapping[str, Sequence[tuple[str, str, str, str]]],
    *,
    actor: str,
    batch: Batch,
) -> None:
    """ITEMS registered under `programme` (each action with a lead officer and committee
    CPC), then `ratings` recorded by `actor`."""
    for ref, kind, title, parent in ITEMS:
        ledger.register_item(
            programme,
            ref,
            kind=kind,
            title=title,
            parent_ref=parent,
            lead_officer=f"Lead of {ref}" if kind == "action" else "",
            committee="CPC" if kind == "action" else "",
            actor="setup",
            batch=batch,
        )
    for period, rows in ratings.items():
        for ref, status, update, mitigation in rows:
            ledger.record_status(
                programme,
                ref,
                period=period,
                status=status,
                update=update,
                mitigation=mitigation,
                actor=actor,
                batch=batch,
            )


def record_plan(ledger: Ledger, *, programme: str = PLAN, register: bool = True) -> None:
    if register:
        ledger.register_programme(
            programme,
            PLAN_NAME,
            cadence="quarterly",
            contact={"name": "Pat Officer", "phone": "01234 567890", "email": "pat@example.gov.uk"},
            actor="setup",
        )
    with ledger.batch() as batch:
        record_tree(ledger, programme, RATINGS, actor="officer", batch=batch)
        indicators = [
            ("FTE", "Staff (full-time equivalent)", "FTE", "neither", [(Q4, "2,869"), (Q1, "2,829")]),
            ("VACANCY", "Vacancy rate", "%", "lower", [(Q4, "12.16%"), (Q1, "13.05%")]),
            ("AGENCY", "Agency staff", "staff", "lower", [(Q4, "237"), (Q1, "232")]),
        ]
        for ref, name, unit, better, values in indicators:
            ledger.define_indicator(
                programme, ref, name=name, unit=unit, better=better, actor="setup", batch=batch
            )
            for period, value in values:
                ledger.record_indicator_value(
                    programme, ref, period=period, value=value, actor="analyst", batch=batch
                )
        ledger.record_indicator_value(
            programme,
            "VACANCY",
            period=Q1,
            value="15.59%",
            breakdown="Corporate",
            actor="analyst",
            batch=batch,
        )
        ledger.write_narrative(
            programme,
            period=Q1,
            section="summary",
            text="Most actions are on track.\n\nTwo need attention.",
            actor="perf.team",
            batch=batch,
        )


def record_highlight(ledger: Ledger, *, programme: str = "send-programme") -> None:
    ledger.register_programme(programme, "SEND inclusion programme", cadence="monthly", actor="setup")
    with ledger.batch() as batch:
        for ref, title, lead in (
            ("WS1", "Inclusive Charter", "Rachel D"),
            ("WS12", "Locality planning", "Guy C"),
        ):
            ledger.register_item(
                programme, ref, kind="workstream", title=title, lead_officer=lead, actor="setup", batch=batch
            )
        ledger.record_status(
            programme,
            "WS1",
            period="2026-01",
            status="Green",
            update="Session 1 delivered.",
            actor="lead",
            batch=batch,
        )
        ledger.record_status(
            programme,
            "WS12",
            period="2026-01",
            status="",
            update="Scope being refined.",
            actor="lead",
            batch=batch,
        )
        for section, text in (
            ("accomplished", "WS1: Session 1 delivered\nWS12: Partners aligned"),
            ("not_accomplished", "WS1: Charter not circulated due to meeting delays"),
            ("planned_next", "WS1: Circulate the charter"),
        ):
            ledger.write_narrative(
                programme, period="2026-01", section=section, text=text, actor="lead", batch=batch
            )


def record_partnership(ledger: Ledger, *, programme: str = "childrens-trust") -> None:
    ledger.register_programme(
        programme,
        "Children's Trust",
        cadence="quarterly",
        contact={"name": "Rick Howell", "phone": "01244 603228", "email": "rick.howell@example.gov.uk"},
        actor="setup",
    )
    with ledger.batch() as batch:
        for ref, title in (
            ("CA1", "Child-centred, outcome-led vision"),
            ("CA2", "Integrated front line delivery"),
        ):
            ledger.register_item(programme, ref, kind="core area", title=title, actor="setup", batch=batch)
            ledger.record_status(
                programme,
                ref,
                period="2007/08 Q3",
                status="",
                update=f"Work on {title.lower()}.",
                actor="lead",
                batch=batch,
            )
        for section, text in (
            ("achievements", "Governance documents agreed."),
            ("current_activity", "Planning continues in the core areas."),
            ("challenges", "Delivering the new Plan."),
            ("partnership_issues", "Sustaining momentum."),
        ):
            ledger.write_narrative(
                programme, period="2007/08 Q3", section=section, text=text, actor="lead", batch=batch
            )
