"""Live, rebuild and as-at are one code path: they agree table for table, a failure half
way through a page leaves nothing behind, and snapshots show the read model as it stood."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner
from eventsourcing.application import AggregateNotFoundError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_projections_support import PLAN, Q1, data_tables, dump, publish_pack, record_plan, record_send

from govledger.commands.projections import rebuild_command, snapshot_command
from ledger.application import Ledger
from ledger.config import event_store_env
from ledger.errors import LedgerError
from ledger.periods import Period
from ledger.scales import FIVE_POINT, RAG, Category, Status
from projections import queries
from projections import state as state_module
from projections.handlers import HANDLERS
from projections.projector import PROJECTION, ProjectionFailed, Projector
from projections.schema import SCHEMA_VERSION
from projections.system import System, build, open_system, rebuild, snapshot, snapshot_with

# ------------------------------------------------------------------ generated histories

SLUGS = ("plan", "send")
REFS = ("A1", "A1.1", "A1.2", "A1.10", "WS7", "WS12")
PARENTS = {"A1.1": "A1", "A1.2": "A1", "A1.10": "A1"}
STATUSES = (
    "Green",
    "Amber",
    "Red",
    "To be added",
    "Not yet due",
    "Measure not due",
    "Complete",
    "",
    "Amber/Green",
    "Amber/Red",
    "Achieved",
    "Not achieved",
    "Not started",
)
# Council-defined scales (and a revision of each), which programmes adopt with a mapping.
CUSTOM_SCALES: dict[str, tuple[str, list[list[Status]]]] = {
    "outcomes": ("Outcomes", [
        [
            Status("Achieved", Category.ON_TRACK, aliases=("A",)),
            Status("Partly achieved", Category.MINOR_ISSUES, colour="#ffdd00"),
            Status("Not achieved", Category.MAJOR_ISSUES, needs_mitigation=True),
            Status("Carried forward", Category.NOT_YET_DUE),
        ],
        [
            Status("Achieved", Category.ON_TRACK),
            Status("Not achieved", Category.MAJOR_ISSUES),
            Status("Closed", Category.CLOSED),
        ],
    ]),
    "grouped": ("Grouped", [
        [
            Status("Complete", Category.COMPLETE),
            Status("Green", Category.ON_TRACK, group="In progress"),
            Status("Amber", Category.MINOR_ISSUES, group="In progress"),
            Status("Red", Category.MAJOR_ISSUES, group="In progress"),
            Status("Not started", Category.NOT_RATED, aliases=("Not begun",)),
        ],
        [
            Status("Complete", Category.COMPLETE),
            Status("Green", Category.ON_TRACK, group="Live"),
            Status("Red", Category.MAJOR_ISSUES, group="Live"),
        ],
    ]),
}
PERIODS = {
    "quarterly": ("2023/24 Q4", "2024/25 Q1", "2024/25 Q2", "2024/25 Q3"),
    "monthly": ("2025-12", "2026-01", "2026-02", "2026-03"),
    "custom": ("2024/25 P2", "2024/25 P4", "2024/25 P6", "2025/26 P2"),
}
# "trust" reports in periods it defines (issue 11 item 7): uneven, with gaps between them.
TRUST_PERIODS = [
    ["2024/25 P2", "2024-04-01", "2024-07-31"], ["2024/25 P4", "2024-09-01", "2024-12-31"],
    ["2024/25 P6", "2025-01-01", "2025-03-31"], ["2025/26 P2", "2025-04-01", "2025-08-31"],
]
WORDS = ("on track", "delayed by supplier", "recruitment", "budget agreed", "")
PEOPLE = ("jo", "sam", "ali")

slug = st.sampled_from(SLUGS)
JOB_STEPS = ("start", "progress", "finish", "fail", "expire", "retry")
ref = st.sampled_from(REFS)
period = st.integers(0, 3)
words = st.sampled_from(WORDS)
person = st.sampled_from(PEOPLE)

# One update through several review steps, so approvals, returns and supersessions happen
# in most histories, not only when two random ops name the same item (weighted x4 below).
REVIEWED = st.tuples(
    st.just("reviewed"),
    slug,
    ref,
    period,
    st.sampled_from(("Green", "Amber", "Red", "")),
    words,
    st.lists(st.sampled_from(("approve", "return", "change", "resubmit")), min_size=1, max_size=4),
)

operation = st.one_of(
    st.tuples(
        st.just("programme"),
        slug,
        st.sampled_from(("quarterly", "monthly")),
        st.sampled_from(("rag", "five-point")),
    ),
    st.tuples(st.just("item"), slug, ref, words),
    st.tuples(st.just("status"), slug, ref, period, st.sampled_from(STATUSES), words, words, words),
    st.tuples(st.just("status"), slug, ref, period, st.sampled_from(STATUSES), words, words, words),
    st.tuples(st.just("correct"), slug, ref, period, st.sampled_from(STATUSES), words, words, words),
    st.tuples(st.just("retitle"), slug, ref, words),
    # Moves re-file whole branches (a move under its own branch is refused).
    st.tuples(st.just("move"), slug, ref, st.sampled_from(("", *REFS))),
    st.tuples(st.just("kind"), slug, ref, st.sampled_from(("action", "priority"))),
    st.tuples(st.just("details"), slug, words, st.booleans()),
    st.tuples(st.just("lead"), slug, ref, person),
    st.tuples(st.just("committee"), slug, ref, st.sampled_from(("CPC", "E+C", ""))),
    st.tuples(
        st.just("indicator"),
        slug,
        st.sampled_from(("FTE", "VAC")),
        st.sampled_from(("higher", "lower", "neither")),
    ),
    # A corrected definition restates every value's direction of travel.
    st.tuples(
        st.just("redefine"),
        slug,
        st.sampled_from(("FTE", "VAC")),
        st.sampled_from(("higher", "lower", "neither")),
        st.sampled_from(("", "%")),
    ),
    st.tuples(
        st.just("value"),
        slug,
        st.sampled_from(("FTE", "VAC")),
        period,
        st.decimals(-100, 100, places=2, allow_nan=False),
        st.sampled_from(("", "Place")),
        words,
    ),
    st.tuples(st.just("narrative"), slug, period, st.sampled_from(("achievements", "challenges")), words),
    st.tuples(
        st.just("risk"),
        slug,
        st.sampled_from(("risk", "issue")),
        st.sampled_from(("R1", "R2")),
        st.sampled_from(("Red", "Amber", "Green")),
        st.sampled_from(("", "Amber", "Green")),
    ),
    st.tuples(
        st.just("rerate"),
        slug,
        st.sampled_from(("risk", "issue")),
        st.sampled_from(("R1", "R2")),
        st.sampled_from(("Red", "Amber")),
        st.sampled_from(("", "Green")),
        period,
    ),
    st.tuples(
        st.just("close"), slug, st.sampled_from(("risk", "issue")), st.sampled_from(("R1", "R2")), period
    ),
    st.tuples(
        st.just("reopen"), slug, st.sampled_from(("risk", "issue")), st.sampled_from(("R1", "R2")), period
    ),
    st.tuples(
        st.just("correct_risk"),
        slug,
        st.sampled_from(("risk", "issue")),
        st.sampled_from(("R1", "R2")),
        words,
    ),
    st.tuples(st.just("dependency"), slug, st.sampled_from(("D1", "D2")), st.sampled_from(("yes", "no", ""))),
    st.tuples(
        st.just("review"), slug, st.sampled_from(("D1", "D2")), st.sampled_from(("High", "Low")), period
    ),
    st.tuples(st.just("correct_dependency"), slug, st.sampled_from(("D1", "D2")), words),
    st.tuples(st.just("publish"), slug, period, st.sampled_from(("pack", "highlight"))),
    st.tuples(st.just("account"), st.sampled_from(("jo", "sam")), st.sampled_from(("officer", "auditor"))),
    st.tuples(
        st.just("role"),
        st.sampled_from(("jo", "sam")),
        st.sampled_from(("analyst", "officer")),
        st.booleans(),
    ),
    st.tuples(st.just("access"), st.sampled_from(("jo", "sam")), slug, st.booleans()),
    st.tuples(st.just("active"), st.sampled_from(("jo", "sam")), st.booleans()),
    st.tuples(st.just("password"), st.sampled_from(("jo", "sam"))),
    st.tuples(st.just("rename"), slug, words),
    st.tuples(st.just("scale"), slug, st.booleans()),
    st.tuples(st.just("link"), slug, ref, st.sampled_from(("jo", "sam", ""))),
    st.tuples(
        st.just("email"), st.sampled_from(("jo", "sam")), st.sampled_from(("jo@example.gov.uk", "x", ""))
    ),
    st.tuples(st.just("open"), slug, period, st.integers(-1, 120)),
    st.tuples(st.just("extend"), slug, period, st.integers(0, 150)),
    st.tuples(st.just("remind"), slug, st.sampled_from(("jo", "sam")), st.integers(0, 2), ref),
    st.tuples(st.just("define_scale"), st.sampled_from(tuple(CUSTOM_SCALES)), st.integers(0, 1)),
    st.tuples(st.just("retire"), slug, ref, period, st.sampled_from(("", *REFS))),
    st.tuples(st.just("reinstate"), slug, ref, period),
    st.tuples(st.just("due"), slug, ref, st.sampled_from(("", "2024-03-31", "31/12/2025"))),
    st.tuples(
        st.just("link_indicators"), slug, ref, st.lists(st.sampled_from(("FTE", "VAC", "NOPE")), max_size=2)
    ),
    st.tuples(st.just("note"), slug, ref, period, st.sampled_from(("merged into A2", "withdrawn"))),
    st.tuples(
        st.just("adopt"), slug, st.sampled_from((*CUSTOM_SCALES, "rag", "five-point")), st.booleans()
    ),
    # Review (issue 12): jo records and submits; pat, the programmes' manager, reviews.
    st.tuples(st.just("submit"), slug, ref, period),
    st.tuples(st.just("submit"), slug, ref, period),
    st.tuples(st.just("approve"), slug, ref, period),
    st.tuples(st.just("approve"), slug, ref, period),
    st.tuples(st.just("return"), slug, ref, period, words),
    st.tuples(st.just("publish_reviewed"), slug, period, words),
    # Dependencies agreed by both sides (issue 12): a programme, a team, or the same twice.
    st.tuples(
        st.just("sides"),
        slug,
        st.sampled_from(("D1", "D2")),
        *[st.sampled_from((*SLUGS, "Highways team"))] * 2,
    ),
    st.tuples(
        st.just("confirm"),
        slug,
        st.sampled_from(("D1", "D2")),
        st.sampled_from(("provider", "receiver")),
        st.sampled_from(("yes", "no", "")),
        st.sampled_from(("High", "Low")),
        period,
    ),
    *[REVIEWED] * 4,
    st.tuples(st.just("periods"), st.integers(1, 4)),
    # A background job's life (issue 14): steps its state refuses are not recorded.
    st.tuples(st.just("job"), st.lists(st.sampled_from(JOB_STEPS), max_size=6)),
    st.tuples(st.just("status"), st.just("trust"), st.just("T1"), period, st.sampled_from(STATUSES), words,
              words, words),
)


# Every generated history starts from two programmes with items, so most commands land.
PROLOGUE: list[tuple[Any, ...]] = [
    ("programme", "plan", "quarterly", "rag"),
    ("programme", "send", "monthly", "five-point"),
    *[("item", s, r, "") for s in SLUGS for r in REFS],
    ("indicator", "plan", "FTE", "lower"),
    ("account", "jo", "officer"),
    ("account", "pat", "programme manager"),
    *[("access", "pat", s, True) for s in SLUGS],
    ("programme", "trust", "custom", "rag"),
    ("periods", 2),
    ("item", "trust", "T1", ""),
    # Updates already in review, for the generated ops to change, resubmit and review.
    ("reviewed", "plan", "A1.2", 0, "Green", "Approved first", ["approve"]),
    ("reviewed", "send", "WS7", 0, "", "Returned first", ["return"]),
]


def apply(ledger: Ledger, cadences: dict[str, str], op: tuple[Any, ...]) -> None:
    """Run one generated command; commands the domain refuses are simply not recorded."""
    kind, *args = op

    def label(index: int, programme: str) -> str:
        return PERIODS[cadences.get(programme, "quarterly")][index]

    try:
        match kind:
            case "programme":
                s, cadence, scale = args
                ledger.register_programme(
                    s,
                    f"Programme {s}",
                    cadence=cadence,
                    scale=scale,
                    requires_mitigation=False,
                    actor="admin",
                )
                cadences[s] = cadence
            case "item":
                s, r, title = args
                ledger.register_item(
                    s,
                    r,
                    kind="action",
                    title=title or f"Item {r}",
                    parent_ref=PARENTS.get(r, ""),
                    actor="admin",
                )
            case "status" | "correct":
                s, r, p, status, update, mitigation, reason = args
                command = ledger.record_status if kind == "status" else ledger.correct_status
                command(
                    s,
                    r,
                    period=label(p, s),
                    status=status,
                    update=update,
                    mitigation=mitigation,
                    actor="jo",
                    reason=reason,
                )
            case "retitle":
                s, r, title = args
                ledger.retitle_item(s, r, title or "Untitled", actor="admin")
            case "move":
                ledger.move_item(args[0], args[1], args[2], actor="admin", reason="re-filed")
            case "kind":
                ledger.change_item_kind(args[0], args[1], args[2], actor="admin", reason="re-filed")
            case "details":
                s, description, mitigation = args
                ledger.change_programme_details(
                    s, name=f"Programme {s}", description=description, contact={},
                    requires_mitigation=mitigation, actor="admin", reason="new rule",
                )
            case "lead":
                ledger.reassign_lead(args[0], args[1], args[2], actor="admin")
            case "committee":
                ledger.change_committee(args[0], args[1], args[2], actor="admin")
            case "indicator":
                s, r, better = args
                ledger.define_indicator(s, r, name=r, better=better, actor="hr")
            case "redefine":
                s, r, better, unit = args
                ledger.redefine_indicator(
                    s, r, name=f"{r} {unit}".strip(), unit=unit, better=better, actor="hr", reason="restated"
                )
            case "value":
                s, r, p, value, breakdown, reason = args
                ledger.record_indicator_value(
                    s, r, period=label(p, s), value=value, breakdown=breakdown, actor="hr", reason=reason
                )
            case "narrative":
                s, p, section, text = args
                ledger.write_narrative(s, period=label(p, s), section=section, text=text, actor="pm")
            case "risk":
                s, k, r, before, after = args
                ledger.raise_risk(
                    s,
                    r,
                    kind=k,
                    description=f"{k} {r}",
                    rag_before=before,
                    rag_after=after,
                    period=label(0, s),
                    actor="risk",
                )
            case "rerate":
                s, k, r, before, after, p = args
                ledger.rerate_risk(
                    s,
                    r,
                    kind=k,
                    rag_before=before,
                    rag_after=after,
                    period=label(p, s),
                    actor="risk",
                    reason="Reviewed",
                )
            case "close" | "reopen":
                s, k, r, p = args
                command = ledger.close_risk if kind == "close" else ledger.reopen_risk
                command(s, r, kind=k, period=label(p, s), actor="risk", reason="Reviewed")
            case "correct_risk":
                s, k, r, text = args
                ledger.correct_risk(
                    s, r, kind=k, description=text or "Corrected", actor="risk", reason="Typo"
                )
            case "dependency":
                s, r, agreed = args
                ledger.register_dependency(
                    s, r, description=f"Dependency {r}", plan_agreed=agreed, period=label(0, s), actor="pm"
                )
            case "review":
                s, r, confidence, p = args
                ledger.review_dependency(
                    s, r, plan_agreed="yes", confidence=confidence, period=label(p, s), actor="pm"
                )
            case "correct_dependency":
                s, r, text = args
                ledger.correct_dependency(s, r, description=text or "Corrected", actor="pm", reason="Typo")
            case "publish":
                s, p, report = args
                ledger.publish_report(
                    s,
                    report=report,
                    period=label(p, s),
                    log_position=ledger.get_log_position(),
                    content_sha256="0" * 64,
                    title=f"{report} {p}",
                    actor="pm",
                    reason="Again",
                )
            case "account":
                ledger.open_account(args[0], display_name=args[0].title(), role=args[1], actor="admin")
            case "role":
                user, role, grant = args
                command = ledger.grant_role if grant else ledger.revoke_role
                command(user, role, actor="admin", reason="Job change")
            case "access":
                user, s, assign = args
                if assign:
                    ledger.assign_programme(user, s, actor="admin")
                else:
                    ledger.unassign_programme(user, s, actor="admin", reason="Moved on")
            case "active":
                user, active = args
                command = ledger.reactivate_account if active else ledger.deactivate_account
                command(user, actor="admin", reason="HR")
            case "password":
                ledger.record_password_set(args[0], actor="admin", reason="Reset at the person's request")
            case "rename":
                ledger.rename_programme(args[0], args[1] or "Renamed", actor="admin")
            case "scale":
                s, five = args
                ledger.change_scale(s, FIVE_POINT if five else RAG, actor="admin", reason="Board decision")
            case "link":
                s, r, user = args
                ledger.link_lead(s, r, user, actor="admin", reason="Leads it")
            case "email":
                ledger.set_email(args[0], args[1], actor="admin", reason="For reminders")
            case "open" | "extend":
                s, p, days = args
                # From the day before the period starts (refused) to well after it ends.
                start = Period.parse(label(p, s), cadences.get(s, "quarterly")).start
                due = start + timedelta(days=days)
                if kind == "open":
                    ledger.open_period(s, label(p, s), due_date=due, actor="pm")
                else:
                    ledger.extend_period(s, label(p, s), due_date=due, actor="pm", reason="Election")
            case "remind":
                s, user, day, r = args
                item = {"ref": r, "period": label(0, s), "due_date": "2024-07-15"}
                ledger.record_reminder(
                    s, user, day=date(2024, 7, 16 + day), items=[item], run="run", actor="remind"
                )
            case "define_scale":
                key, revision = args
                name, revisions = CUSTOM_SCALES[key]
                command = ledger.define_scale if revision == 0 else ledger.revise_scale
                command(key, name, revisions[revision], actor="admin", reason="Council decision")
            case "retire":
                s, r, p, into = args
                ledger.retire_item(s, r, period=label(p, s), merged_into=into, actor="pm", reason="Register")
            case "due":
                s, r, due = args
                ledger.set_item_due_date(s, r, due_date=due, actor="pm", reason="Replanned")
            case "link_indicators":
                s, r, refs = args
                ledger.link_item_indicators(s, r, indicators=refs, actor="pm", reason="Measured by")
            case "reinstate":
                s, r, p = args
                ledger.reinstate_item(s, r, period=label(p, s), actor="pm", reason="Back on the register")
            case "periods":  # the first n of trust's periods: a redefinition only adds
                ledger.define_periods("trust", TRUST_PERIODS[: args[0]], reason="More periods", actor="pm")
            case "note":
                s, r, p, note = args
                ledger.note_item(s, r, period=label(p, s), note=note, actor="pm")
            case "adopt":
                s, key, mapped = args
                new = ledger.find_scale(key)
                # Each old status onto the new status of the same category, else the first.
                mapping = {
                    old.name: next(
                        (n.name for n in new.statuses if n.category is old.category), new.statuses[0].name
                    )
                    for old in ledger.get_programme(s)["scale"].statuses
                }
                ledger.change_scale(
                    s, key, actor="admin", reason="New scale", mapping=mapping if mapped else None
                )
            case "submit":
                s, r, p = args
                ledger.submit_update(s, r, period=label(p, s), actor="jo")
            case "approve":
                s, r, p = args
                ledger.approve_update(s, r, period=label(p, s), actor="pat", comment="Fine")
            case "return":
                s, r, p, comment = args
                ledger.return_update(s, r, period=label(p, s), comment=comment, actor="pat")
            case "reviewed":
                s, r, p, status, update, steps = args
                ledger.save_update(s, r, period=label(p, s), status=status, update=update, actor="jo")
                for step in steps:
                    # A step the state refuses (approving a returned update...) records nothing.
                    with contextlib.suppress(LedgerError):
                        apply_review_step(ledger, s, r, label(p, s), step)
            case "sides":
                s, r, provider, receiver = args
                ledger.name_dependency_sides(s, r, provider=provider, receiver=receiver, actor="pm")
            case "confirm":
                s, r, side, agreed, confidence, p = args
                ledger.confirm_dependency_side(
                    s, r, side=side, plan_agreed=agreed, confidence=confidence, period=label(p, s), actor="pm"
                )
            case "publish_reviewed":
                s, p, override = args
                ledger.publish_report(
                    s,
                    report="pack",
                    period=label(p, s),
                    log_position=ledger.get_log_position(),
                    content_sha256="1" * 64,
                    title=f"pack {p}",
                    actor="pat",
                    reason="Again",
                    refs=["A1.1", "WS7"],
                    override_reason=override,
                )
            case "job":
                (steps,) = args
                job = ledger.queue_job(
                    "import", file_sha256="2" * 64, file_name="plan.xlsx", file_size=100,
                    options={"stored": "upload.xlsx"}, actor="pat",
                )
                for step in steps:
                    apply_job_step(ledger, job, step)
    except (LedgerError, AggregateNotFoundError):
        pass  # refused by the domain (or the programme doesn't exist): nothing recorded


def apply_job_step(ledger: Ledger, job: UUID, step: str) -> None:
    if step == "start":
        ledger.start_job(job, worker="w1", lease_seconds=30)
    elif step == "progress":
        ledger.job_progress(job, worker="w1", stage="recording", done=1, total=2, lease_seconds=30)
    elif step == "finish":
        ledger.finish_job(job, worker="w1", result={"summary": "Recorded 1 event."})
    elif step == "fail":
        ledger.fail_job(job, worker="w1", problem="The disk was full.")
    elif step == "expire":
        ledger.expire_job(job, actor="w2", now=datetime.now(UTC) + timedelta(minutes=5))
    else:
        ledger.retry_job(job, actor="pat")


def apply_review_step(ledger: Ledger, s: str, r: str, period: str, step: str) -> None:
    if step == "approve":
        ledger.approve_update(s, r, period=period, actor="pat")
    elif step == "return":
        ledger.return_update(s, r, period=period, comment="Say more", actor="pat")
    elif step == "change":
        current = ledger.get_review(s, r, period)
        ledger.correct_status(
            s, r, period=period, status="", update=f"changed after {current and current['state']}",
            actor="jo", reason="Late news",
        )  # fmt: skip
    else:
        ledger.submit_update(s, r, period=period, actor="jo")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=40), st.integers(1, 7))
def test_incremental_projection_equals_a_rebuild_from_zero(
    ops: list[tuple[Any, ...]], page_size: int
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory)
        system = open_system(data)  # catches up after every command
        try:
            cadences: dict[str, str] = {}
            for op in [*PROLOGUE, *ops]:
                apply(system.ledger, cadences, op)
                system.projector.catch_up()  # commands already did; a bare save() doesn't
            live = dump(system.projections_db)
            # A rebuild in pages of 1,000, and one in tiny pages that split the history.
            build(system.ledger, data / "rebuilt.db")
            build(system.ledger, data / "paged.db", page_size=page_size)
        finally:
            system.close()
        assert dump(data / "rebuilt.db") == live
        assert dump(data / "paged.db") == live
        for word in ("recruitment", "supplier"):
            assert sorted(map(repr, queries.search(data / "rebuilt.db", word))) == sorted(
                map(repr, queries.search(data / "projections.db", word))
            )


def test_generated_commands_cover_every_handler() -> None:
    """The generator above exercises every event type the projector handles."""
    with tempfile.TemporaryDirectory() as directory:
        ledger = Ledger(env=event_store_env(directory))
        try:
            cadences: dict[str, str] = {}
            script = [
                ("programme", "plan", "quarterly", "rag"),
                ("item", "plan", "A1", ""),
                ("item", "plan", "A1.1", "t"),
                ("status", "plan", "A1.1", 0, "Amber", "u", "m", ""),
                ("correct", "plan", "A1.1", 0, "Red", "u", "m", "r"),
                ("retitle", "plan", "A1.1", "new"),
                ("item", "plan", "A2", ""),
                ("move", "plan", "A1.1", "A2"),
                ("kind", "plan", "A1.1", "priority"),
                ("details", "plan", "Our plan", True),
                ("lead", "plan", "A1.1", "sam"),
                ("committee", "plan", "A1.1", "CPC"),
                ("indicator", "plan", "FTE", "higher"),
                ("value", "plan", "FTE", 0, 1, "", ""),
                ("value", "plan", "FTE", 0, 2, "", "fix"),
                ("value", "plan", "FTE", 1, 3, "", ""),
                ("redefine", "plan", "FTE", "lower", "%"),
                ("narrative", "plan", 0, "achievements", "x"),
                ("risk", "plan", "risk", "R1", "Red", ""),
                ("rerate", "plan", "risk", "R1", "Amber", "Green", 1),
                ("close", "plan", "risk", "R1", 1),
                ("reopen", "plan", "risk", "R1", 1),
                ("correct_risk", "plan", "risk", "R1", "x"),
                ("dependency", "plan", "D1", "yes"),
                ("review", "plan", "D1", "High", 1),
                ("correct_dependency", "plan", "D1", "x"),
                ("sides", "plan", "D1", "Highways team", "plan"),
                ("confirm", "plan", "D1", "provider", "yes", "High", 1),
                ("publish", "plan", 0, "pack"),
                ("publish", "plan", 0, "pack"),
                ("account", "jo", "officer"),
                ("role", "jo", "analyst", True),
                ("role", "jo", "analyst", False),
                ("access", "jo", "plan", True),
                ("access", "jo", "plan", False),
                ("active", "jo", False),
                ("active", "jo", True),
                ("password", "jo"),
                ("rename", "plan", "x"),
                ("scale", "plan", True),
                ("link", "plan", "A1.1", "jo"),
                ("email", "jo", "jo@example.gov.uk"),
                ("open", "plan", 0, 10),
                ("extend", "plan", 0, 20),
                ("remind", "plan", "jo", 0, "A1.1"),
                ("define_scale", "outcomes", 0),
                ("define_scale", "outcomes", 1),
                ("adopt", "plan", "outcomes", True),
                ("retire", "plan", "A1.1", 2, "A1"),
                ("reinstate", "plan", "A1.1", 3),
                ("note", "plan", "A1.1", 2, "merged into A1"),
                ("due", "plan", "A1.1", "2024-03-31"),
                ("link_indicators", "plan", "A1.1", ["FTE"]),
                ("account", "pat", "programme manager"),
                ("access", "pat", "plan", True),
                ("item", "plan", "WS7", ""),
                ("status", "plan", "WS7", 0, "Achieved", "u", "", ""),
                ("submit", "plan", "WS7", 0),
                ("return", "plan", "WS7", 0, "Say more"),
                ("submit", "plan", "WS7", 0),  # an officer may resubmit after a return
                ("approve", "plan", "WS7", 0),
                ("status", "plan", "WS7", 0, "Achieved", "u2", "", ""),
                ("publish_reviewed", "plan", 0, "Committee today"),
                ("programme", "trust", "custom", "rag"),
                ("periods", 2),
                ("job", ["start", "progress", "fail", "retry", "start", "finish"]),
            ]
            for op in script:
                apply(ledger, cadences, op)
            seen = {
                type(ledger.mapper.to_domain_event(n)).__qualname__
                for n in ledger.recorder.select_notifications(start=None, limit=1000)
            }
        finally:
            ledger.close()
    assert set(HANDLERS) - seen == {"Programme.ContactChanged"}  # no generator op; covered below


def test_contact_changes_are_projected(system: System) -> None:
    system.ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="a")
    system.ledger.change_contact(PLAN, {"name": "Jo", "email": "jo@example.gov.uk"}, actor="a")
    programme = queries.get_programme(system.projections_db, PLAN)
    assert programme is not None
    assert programme["contact"] == {"name": "Jo", "phone": "", "email": "jo@example.gov.uk"}


# ------------------------------------------------------------------ failures never half-apply


def many_events(ledger: Ledger) -> None:
    record_plan(ledger)
    record_send(ledger)


def fail_on_call(n: int, handlers: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Handlers that raise on the n-th event they are given."""
    calls = {"count": 0}

    def wrap(handler: Callable[..., Any]) -> Callable[..., Any]:
        def failing(event: Any, state: Any) -> Any:
            calls["count"] += 1
            if calls["count"] == n:
                raise RuntimeError("disk on fire")
            return handler(event, state)

        return failing

    return {name: wrap(handler) for name, handler in handlers.items()}


