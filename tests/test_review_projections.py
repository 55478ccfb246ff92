"""Review in the read model (issue 12, item 8): review_state row by row, the publication's
record of the approvals it relied on, the canned Datasette queries, and live == rebuild."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from test_projections_support import data_tables, dump

from ledger.domain import content_sha256
from projections.datasette_config import make_datasette
from projections.queries import review as review_queries
from projections.system import System, build

PLAN = "plan"
Q1 = "2024/25 Q1"


def cycle(system: System) -> None:
    ledger = system.ledger
    ledger.register_programme(PLAN, "Council Plan", cadence="quarterly", actor="admin")
    for ref in ("A1", "A2", "A3", "A4"):
        ledger.register_item(PLAN, ref, kind="action", title=f"Action {ref}", actor="admin")
    ledger.open_account("owen", display_name="Owen Officer", role="officer", actor="admin")
    ledger.open_account("pat", display_name="Pat Manager", role="programme manager", actor="admin")
    ledger.assign_programme("pat", PLAN, actor="admin", reason="manages it")
    ledger.open_period(PLAN, Q1, due_date="2024-07-15", actor="pat")
    for ref in ("A1", "A2", "A3"):
        ledger.save_update(PLAN, ref, period=Q1, status="Green", update=f"{ref} on track", actor="owen")
    ledger.approve_update(PLAN, "A1", period=Q1, actor="pat")
    ledger.approve_update(PLAN, "A2", period=Q1, actor="pat")
    ledger.record_status(PLAN, "A2", period=Q1, status="Green", update="A2 on track, nearly", actor="owen")
    ledger.record_status(PLAN, "A4", period=Q1, status="Green", update="never submitted", actor="owen")
    ledger.return_update(PLAN, "A3", period=Q1, comment="Which wards?", actor="pat")
    ledger.save_update(PLAN, "A3", period=Q1, status="Green", update="A3: all wards", actor="owen")
    ledger.publish_report(
        PLAN,
        report="pack",
        period=Q1,
        log_position=ledger.get_log_position(),
        content_sha256="c" * 64,
        title="Q1 pack",
        actor="pat",
        refs=["A1", "A2", "A3", "A4"],
        override_reason="Committee meets today",
    )


def test_review_state_rows_hashes_and_the_publication_record(system: System) -> None:
    cycle(system)
    db = system.projections_db
    states = review_queries.get_review_states(db, PLAN, Q1)
    assert {ref: (r["state"], r["superseded"]) for ref, r in states.items()} == {
        "A1": ("approved", 0),
        "A2": ("superseded", 1),
        "A3": ("submitted", 0),
    }
    a2 = states["A2"]
    assert a2["approved_sha256"] == content_sha256("Green", "A2 on track", "")
    assert a2["content_sha256"] == content_sha256("Green", "A2 on track, nearly", "")
    assert (a2["approved_by"], a2["by"]) == ("pat", "owen")
    a3 = states["A3"]
    assert (a3["returns"], a3["comment"], a3["submitted_by"]) == (1, "Which wards?", "owen")
    assert review_queries.get_review_summary(db, PLAN, Q1) == {
        "draft": 1, "submitted": 1, "approved": 1, "returned": 0, "superseded": 1,
    }  # fmt: skip
    queue = review_queries.get_review_queue(db, programmes=[PLAN], reviewer="pat")
    assert [(r["ref"], r["update"]) for r in queue] == [("A3", "A3: all wards")]
    assert review_queries.get_review_queue(db, programmes=[PLAN], reviewer="owen") == []  # own updates
    [published] = [p for p in _rows(db, "publications")]
    assert (published["review_checked"], published["approved_items"]) == (1, 1)
    assert json.loads(published["approvals"]) == [
        {"by": "pat", "content_sha256": content_sha256("Green", "A1 on track", ""), "ref": "A1"}
    ]
    assert (published["not_approved"], published["override_reason"]) == (
        "A2, A3, A4",
        "Committee meets today",
    )


def test_live_equals_rebuild(system: System, tmp_path: Path) -> None:
    cycle(system)
    build(system.ledger, tmp_path / "rebuilt.db")
    assert data_tables(dump(tmp_path / "rebuilt.db")) == data_tables(dump(system.projections_db))


def _rows(db: Path, table: str) -> list[dict[str, Any]]:
    return review_queries.rows(db, f"SELECT * FROM {table}")  # type: ignore[attr-defined]


def canned(db: Path, name: str, actor: str, roles: list[str], **params: str) -> list[dict[str, Any]]:
    ds = make_datasette(db)

    async def request() -> Any:
        cookies = {"ds_actor": ds.sign({"a": {"id": actor, "roles": roles}}, "actor")}
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return await ds.client.get(f"/{db.stem}/{name}.json?_shape=array&{query}", cookies=cookies)

    response = asyncio.run(request())
    assert response.status_code == 200, response.text
    return response.json()


def test_datasette_awaiting_my_review_is_the_signed_in_reviewers_and_approved_then_changed(
    system: System,
) -> None:
    cycle(system)
    db = system.projections_db
    mine = canned(db, "awaiting_my_review", "pat", ["programme manager"])
    assert [(r["ref"], r["submitted_by"]) for r in mine] == [("A3", "owen")]
    assert canned(db, "awaiting_my_review", "owen", ["officer"]) == []
    changed = canned(db, "approved_then_changed", "ann", ["auditor"], programme="")
    assert [(r["ref"], r["approved_sha256"], r["changed_sha256"]) for r in changed] == [
        ("A2", content_sha256("Green", "A2 on track", ""), content_sha256("Green", "A2 on track, nearly", ""))
    ]


def test_publishing_the_built_report_is_blocked_until_overridden_with_a_reason(system: System) -> None:
    import pytest

    from ledger.application.review import ReviewIncomplete
    from projections.reports import publish

    cycle(system)  # A2 superseded, A3 awaiting review, A4 a draft: not approved
    with pytest.raises(ReviewIncomplete, match="not approved"):
        publish.publish(system, PLAN, "committee", Q1, actor="pat")
    assert publish.list_editions(system.ledger, PLAN, "committee", Q1) == []
    edition = publish.publish(system, PLAN, "committee", Q1, actor="pat", override_reason="Committee today")
    review = system.ledger.get_publication(PLAN, "committee", Q1)["editions"][edition.edition - 1]["review"]  # type: ignore[index]
    assert review["override_reason"] == "Committee today"
    assert [a["ref"] for a in review["approvals"]] == ["A1"]
