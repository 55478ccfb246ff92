"""bench_projections.generate, which the rebuild, as-at and scale benchmarks share: letting
go of earlier periods' ratings (so a 10M-event run stays flat in memory) and the inlined
word draw must not change a single event it writes."""

from __future__ import annotations

import json
import random
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import bench_projections

from ledger.application import open_ledger
from ledger.domain import Indicator, Item


def _written(directory: Path, events: int) -> list[tuple[Any, ...]]:
    ledger = open_ledger(directory)
    try:
        bench_projections.generate(ledger, events)
    finally:
        ledger.close()
    with sqlite3.connect(directory / "events.db") as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()
    written = []
    for originator, version, topic, state in rows:
        attributes = json.loads(state)
        del attributes["timestamp"]  # the one thing that differs between two runs
        written.append((originator, version, topic, attributes))
    return written


def test_forgetting_earlier_periods_writes_the_same_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    streamed = _written(tmp_path / "streamed", 3000)
    monkeypatch.setattr(bench_projections, "forget_earlier_periods", lambda items, indicators: None)
    kept = _written(tmp_path / "kept", 3000)
    assert len(streamed) >= 3000
    # Several periods, with corrections among them: the paths that read a period's rating.
    assert len({row[3].get("period") for row in streamed if "period" in row[3]}) > 10
    assert any(row[2].endswith("Item.StatusCorrected") for row in streamed)
    assert streamed == kept


def test_items_and_indicators_hold_only_the_latest_period(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path)
    saved: dict[Any, Any] = {}
    save = ledger.save

    def keep(*aggregates: Any, **kwargs: Any) -> Any:
        saved.update((a.id, a) for a in aggregates)
        return save(*aggregates, **kwargs)

    ledger.save = keep  # type: ignore[method-assign]
    try:
        bench_projections.generate(ledger, 3000)
    finally:
        ledger.close()
    items = [a for a in saved.values() if isinstance(a, Item) and a.kind == "action"]
    indicators = [a for a in saved.values() if isinstance(a, Indicator)]
    assert len(items) == 100 and len(indicators) == 3
    # About 25 periods written; each item and indicator still holds only the last one.
    rated = {period for item in items for period in item.ratings}
    assert len(rated) == 1
    assert {key.split("|")[0] for i in indicators for key in i.values} == rated


def test_text_draws_the_words_random_choice_would() -> None:
    ours, reference = random.Random(7), random.Random(7)
    for words in range(1, 60):
        expected = " ".join(reference.choice(bench_projections.WORDS) for _ in range(words))
        assert bench_projections._text(ours, words) == expected.capitalize() + "."
