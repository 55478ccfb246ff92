"""Two officers saving the same item from the same version: exactly one wins, the other
gets a Conflict naming who changed what, and nothing is overwritten."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from ledger.application import open_ledger
from ledger.errors import Conflict
from ledger.store import verify

PLAN = "plan"
Q1 = "2024/25 Q1"


def _rate(data_dir: str, actor: str, status: str, barrier: Any, results: Any) -> None:
    results.put((actor, _rate_once(data_dir, actor, status, barrier)))


def _rate_once(data_dir: str, actor: str, status: str, barrier: Any) -> str:
    """Load the item, wait until the other process has loaded it too, then save."""
    ledger = open_ledger(data_dir)
    try:
        with ledger.batch() as batch:
            owner = batch.programme(PLAN)
            item = batch.item(owner, "A1")
            item.record_status(
                owner, period=Q1, status=status, update=f"{actor}'s update", mitigation="In hand", actor=actor
            )
            barrier.wait(timeout=30)
        return "saved"
    except Conflict as conflict:
        return f"conflict: {conflict}"
    finally:
        ledger.close()


def test_two_writers_from_the_same_version_one_wins_one_is_told(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path)
    ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="pm")
    ledger.register_item(PLAN, "A1", kind="action", title="Action", actor="pm")
    ledger.close()

    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(2), context.Queue()
    writers = [
        context.Process(target=_rate, args=(str(tmp_path), actor, status, barrier, queue))
        for actor, status in (("officer.a", "Amber"), ("officer.b", "Red"))
    ]
    for writer in writers:
        writer.start()
    results = dict(queue.get(timeout=60) for _ in writers)
    for writer in writers:
        writer.join(timeout=60)

    assert sorted(r.split(":")[0] for r in results.values()) == ["conflict", "saved"]
    winner = next(actor for actor, r in results.items() if r == "saved")
    conflict = next(r for r in results.values() if r.startswith("conflict"))
    assert f"changed by {winner}" in conflict and "Nothing has been saved" in conflict

    ledger = open_ledger(tmp_path)
    try:
        rating = ledger.get_item(PLAN, "A1")["ratings"][Q1]
        assert rating["actor"] == winner and rating["update"] == f"{winner}'s update"
        assert ledger.get_log_position() == 3
    finally:
        ledger.close()
    assert verify(tmp_path / "events.db").ok


def _rate_many(data_dir: str, refs: list[str]) -> None:
    ledger = open_ledger(data_dir)
    try:
        for ref in refs:
            ledger.record_status(PLAN, ref, period=Q1, status="Green", update=f"{ref} on track", actor=ref)
    finally:
        ledger.close()


def test_several_processes_rating_different_items_lose_nothing_and_the_chain_verifies(
    tmp_path: Path,
) -> None:
    refs = [f"A{n}" for n in range(1, 41)]
    ledger = open_ledger(tmp_path)
    ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="pm")
    with ledger.batch() as batch:
        for ref in refs:
            ledger.register_item(PLAN, ref, kind="action", title=ref, actor="pm", batch=batch)
    before = ledger.get_log_position()
    ledger.close()

    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_rate_many, args=(str(tmp_path), refs[i::4])) for i in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [w.exitcode for w in writers] == [0, 0, 0, 0]

    ledger = open_ledger(tmp_path)
    try:
        assert ledger.get_log_position() == before + len(refs)
        for ref in refs:
            assert ledger.get_item(PLAN, ref)["ratings"][Q1]["update"] == f"{ref} on track"
    finally:
        ledger.close()
    result = verify(tmp_path / "events.db")
    assert result.ok and result.events == before + len(refs)
