"""Seed data shared by the dashboards and auditors' page tests (no tests here).

A small plan under `web_helpers.PROGRAMME`: vision → aims → priorities → actions, rated
for two quarters, with report narratives for both.

    2023/24 Q4: A1.1.1 Green, A1.1.2 Green, A1.2.1 Amber, A2.1.1 Green
    2024/25 Q1: A1.1.1 Green, A1.1.2 Amber, A1.2.1 Red, A2.1.1 Not yet due; A2.1.2 none
"""

from __future__ import annotations

from web_helpers import DEMO_USERS, PROGRAMME

from ledger.application import Ledger

Q4 = "2023/24 Q4"
Q1 = "2024/25 Q1"
OFFICER = DEMO_USERS["officer"]

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

RATINGS = {
    Q4: [
        ("A1.1.1", "Green", "Decisions are published weekly.", ""),
        ("A1.1.2", "Green", "Sessions booked.", ""),
        ("A1.2.1", "Amber", "Savings are behind plan.", "Monthly review of each proposal."),
        ("A2.1.1", "Green", "Draft strategy written.", ""),
    ],
    Q1: [
        ("A1.1.1", "Green", "On track for October.", ""),
        ("A1.1.2", "Amber", "Two sessions slipped.", "Extra sessions booked for November."),
        ("A1.2.1", "Red", "Savings proposals are late.", "Weekly board reviews each proposal."),
        ("A2.1.1", "Not yet due", "", ""),
    ],
}

NARRATIVES = {
    Q4: {"summary": "Most actions are on track.\nThe budget is a concern."},
    Q1: {
        "summary": "Most actions are on track.\nTwo need attention.",
        "challenges": "Recruiting trainers.",
    },
}


def seed_plan(ledger: Ledger, actor: str = OFFICER) -> None:
    with ledger.batch() as batch:
        for ref, kind, title, parent in ITEMS:
            ledger.register_item(
                PROGRAMME,
                ref,
                kind=kind,
                title=title,
                parent_ref=parent,
                lead_officer=f"Lead of {ref}" if kind == "action" else "",
                committee="CPC" if kind == "action" else "",
                actor="setup",
                batch=batch,
            )
        for period, ratings in RATINGS.items():
            for ref, status, update, mitigation in ratings:
                ledger.record_status(
                    PROGRAMME,
                    ref,
                    period=period,
                    status=status,
                    update=update,
                    mitigation=mitigation,
                    actor=actor,
                    batch=batch,
                )
        for period, sections in NARRATIVES.items():
            for section, text in sections.items():
                ledger.write_narrative(
                    PROGRAMME, period=period, section=section, text=text, actor="perf.team", batch=batch
                )
