"""A rebuild derives its ratings in one pass at the end (projections.ratings_at_end): it must
give what the handlers give live, row for row, whatever the history of each period."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
import test_projections_replay as replay
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_projections_support import PLAN, Q1, dump

from ledger.scales import FIVE_POINT
from projections.handlers import HANDLERS
from projections.ratings_at_end import RatingsAtEnd
from projections.system import build, open_system, rebuild

# Histories crowded with what the pass must get right: re-ratings and revised updates of
# the same period, corrections, scale changes (earlier periods keep their old scale),
# retirements and reviews, on few items and periods so they collide.
_ref = st.sampled_from(("A1", "A1.1", "T1"))
_period = st.integers(0, 2)
_status = st.sampled_from(("Green", "Amber", "Red", "", "Amber/Green", "Achieved", "Not started"))
_words = st.sampled_from(("on track", "recruitment", ""))
RATINGS = st.one_of(
    *[st.tuples(st.just("status"), replay.slug, _ref, _period, _status, _words, _words, _words)] * 4,
    *[st.tuples(st.just("correct"), replay.slug, _ref, _period, _status, _words, _words, _words)] * 2,
    st.tuples(st.just("status"), st.just("trust"), st.just("T1"), _period, _status, _words, _words, _words),
    st.tuples(st.just("scale"), replay.slug, st.booleans()),
    st.tuples(st.just("define_scale"), st.sampled_from(tuple(replay.CUSTOM_SCALES)), st.integers(0, 1)),
    st.tuples(
        st.just("adopt"),
        replay.slug,
        st.sampled_from((*replay.CUSTOM_SCALES, "rag", "five-point")),
        st.booleans(),
    ),
    st.tuples(st.just("retire"), replay.slug, _ref, _period, st.just("")),
    st.tuples(st.just("reinstate"), replay.slug, _ref, _period),
    st.tuples(st.just("retitle"), replay.slug, _ref, _words),
    st.tuples(st.just("link"), replay.slug, _ref, st.sampled_from(("jo", ""))),
    replay.REVIEWED,
    st.tuples(st.just("open"), replay.slug, _period, st.integers(-1, 120)),
    st.tuples(st.just("periods"), st.integers(1, 4)),
)


def _live_and_rebuilt(ops: list[tuple[Any, ...]], page_size: int) -> tuple[dict[str, Any], ...]:
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory)
        system = open_system(data)
        try:
            cadences: dict[str, str] = {}
            for op in [*replay.PROLOGUE, *ops]:
                replay.apply(system.ledger, cadences, op)
                system.projector.catch_up()
            live = dump(system.projections_db)
            build(system.ledger, data / "at-end.db", ratings_at_end=True)
            build(system.ledger, data / "paged.db", ratings_at_end=True, page_size=page_size)
        finally:
            system.close()
        rebuild(data)  # `govledger rebuild`: the ratings at the end, installed over the live file
        return live, dump(data / "at-end.db"), dump(data / "paged.db"), dump(data / "projections.db")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(RATINGS, min_size=1, max_size=40), st.integers(1, 7))
def test_ratings_derived_at_the_end_equal_the_handlers_live(
    ops: list[tuple[Any, ...]], page_size: int
) -> None:
    live, at_end, paged, rebuilt = _live_and_rebuilt(ops, page_size)
    assert at_end == live
    assert paged == live
    assert {k: v for k, v in rebuilt.items() if k != "projection_position"} == {
        k: v for k, v in live.items() if k != "projection_position"
    }


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(replay.operation, min_size=1, max_size=40))
def test_every_kind_of_history_rebuilds_to_the_live_read_model(ops: list[tuple[Any, ...]]) -> None:
    live, at_end, _, _ = _live_and_rebuilt(ops, 3)
    assert at_end == live


def test_a_period_rated_revised_corrected_and_rescaled_rebuilds_as_it_was_projected(tmp_path: Path) -> None:
    """One period's every kind of change, and a scale change that leaves an earlier
    period on its old scale: the rows each derived part of the pass writes."""
    with open_system(tmp_path) as system:
        ledger = system.ledger
        ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="admin")
        ledger.register_item(PLAN, "A1", kind="action", title="Housing", actor="admin")
        ledger.register_item(PLAN, "A2", kind="action", title="Schools", actor="admin")
        rate = ledger.record_status
        rate(PLAN, "A1", period=Q1, status="Green", update="Fine", actor="jo")
        rate(PLAN, "A2", period=Q1, status="Green", update="Fine too", actor="jo")
        rate(PLAN, "A1", period=Q1, status="Green", update="Still fine", actor="jo", reason="More")
        rate(
            PLAN,
            "A1",
            period=Q1,
            status="Amber",
            update="Slipping",
            mitigation="Plan",
            actor="jo",
            reason="Worse",
        )
        ledger.correct_status(PLAN, "A2", period=Q1, status="Red", update="Late", mitigation="m",
                              actor="jo", reason="Late news")  # fmt: skip
        rate(PLAN, "A1", period="2024/25 Q2", status="Green", update="Back", actor="jo")
        ledger.change_scale(PLAN, FIVE_POINT, actor="admin", reason="Five points")
        rate(
            PLAN, "A2", period="2024/25 Q2", status="Amber/Green", update="Better", mitigation="m", actor="jo"
        )
        rate(
            PLAN,
            "A1",
            period=Q1,
            status="Red",
            update="Worse after all",
            mitigation="m",
            actor="jo",
            reason="Late",
        )
        live = dump(system.projections_db)
    rebuild(tmp_path)
    rebuilt = dump(tmp_path / "projections.db")
    for table in ("period_ratings", "rag_summary", "items", "audit_log", "status_history", "status_events"):
        assert rebuilt[table] == live[table], table
    conn = sqlite3.connect(tmp_path / "projections.db")
    summaries = [r[0] for r in conn.execute(
        "SELECT summary FROM audit_log WHERE subject_ref = 'A1' AND period = ? ORDER BY position", (Q1,)
    )]  # fmt: skip
    counts = dict(conn.execute("SELECT status, count FROM rag_summary WHERE period = ?", (Q1,)).fetchall())
    latest = conn.execute("SELECT latest_period FROM items WHERE ref = 'A1'").fetchone()
    conn.close()
    assert summaries == [
        f"recorded Green for {Q1}", f"recorded Green for {Q1}: update revised",
        f"recorded Amber for {Q1}", f"recorded Red for {Q1}",
    ]  # fmt: skip
    assert counts == {"Red": 2}
    assert latest == ("2024/25 Q2",)


def test_only_a_whole_log_derives_its_ratings_at_the_end(tmp_path: Path) -> None:
    with open_system(tmp_path) as system, pytest.raises(ValueError, match="whole log"):
        build(system.ledger, tmp_path / "part.db", stop=1, ratings_at_end=True)
    # Only the status events are left to the pass; every other event keeps its handler.
    handlers = RatingsAtEnd().handlers(HANDLERS)
    changed = {name for name, handler in handlers.items() if HANDLERS[name] is not handler}
    assert changed == {"Item.StatusRecorded", "Item.StatusCorrected"}


def test_places_past_what_two_bytes_hold_widen_the_index_and_keep_the_earlier_ones() -> None:
    ratings = RatingsAtEnd()
    ratings._place_is(3, 7)
    ratings._place_is(70_000, 65_535)
    assert ratings._place_at.typecode == "H"
    ratings._place_is(70_001, 65_536)  # one more than two bytes hold
    assert ratings._place_at.typecode == "I"
    assert (ratings._place_at[3], ratings._place_at[70_000], ratings._place_at[70_001]) == (7, 65_535, 65_536)
