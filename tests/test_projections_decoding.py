"""The projector's fast path from stored rows to events (ledger.store.events +
projections.decoding) gives exactly the events eventsourcing's own reader and mapper
give: same class, same attributes, and the recorded time as the mapper's isoformat().

Rebuild and incremental catch-up both use the fast path, so tests that compare them
can't catch a difference from the library; these compare with the library itself.
"""

from __future__ import annotations

import math
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from ledger.application import Ledger
from ledger.config import event_store_env
from ledger.store.events import StoredRow, event_page_reader
from projections.decoding import EventDecoder

ROUND1 = Path(__file__).parent / "fixtures" / "round1"


@pytest.fixture
def ledger(tmp_path: Path) -> Any:
    shutil.copyfile(ROUND1 / "events.db", tmp_path / "events.db")
    app = Ledger(env=event_store_env(tmp_path))
    yield app
    app.close()


def _by_the_library(app: Ledger, row: StoredRow) -> Any:
    from eventsourcing.persistence import StoredEvent

    return app.mapper.to_domain_event(StoredEvent(row[1], row[2], row[3], row[4]))


def _assert_same(decoded: tuple[Any, str], expected: Any) -> None:
    event, recorded_at = decoded
    assert type(event) is type(expected)
    assert vars(event) == vars(expected)
    # Same types too (a UUID is not its text, a datetime not its ISO string).
    assert {k: type(v) for k, v in vars(event).items()} == {k: type(v) for k, v in vars(expected).items()}
    assert recorded_at == expected.timestamp.isoformat()


def test_the_page_reader_reads_what_select_notifications_reads(ledger: Ledger) -> None:
    read = event_page_reader(ledger.recorder)
    rows = [*read(0, 100), *read(100, 1000)]
    notifications = ledger.recorder.select_notifications(start=1, limit=1000)
    assert len(rows) == len(notifications) == 265
    assert rows == [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]
    assert [r[0] for r in read(10, 5, 12)] == [11, 12]  # stop is inclusive, like the library's
    assert read(265, 10) == []


def test_every_round1_event_decodes_as_the_library_decodes_it(ledger: Ledger) -> None:
    decode = EventDecoder(ledger.mapper)
    rows = event_page_reader(ledger.recorder)(0, 1000)
    assert len({row[3] for row in rows}) == 32
    for _ in range(2):  # the second pass takes the per-class fast path
        for row in rows:
            _assert_same(decode(row), _by_the_library(ledger, row))


ODD_VALUES: list[Any] = [
    'a "quoted" \\ text with "_type_" and "_data_" in it, and \\u00e9',
    "\u00e9\u2192 \U0001f600 non-ASCII",
    {"_type_": "uuid_hex", "_data_": "4040e76a089e5290be7373e299bf23f3"},  # a user dict the hook revives
    {"_type_": "uuid_hex", "_data_": "4040e76a089e5290be7373e299bf23f3", "x": 1},  # three keys: left as is
    {"nested": [UUID(int=7), {"deeper": Decimal("1.50")}]},
    [UUID(int=1), UUID(int=1), "text"],
    2**70,  # orjson refuses integers this big: the mapper decodes it
    math.inf,  # written as Infinity, which orjson refuses too
    {"deep": [[2**70]]},
    1.5,
    None,
]


@pytest.mark.parametrize("value", ODD_VALUES, ids=range(len(ODD_VALUES)))
def test_odd_values_decode_as_the_library_decodes_them(ledger: Ledger, value: Any) -> None:
    rows = event_page_reader(ledger.recorder)(0, 1000)
    decode = EventDecoder(ledger.mapper)
    for row in rows:  # learn every class's usual shape first
        decode(row)
    for row in rows[:40]:
        event = _by_the_library(ledger, row)
        changed = object.__new__(type(event))
        object.__setattr__(changed, "__dict__", {**vars(event), "actor": value, "extra": value})
        stored = ledger.mapper.to_stored_event(changed)
        odd = (row[0], stored.originator_id, stored.originator_version, stored.topic, stored.state)
        _assert_same(decode(odd), _by_the_library(ledger, odd))


def _plain_as_the_library(ledger: Ledger, decoder: EventDecoder, row: StoredRow) -> bool:
    """Whether `plain` read the row; if it did, its fields must be the library's event's."""
    event = _by_the_library(ledger, row)
    found = decoder.plain(row, getattr(type(event), "class_version", 1))
    if found is None:
        return False
    fields, recorded_at = found
    expected = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version")}
    assert {**fields, "timestamp": event.timestamp} == expected
    assert {k: type(v) for k, v in fields.items() if k != "timestamp"} == {
        k: type(v) for k, v in expected.items() if k != "timestamp"
    }
    assert recorded_at == event.timestamp.isoformat()
    return True


def test_plain_fields_are_the_library_events_attributes(ledger: Ledger) -> None:
    decoder = EventDecoder(ledger.mapper)
    rows = event_page_reader(ledger.recorder)(0, 1000)
    read = [row[3] for row in rows if _plain_as_the_library(ledger, decoder, row)]
    assert read.count("ledger.domain:Item.StatusRecorded") == sum(
        row[3] == "ledger.domain:Item.StatusRecorded" for row in rows
    ) > 0


@pytest.mark.parametrize("value", ODD_VALUES, ids=range(len(ODD_VALUES)))
def test_plain_fields_refuse_what_needs_decoding(ledger: Ledger, value: Any) -> None:
    decoder = EventDecoder(ledger.mapper)
    row = next(r for r in event_page_reader(ledger.recorder)(0, 1000) if r[3].endswith("StatusRecorded"))
    event = _by_the_library(ledger, row)
    changed = object.__new__(type(event))
    object.__setattr__(changed, "__dict__", {**vars(event), "update": value})
    stored = ledger.mapper.to_stored_event(changed)
    odd = (row[0], stored.originator_id, stored.originator_version, stored.topic, stored.state)
    # Text, None: read as they are. Anything transcoded, nested or a float: refused
    # (decoded as usual).
    assert _plain_as_the_library(ledger, decoder, odd) == (value is None or isinstance(value, str))
    assert decoder.plain(odd, 2) is None  # stored by another version of the class: upcast it


def test_a_damaged_event_fails_as_the_library_fails(ledger: Ledger) -> None:
    row = event_page_reader(ledger.recorder)(0, 1)[0]
    damaged = (*row[:4], row[4][:-5])
    with pytest.raises(Exception) as expected:
        _by_the_library(ledger, damaged)
    with pytest.raises(type(expected.value)):
        EventDecoder(ledger.mapper)(damaged)


def test_a_store_without_its_own_reader_is_read_through_select_notifications(tmp_path: Path) -> None:
    """Any other eventsourcing store (here the in-memory one) is read page by page
    through its select_notifications, and projects as SQLite does."""
    from test_projections_support import record_plan

    from projections.handlers import HANDLERS
    from projections.projector import Projector

    app = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        record_plan(app)
        read = event_page_reader(app.recorder)
        rows = [*read(0, 5), *read(5, 1000)]
        expected = app.recorder.select_notifications(start=1, limit=1000)
        assert rows == [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in expected]
        assert [r[0] for r in read(2, 10, 4)] == [3, 4]
        projector = Projector(app, tmp_path / "memory.db", handlers=HANDLERS, page_size=4)
        assert projector.catch_up() == len(rows)
        assert projector.position == rows[-1][0]
        projector.close()
    finally:
        app.close()
