"""Loading an aggregate replays its events without a runtime Protocol check per event
(ledger.application.lean): eventsourcing's own projector asserts one, ~30 µs an event
on Python 3.11, over half of loading an item with a long history. The aggregate a load
gives is the one the library's projector gives."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.application import project_aggregate

from ledger.application import Ledger, open_ledger
from ledger.domain import Item, Programme

PLAN = "plan"
RATINGS = 30


def quarter(n: int) -> str:
    return f"{2000 + n // 4}/{(2001 + n // 4) % 100:02d} Q{n % 4 + 1}"


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    monkeypatch.setenv("GOVLEDGER_AGGREGATE_CACHE", "0")  # every load replays from the first event
    app = open_ledger(tmp_path / "data")
    app.register_programme(PLAN, "Plan", cadence="quarterly", actor="alice")
    app.register_item(PLAN, "A1", kind="action", title="Action 1", actor="alice")
    with app.batch() as b:
        for n in range(RATINGS):
            app.record_status(PLAN, "A1", period=quarter(n), status="Green", update=f"Update {n}",
                              actor="alice", batch=b)
    yield app
    app.close()


@pytest.fixture
def protocol_checks(monkeypatch: pytest.MonkeyPatch) -> list[type]:
    """Every isinstance() against a runtime-checkable Protocol, by protocol."""
    checked: list[type] = []
    meta = type(typing.SupportsInt)
    original = meta.__instancecheck__

    def counted(cls: type, instance: object) -> bool:
        checked.append(cls)
        return original(cls, instance)

    monkeypatch.setattr(meta, "__instancecheck__", counted)
    return checked


def item_id() -> typing.Any:
    return Item.create_id(Programme.create_id(PLAN), "A1")


def test_loading_an_item_checks_no_protocol_per_event(ledger: Ledger, protocol_checks: list[type]) -> None:
    item = ledger.repository.get(item_id())
    assert item.version == 1 + RATINGS
    with ledger.batch() as b:
        history = ledger.get_status_history(item_id(), b)
        assert history is not None and len(history) == RATINGS
        assert b.find(Item, item_id()) is not None
    ledger.check_out_many([item_id()])
    assert len(protocol_checks) < RATINGS, f"{len(protocol_checks)} Protocol checks for {RATINGS} events"


def test_a_replayed_item_is_the_one_the_library_projector_gives(ledger: Ledger) -> None:
    events = list(ledger.events.get(item_id()))
    ours = ledger.repository.get(item_id())
    theirs = project_aggregate(None, events)
    assert ours.__dict__ == theirs.__dict__ and ours.version == len(events)
    fifth = ledger.repository.get(item_id(), version=5)
    assert fifth.__dict__ == project_aggregate(None, events[:5]).__dict__


def test_saving_a_rating_checks_no_protocol(ledger: Ledger, protocol_checks: list[type]) -> None:
    ledger.save_update(PLAN, "A1", period=quarter(RATINGS), status="Amber", update="Slipping",
                       mitigation="Recovery plan", actor="alice", reason="", seen_version=1 + RATINGS)
    item = ledger.repository.get(item_id())
    assert item.version == 2 + RATINGS and item.ratings[quarter(RATINGS)]["status"] == "Amber"
    assert protocol_checks == []
