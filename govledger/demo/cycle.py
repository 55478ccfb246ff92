"""The demo's reporting cycle for the Cheshire East Q1 committee paper (issue 12, item 7).

What the paper went through, replayed through the ledger's own commands so every screen
of the cycle has real data on first run:

1. The administrator links leads to the demo accounts: Owen Officer stands in for the
   Head of Planning (four Cheshire East actions), Sian SEND-Officer for two Cornwall
   workstreams.
2. The programme manager opens Q1 with a due date.
3. Every Q1 update is submitted (the officer his own; the performance team, as the
   loader, the rest for leads who have no account) and the programme manager approves
   each, so the paper is published with the review check passed, not overridden.
4. After publication the officer revises one update: the approval is superseded, he
   resubmits, and the programme manager returns it with a comment.

Decision: "one still missing" cannot precede a publication that passes the review check
(every item in the report must be approved), so the missing updates are the ones the
paper itself printed with no commentary (A3.3.2, A3.4.3, A3.5.1, A3.5.3): approved as
the committee saw them, and still listed as not updated and overdue by the `due` view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.application import Ledger
from projections import queries
from projections.queries.connection import Db

Q1 = "2024/25 Q1"
Q1_DUE = "2024-08-16"  # updates due for the October Corporate Policy Committee
ADMIN, MANAGER, OFFICER, SEND_OFFICER = "admin", "pm", "officer", "send.officer"
PERFORMANCE_TEAM = "demo loader"  # submitted for leads who have no account (the import's actor)


@dataclass(frozen=True)
class LeadLink:
    programme: str
    lead_officer: str  # the free-text lead the seed names
    account: str


def lead_links(cheshire_east: str, cornwall: str) -> tuple[LeadLink, ...]:
    return (
        LeadLink(cheshire_east, "Head of Planning", OFFICER),
        LeadLink(cornwall, "Rachel Delourme & Amy Daniels", SEND_OFFICER),
        LeadLink(cornwall, "Tanya Banks & Amy Daniels", SEND_OFFICER),
    )


# The update the officer revises after publication, and the manager's comment returning it.
REVISED_REF = "A3.1.2"
REVISION = (
    " Since the committee: the restructure consultation closes in November and the SIP "
    "milestones are being re-planned."
)
RETURN_COMMENT = (
    "Give the revised dates for the SIP milestones and say what happens to the backlog "
    "while the restructure consultation runs."
)


def link_demo_leads(ledger: Ledger, db: Db, cheshire_east: str, cornwall: str) -> dict[str, list[str]]:
    """Link each seed lead named in `lead_links` to its demo account; account -> refs."""
    led: dict[str, list[str]] = {}
    with ledger.batch() as b:
        for link in lead_links(cheshire_east, cornwall):
            for item in queries.get_item_leads(db, programme=link.programme):
                if item["lead_officer"] != link.lead_officer:
                    continue
                ledger.link_lead(
                    link.programme,
                    item["ref"],
                    link.account,
                    actor=ADMIN,
                    reason=f"Demo: the {link.account} account leads what {link.lead_officer} led",
                    batch=b,
                )
                led.setdefault(link.account, []).append(item["ref"])
    return led


def review_q1(ledger: Ledger, db: Db, programme: str, officer_refs: list[str]) -> int:
    """Open Q1, submit every rated item's update and approve each; returns how many."""
    ledger.open_period(
        programme, Q1, due_date=Q1_DUE, actor=MANAGER, reason="Q1 updates for the October committee"
    )
    refs = [row["ref"] for row in queries.get_ratings(db, programme, Q1)]
    with ledger.batch() as b:
        for ref in refs:
            submitter = OFFICER if ref in officer_refs else PERFORMANCE_TEAM
            ledger.submit_update(programme, ref, period=Q1, actor=submitter, batch=b)
    with ledger.batch() as b:
        for ref in refs:
            ledger.approve_update(programme, ref, period=Q1, actor=MANAGER, batch=b)
    return len(refs)


def revise_and_return(ledger: Ledger, db: Db, programme: str) -> None:
    """After publication: the officer revises one update (superseding its approval and
    resubmitting it) and the programme manager returns it with a comment."""
    row = next(r for r in queries.get_ratings(db, programme, Q1) if r["ref"] == REVISED_REF)
    ledger.save_update(
        programme,
        REVISED_REF,
        period=Q1,
        status=row["status"],
        update=row["update"] + REVISION,
        mitigation=row["mitigation"],
        actor=OFFICER,
        reason="Progress since the committee met",
    )
    ledger.return_update(programme, REVISED_REF, period=Q1, comment=RETURN_COMMENT, actor=MANAGER)


def run_cycle(
    ledger: Ledger,
    db: Db,
    *,
    cheshire_east: str,
    cornwall: str,
    publish: Callable[[], object],
) -> None:
    """The whole cycle around the Q1 publication (`publish` publishes the paper)."""
    led = link_demo_leads(ledger, db, cheshire_east, cornwall)
    review_q1(ledger, db, cheshire_east, led.get(OFFICER, []))
    publish()
    revise_and_return(ledger, db, cheshire_east)