def test_a_handler_failing_half_way_through_a_page_leaves_nothing_of_it(
    ledger: Ledger, tmp_path: Path
) -> None:
    many_events(ledger)
    path = tmp_path / "live.db"
    projector = Projector(ledger, path, handlers=HANDLERS)
    try:
        projector.catch_up(stop=20)
        before = dump(path)
        assert projector.position == 20
        projector.handlers = fail_on_call(15, HANDLERS)  # the 15th event of the next page
        with pytest.raises(ProjectionFailed, match="disk on fire") as failure:
            projector.catch_up()
        assert failure.value.position == 35
        assert isinstance(failure.value.__cause__, RuntimeError)
        assert dump(path) == before
        assert projector.position == 20
        projector.handlers = HANDLERS  # the fault is fixed: catch up completes
        projector.catch_up()
        assert projector.position == ledger.get_log_position()
    finally:
        projector.close()
    build(ledger, tmp_path / "rebuilt.db")
    assert dump(path) == dump(tmp_path / "rebuilt.db")


def test_a_failure_while_writing_the_position_rolls_the_page_back(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many_events(ledger)
    path = tmp_path / "live.db"
    projector = Projector(ledger, path, handlers=HANDLERS)
    try:
        projector.catch_up(stop=10)
        before = dump(path)

        def crash(position: int) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(projector, "_write_position", crash)  # after the rows were flushed
        with pytest.raises(ProjectionFailed, match="disk full"):
            projector.catch_up()
        assert dump(path) == before
        monkeypatch.undo()
        projector.catch_up()
    finally:
        projector.close()
    build(ledger, tmp_path / "rebuilt.db")
    assert dump(path) == dump(tmp_path / "rebuilt.db")


def test_an_unknown_event_type_stops_the_projection_loudly(ledger: Ledger, tmp_path: Path) -> None:
    many_events(ledger)
    handlers = dict(HANDLERS)
    del handlers["Item.StatusCorrected"]
    projector = Projector(ledger, tmp_path / "live.db", handlers=handlers)
    try:
        with pytest.raises(ProjectionFailed, match=r"No projection handler for Item\.StatusCorrected"):
            projector.catch_up()
        assert projector.position == 0
    finally:
        projector.close()


def test_a_process_killed_mid_page_leaves_the_last_committed_page(ledger: Ledger, tmp_path: Path) -> None:
    many_events(ledger)
    path = tmp_path / "live.db"
    projector = Projector(ledger, path, handlers=HANDLERS, page_size=25)
    projector.catch_up(stop=25)
    projector.close()
    before = dump(path)
    # Another process applies half of the next page, then dies without a word.
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
        from ledger.application import Ledger
        from ledger.config import event_store_env
        from projections.handlers import HANDLERS
        from projections.projector import Projector
        ledger = Ledger(env=event_store_env({str(ledger_dir(ledger))!r}))
        calls = []
        def dying(name):
            def handler(event, state):
                calls.append(1)
                if len(calls) == 12:
                    os._exit(9)
                return HANDLERS[name](event, state)
            return handler
        Projector(ledger, {str(path)!r}, page_size=25, handlers={{n: dying(n) for n in HANDLERS}}).catch_up()
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 9, result.stderr
    assert dump(path) == before
    projector = Projector(ledger, path, handlers=HANDLERS)
    try:
        assert projector.position == 25
        projector.catch_up()
    finally:
        projector.close()
    build(ledger, tmp_path / "rebuilt.db")
    assert dump(path) == dump(tmp_path / "rebuilt.db")


def ledger_dir(ledger: Ledger) -> Path:
    return Path(ledger.env["SQLITE_DBNAME"]).parent


def test_a_small_cache_gives_the_same_read_model(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many_events(ledger)
    build(ledger, tmp_path / "roomy.db")
    monkeypatch.setattr(state_module, "CACHE_LIMIT", 3)  # evicts after nearly every page
    build(ledger, tmp_path / "cramped.db", page_size=4)
    live = Projector(ledger, tmp_path / "live.db", handlers=HANDLERS, page_size=5)
    try:
        live.catch_up()
    finally:
        live.close()
    assert dump(tmp_path / "cramped.db") == dump(tmp_path / "roomy.db") == dump(tmp_path / "live.db")


def test_two_projectors_on_one_file_never_apply_an_event_twice(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    first, second = Projector(ledger, path, handlers=HANDLERS), Projector(ledger, path, handlers=HANDLERS)
    try:
        record_plan(ledger)
        first.catch_up()
        assert second.catch_up() == 0  # nothing left for the second
        record_send(ledger)
        second.catch_up()
        ledger.record_status(
            PLAN,
            "A1.1.1",
            period=Q1,
            status="Red",
            update="Worse",
            mitigation="m",
            actor="jo",
            reason="New facts",
        )
        first.catch_up()  # its cache is stale: it must notice the second moved on
    finally:
        first.close()
        second.close()
    build(ledger, tmp_path / "rebuilt.db")
    assert dump(path) == dump(tmp_path / "rebuilt.db")


# ------------------------------------------------------------------ rebuild and snapshots


def test_rebuild_replaces_the_read_model_while_a_reader_has_it_open(data_dir: Path) -> None:
    system = open_system(data_dir)
    try:
        record_plan(system.ledger)
        expected = dump(system.projections_db)
        reader = sqlite3.connect(system.projections_db)  # Datasette, say, holding it open
        assert reader.execute("SELECT count(*) FROM items").fetchone() == (7,)
        with sqlite3.connect(system.projections_db) as vandal:  # the read model is damaged
            vandal.execute("DELETE FROM items")
        vandal.close()
        progress: list[tuple[int, int]] = []
        assert rebuild(data_dir, progress=lambda done, total: progress.append((done, total))) == (
            system.ledger.get_log_position()
        )
        assert progress[-1] == (system.ledger.get_log_position(),) * 2
        assert reader.execute("SELECT count(*) FROM items").fetchone() == (7,)
        assert reader.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        reader.close()
        assert dump(system.projections_db) == expected
        assert not list(data_dir.glob(".projections.db.rebuild-*"))
        # The live projector carries on writing to the rebuilt file.
        system.ledger.record_status(
            PLAN,
            "A1.1.11",
            period=Q1,
            status="Green",
            update="Kaleidoscope pilot started",
            actor="ali",
            reason="Started early",
        )
        assert queries.get_summary(system.projections_db, PLAN, Q1)["statuses"][0]["count"] == 3
        # ...and its full-text index with it (the rebuilt file has the triggers too).
        assert [f["ref"] for f in queries.search(system.projections_db, "kaleidoscope")] == ["A1.1.11"]
    finally:
        system.close()
    rebuild(data_dir)
    with open_system(data_dir) as again:
        assert dump(again.projections_db) == dump(system.projections_db)


def test_an_out_of_date_read_model_is_rebuilt_on_open(data_dir: Path) -> None:
    with open_system(data_dir) as system:
        record_plan(system.ledger)
        expected = dump(system.projections_db)
        with sqlite3.connect(system.projections_db) as conn:
            conn.execute("UPDATE projection_position SET schema_version = ?", (SCHEMA_VERSION - 1,))
            conn.execute("DELETE FROM period_ratings")
        conn.close()
    with open_system(data_dir) as reopened:
        assert dump(reopened.projections_db) == expected


def test_a_read_model_ahead_of_the_log_is_rebuilt_on_open(tmp_path: Path) -> None:
    """Say the event store was restored from an older backup: the read model must not
    keep showing events that are no longer in the log."""
    with open_system(tmp_path / "newer") as newer:
        record_plan(newer.ledger)
    with open_system(tmp_path / "older") as older:
        older.ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="a")
        expected = dump(older.projections_db)
    shutil.copy(tmp_path / "newer" / "projections.db", tmp_path / "older" / "projections.db")
    with open_system(tmp_path / "older") as reopened:
        assert dump(reopened.projections_db) == expected


def test_a_snapshot_as_at_a_position_is_what_the_live_read_model_showed_then(data_dir: Path) -> None:
    with open_system(data_dir) as system:
        record_plan(system.ledger)
        position = publish_pack(system.ledger)
        then = dump(system.projections_db)
        published_at = system.ledger.get_log_position()
        system.ledger.correct_status(
            PLAN,
            "A1.1.1",
            period=Q1,
            status="Red",
            update="Worse",
            mitigation="m",
            actor="jo",
            reason="Late news",
        )
        record_send(system.ledger)
        stopped = data_dir / "stopped.db"
        build(system.ledger, stopped, stop=published_at)
        shot = snapshot_with(system.ledger, data_dir / "as-at.db", published_at)
    assert (shot.position, shot.as_at, shot.events) == (
        published_at,
        f"position {published_at}",
        published_at,
    )
    assert data_tables(dump(shot.path)) == data_tables(then) == data_tables(dump(stopped))
    tracking = (
        sqlite3.connect(shot.path).execute("SELECT position, as_at FROM projection_position").fetchone()
    )
    assert tracking == (published_at, f"position {published_at}")
    assert [e["status"] for e in queries.get_exceptions(shot.path, PLAN, Q1)] == ["Amber", "Amber"]
    assert position < published_at


def test_a_snapshot_as_at_a_time_includes_events_recorded_at_or_before_it(data_dir: Path) -> None:
    with open_system(data_dir) as system:
        record_plan(system.ledger)
        time.sleep(0.01)
        moment = datetime.now(UTC)
        then = dump(system.projections_db)
        time.sleep(0.01)
        system.ledger.correct_status(
            PLAN,
            "A1.1.1",
            period=Q1,
            status="Red",
            update="Worse",
            mitigation="m",
            actor="jo",
            reason="Late news",
        )
        last_before = system.ledger.get_log_position() - 1
    shot = snapshot(data_dir, data_dir / "then.db", moment.isoformat())
    assert data_tables(dump(shot.path)) == data_tables(then)
    assert (shot.position, shot.as_at) == (last_before, moment.isoformat())
    # The same moment written naively (UTC) or as a bare date (the end of that day).
    naive = snapshot(data_dir, data_dir / "naive.db", moment.replace(tzinfo=None).isoformat())
    assert data_tables(dump(naive.path)) == data_tables(then)
    day = snapshot(data_dir, data_dir / "day.db", moment.date().isoformat())
    assert day.position == last_before + 1
    with pytest.raises(FileExistsError):
        snapshot(data_dir, data_dir / "day.db", 3)
    with pytest.raises(ValueError, match="Refusing"):
        snapshot(data_dir, data_dir / "projections.db", 3)


# ------------------------------------------------------------------ command line


def invoke(command: Any, args: list[str], data_dir: Path) -> Any:
    return CliRunner().invoke(command, args, obj=SimpleNamespace(data_dir=data_dir), catch_exceptions=False)


def test_the_rebuild_and_snapshot_commands(data_dir: Path) -> None:
    with open_system(data_dir) as system:
        record_plan(system.ledger)
        position = system.ledger.get_log_position()
    result = invoke(rebuild_command, [], data_dir)
    assert result.exit_code == 0, result.output
    assert f"from {position:,} events" in result.output
    result = invoke(snapshot_command, ["--as-at", "10", "--out", str(data_dir / "ten.db")], data_dir)
    assert result.exit_code == 0, result.output
    assert "up to log position 10" in result.output
    assert queries.get_projection_position(data_dir / "ten.db") == 10
    again = invoke(snapshot_command, ["--as-at", "10", "--out", str(data_dir / "ten.db")], data_dir)
    assert again.exit_code == 1 and "--force" in again.output
    bad = invoke(snapshot_command, ["--as-at", "last Tuesday", "--out", str(data_dir / "x.db")], data_dir)
    assert bad.exit_code == 2 and "neither a log position" in bad.output
    # The data directory may also come as a dict on the context.
    result = CliRunner().invoke(rebuild_command, [], obj={"data_dir": data_dir})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", [rebuild_command, snapshot_command])
def test_every_command_explains_itself(command: Any) -> None:
    result = CliRunner().invoke(command, ["--help"])
    assert result.exit_code == 0
    assert len(command.help or "") > 100
    for param in command.params:
        if param.name != "help":
            assert param.help, f"--{param.name} needs help text"


def test_the_tracking_row_names_the_projection(system: System) -> None:
    system.ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="a")
    conn = sqlite3.connect(system.projections_db)
    assert conn.execute("SELECT * FROM projection_position").fetchall() == [
        (PROJECTION, 1, SCHEMA_VERSION, None)
    ]
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
