"""Seed data shared by the dashboards and auditors' page tests (no tests here).

A small plan under `web_helpers.PROGRAMME`: vision → aims → priorities → actions, rated
for two quarters, with report narratives for both.

    2023/24 Q4: A1.1.1 Green, A1.1.2 Green, A1.2.1 Amber, A2.1.1 Green
    2024/25 Q1: A1.1.1 Green, A1.1.2 Amber, A1.2.1 Red, A2.1.1 Not yet due; A2.1.2 none

The tree (`ITEMS`) and the way it is recorded are the report tests' own
(tests/test_reports_support.py); the ratings and narratives here are this module's.
"""

from __future__ import annotations

from test_reports_support import ITEMS, Q1, Q4, record_tree
from web_helpers import DEMO_USERS, PROGRAMME

from ledger.application import Ledger

__all__ = ["ITEMS", "NARRATIVES", "OFFICER", "Q1", "Q4", "RATINGS", "seed_plan"]

OFFICER = DEMO_USERS["officer"]

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
        record_tree(ledger, PROGRAMME, RATINGS, actor=actor, batch=batch)
        for period, sections in NARRATIVES.items():
            for section, text in sections.items():
                ledger.write_narrative(
                    PROGRAMME, period=period, section=section, text=text, actor="perf.team", batch=batch
                )
