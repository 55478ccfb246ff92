"""Persisted topics survive the move of ledger/domain.py into the ledger/domain/ package.

Round 1 wrote every event as `ledger.domain:<Class>`. The classes now live in one module
per aggregate family and keep writing exactly those topics (so old and new events hash
alike); every old topic resolves, through ledger.domain.topics, to the class as it is now.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.utils import get_topic, resolve_topic

import ledger.domain as domain
from ledger.application import Ledger
from ledger.config import event_store_env
from ledger.domain.topics import ROUND1_TOPICS
from ledger.store import verify_store

ROUND1 = Path(__file__).parent / "fixtures" / "round1"
SLUG = "cheshire-east-plan-2024-25"


def _stored(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(sql, args).fetchall()


def _round1_topics() -> set[str]:
    return {t for (t,) in _stored(ROUND1 / "events.db", "SELECT DISTINCT topic FROM stored_events")}


def _aggregate_topics() -> set[str]:
    """The aggregate classes named inside created events (`originator_topic`)."""
    rows = _stored(
        ROUND1 / "events.db",
        "SELECT DISTINCT json_extract(state, '$.originator_topic') FROM stored_events "
        "WHERE json_extract(state, '$.originator_topic') IS NOT NULL",
    )
    return {t for (t,) in rows}


def test_every_round1_topic_resolves_to_the_class_in_its_new_module() -> None:
    topics = _round1_topics() | _aggregate_topics()
    assert len(topics) == 32 + 8
    assert topics <= set(ROUND1_TOPICS)
    for topic in topics:
        cls = resolve_topic(topic)
        aggregate = topic.partition(":")[2].split(".")[0]
        assert cls.__qualname__ == topic.partition(":")[2]
        assert cls.__module__.startswith("ledger.domain."), (topic, cls.__module__)
        assert cls is getattr(domain, aggregate) or cls in vars(getattr(domain, aggregate)).values()
        # ...and the class writes the very same topic today.
        assert get_topic(cls) == topic


def test_every_aggregate_and_event_class_writes_a_public_topic_that_resolves_back() -> None:
    aggregates = [v for v in vars(domain).values() if isinstance(v, type) and issubclass(v, Aggregate)]
    assert {a.__name__ for a in aggregates} == {
        "Programme", "Item", "Risk", "Dependency", "Indicator", "Narrative", "Account", "Publication",
        "ReportingPeriod", "Reminder", "StatusScale", "Review", "Job",
    }  # fmt: skip
    for aggregate in aggregates:
        events = [
            e
            for e in vars(aggregate).values()
            if isinstance(e, type)
            and issubclass(e, CanMutateAggregate)
            and e.__name__ not in ("Event", "Created")
        ]
        assert events, aggregate
        for cls in [aggregate, *events]:
            assert get_topic(cls) == f"ledger.domain:{cls.__qualname__}"
            assert resolve_topic(get_topic(cls)) is cls


def test_a_new_event_on_a_round1_log_keeps_the_topic_reads_back_and_verifies(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(ROUND1 / "events.db", data / "events.db")
    db = data / "events.db"
    ledger = Ledger(env=event_store_env(data))
    try:
        programme = ledger.get_programme(SLUG)
        item = next(
            ledger.get_item(SLUG, ref)
            for (ref,) in _stored(
                db,
                "SELECT json_extract(state, '$.ref') FROM stored_events WHERE topic = ? AND "
                "json_extract(state, '$.programme_id._data_') = ? ORDER BY rowid",
                "ledger.domain:Item.Registered",
                programme["id"].hex,
            )
        )
        before = _stored(db, "SELECT max(rowid) FROM stored_events")[0][0]
        ledger.record_status(
            SLUG,
            item["ref"],
            period="2025/26 Q4",
            status="Green",
            update="Written after the layout moved.",
            actor="officer",
        )
        (topic, state), *_ = _stored(db, "SELECT topic, state FROM stored_events WHERE rowid > ?", before)
        assert topic == "ledger.domain:Item.StatusRecorded"
        assert resolve_topic(topic) is domain.Item.StatusRecorded
        assert domain.Item.StatusRecorded.__module__ == "ledger.domain.items"
        assert b"Written after the layout moved." in state
        reread = ledger.get_item(SLUG, item["ref"])
        assert reread["ratings"]["2025/26 Q4"]["update"] == "Written after the layout moved."
        assert reread["version"] == item["version"] + 1
    finally:
        ledger.close()
    result = verify_store(event_store_env(data), ROUND1 / "checkpoint.json")
    assert result.ok, result
