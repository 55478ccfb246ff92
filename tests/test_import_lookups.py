"""An import asks the store once which records exist (`existing_ids`), instead of loading
each item and review to learn it is missing; a batch then remembers what is missing. A
record someone else makes meanwhile is still refused at save by the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from ledger.application import Batch, Ledger, open_ledger
from ledger.domain import Item, Programme, Review
from ledger.errors import LedgerError

PLAN = "plan"
Q1 = "2024/25 Q1"


@pytest.fixture(autouse=True)
def _sqlite_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    app = open_ledger(tmp_path)
    app.register_programme(PLAN, "The plan", cadence="quarterly", actor="pm")
    app.register_item(PLAN, "A1", kind="action", title="Action A1", actor="pm")
    try:
        yield app
    finally:
        app.close()


def test_existing_ids_names_exactly_the_recorded_ones_in_any_number(ledger: Ledger) -> None:
    programme = Programme.create_id(PLAN)
    item = Item.create_id(programme, "A1")
    strangers = {uuid4() for _ in range(1200)}  # more than one query's worth
    assert ledger.recorder.existing_ids(strangers | {programme, item}) == {programme, item}
    assert ledger.recorder.existing_ids(set()) == set()


def test_a_batch_told_what_is_missing_does_not_load_it(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    programme = Programme.create_id(PLAN)
    item, review = Item.create_id(programme, "A1"), Review.create_id(programme, "A1", Q1)
    batch = Batch(ledger)
    assert batch.note_missing({item, review}) == {review}
    loads: list[object] = []
    get = ledger.check_out  # how a batch loads a record (kept, or replayed)
    monkeypatch.setattr(ledger, "check_out", lambda i: loads.append(i) or get(i))
    assert batch.find(Review, review) is None
    assert isinstance(batch.find(Item, item), Item)
    assert loads == [item]  # the review was not asked for


def test_a_record_made_meanwhile_is_still_refused_at_save(ledger: Ledger, tmp_path: Path) -> None:
    """The batch believes A2 is missing; another process registers it; the batch's own
    A2 is refused whole, and only the other's is recorded."""
    a2 = Item.create_id(Programme.create_id(PLAN), "A2")
    with pytest.raises(LedgerError), ledger.batch() as batch:
        assert a2 in batch.note_missing({a2})
        other = open_ledger(tmp_path)
        try:
            other.register_item(PLAN, "A2", kind="action", title="Theirs", actor="other")
        finally:
            other.close()
        ledger.register_item(PLAN, "A2", kind="action", title="Ours", actor="pm", batch=batch)
        ledger.register_item(PLAN, "A3", kind="action", title="Also ours", actor="pm", batch=batch)
    assert ledger.repository.get(a2).title == "Theirs"
    assert ledger.recorder.existing_ids({Item.create_id(Programme.create_id(PLAN), "A3")}) == set()
