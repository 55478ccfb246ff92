"""Aggregates kept between commands (LedgerBase.check_out): a command loads only the
events stored since the kept version, yet never acts on a stale or unsaved state. Two
ledgers on one data directory stand for two processes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from ledger.application import Ledger, open_ledger
from ledger.domain import Item, Programme
from ledger.errors import Conflict, LedgerError
from ledger.store import verify

PLAN = "plan"
Q1, Q2 = "2024/25 Q1", "2024/25 Q2"


if __package__:  # tests/ may or may not become a package; the helper works either way
    from .postgres_server import PostgresServer, find_pg_bin
else:
    from postgres_server import PostgresServer, find_pg_bin

PG_BIN = find_pg_bin()
ON_BOTH_STORES = pytest.mark.parametrize(
    "store",
    [
        "sqlite",
        pytest.param(
            "postgres",
            marks=pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries not installed"),
        ),
    ],
)


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PostgresServer]:
    assert PG_BIN is not None
    server = PostgresServer(PG_BIN)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def store() -> str:
    return "sqlite"  # ON_BOTH_STORES overrides it


@pytest.fixture
def two(
    request: pytest.FixtureRequest, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Ledger, Ledger]]:
    """Two ledgers on one event store, as two processes would have."""
    with ExitStack() as stack:
        if store == "postgres":
            database = stack.enter_context(request.getfixturevalue("pg_server").database())
            for key, value in database.env().items():
                monkeypatch.setenv(key, value)
        first = open_ledger(tmp_path)
        stack.callback(first.close)
        first.register_programme(PLAN, "Plan", cadence="quarterly", actor="pm")
        first.register_item(PLAN, "A1", kind="action", title="Action", actor="pm")
        second = open_ledger(tmp_path)
        stack.callback(second.close)
        yield first, second


def rate(ledger: Ledger, status: str, actor: str, **kwargs: Any) -> None:
    ledger.record_status(
        PLAN, "A1", period=kwargs.pop("period", Q1), status=status, update=f"{actor}: {status}",
        mitigation="In hand" if status != "Green" else "", actor=actor, reason="Re-rated", **kwargs,
    )


def reads_after(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record the version after which each read of an aggregate's events starts (None:
    from its first), whether one aggregate's read or several in one."""
    calls: list[Any] = []
    recorder: Any = ledger.recorder
    one, several = recorder.select_events, recorder.select_events_after

    def select_events(originator_id: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("gt"))
        return one(originator_id, **kwargs)

    def select_events_after(after: dict[Any, int]) -> Any:
        calls.extend(version or None for version in after.values())
        return several(after)

    monkeypatch.setattr(recorder, "select_events", select_events)
    monkeypatch.setattr(recorder, "select_events_after", select_events_after)
    return calls


def test_a_saved_aggregate_is_loaded_from_its_version_not_replayed(
    two: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = two
    rate(first, "Amber", "a")  # the item and programme are kept after this save
    calls = reads_after(first, monkeypatch)
    rate(first, "Red", "a", seen_version=2)
    # Programme (version 1) and item (version 2) read only after their kept versions
    # (the period's review, which is not there, from its first).
    assert sorted(c for c in calls if c is not None) == [1, 2]
    assert calls.count(None) == 1
    assert first.get_item(PLAN, "A1")["ratings"][Q1]["status"] == "Red"


@ON_BOTH_STORES
def test_another_process_save_is_seen_before_the_next_command(two: tuple[Ledger, Ledger], store: str) -> None:
    first, second = two
    rate(first, "Amber", "a")
    rate(second, "Red", "b", seen_version=2)  # first's kept item is now a version behind
    rate(first, "Green", "a", seen_version=3)  # what the officer saw: b's rating
    with pytest.raises(Conflict) as told:
        rate(second, "Amber", "b", seen_version=3)
    assert told.value.current_version == 4 and "changed by a" in str(told.value)
    ratings = second.get_item(PLAN, "A1")["ratings"]
    assert ratings[Q1]["status"] == "Green" and ratings[Q1]["actor"] == "a"


@ON_BOTH_STORES
def test_a_race_lost_at_save_is_a_conflict_and_keeps_nothing_stale(
    two: tuple[Ledger, Ledger], store: str
) -> None:
    first, second = two
    rate(first, "Amber", "a")
    with pytest.raises(Conflict) as told, first.batch() as b:
        item = b.item(b.programme(PLAN), "A1")  # loaded at version 2
        rate(second, "Red", "b", seen_version=2)  # saved meanwhile
        item.record_status(
            b.programme(PLAN), period=Q1, status="Green", update="late", mitigation="", actor="a",
            reason="Re-rated",
        )
    assert "changed by b" in str(told.value)
    # Nothing of the lost save is kept: the next command sees b's rating and saves on it.
    rate(first, "Green", "a", period=Q2, seen_version=3)
    ratings = first.get_item(PLAN, "A1")["ratings"]
    assert ratings[Q1]["update"] == "b: Red" and ratings[Q2]["status"] == "Green"
    with second.batch() as b:  # the programme, the item at 1, Amber, b's Red, Green for Q2
        assert b.item(b.programme(PLAN), "A1").version == 4
    if store == "sqlite":
        assert verify(Path(first.env["SQLITE_DBNAME"])).ok


@ON_BOTH_STORES
def test_a_failed_batch_leaves_no_unsaved_change_behind(two: tuple[Ledger, Ledger], store: str) -> None:
    first, _ = two
    rate(first, "Amber", "a")
    with pytest.raises(LedgerError), first.batch() as b:
        rate(first, "Red", "a", batch=b)  # changes the item in the batch...
        rate(first, "Purple", "a", batch=b)  # ...then a rule fails: nothing is saved
    with first.checking_only():
        rate(first, "Green", "a")  # only checked: changes a copy that is then dropped
    with first.batch() as b:
        item = b.item(b.programme(PLAN), "A1")
        assert item.version == 2 and not item.pending_events
    assert first.get_item(PLAN, "A1")["ratings"][Q1]["status"] == "Amber"
    rate(first, "Red", "a", seen_version=2)
    assert first.get_log_position() == 4


def test_keeping_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVLEDGER_AGGREGATE_CACHE", "0")
    ledger = open_ledger(tmp_path)
    try:
        ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="pm")
        ledger.register_item(PLAN, "A1", kind="action", title="Action", actor="pm")
        rate(ledger, "Amber", "a")
        calls = reads_after(ledger, monkeypatch)
        rate(ledger, "Red", "a", seen_version=2)
        assert calls and all(c is None for c in calls)
    finally:
        ledger.close()


def test_an_update_reads_its_programme_item_and_review_in_one_query(
    two: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two
    rate(first, "Amber", "a")
    rate(second, "Red", "b", seen_version=2)
    recorder: Any = first.recorder
    reads: list[str] = []
    for name in ("select_events", "select_events_after"):
        original = getattr(recorder, name)
        monkeypatch.setattr(
            recorder, name, lambda *a, _o=original, _n=name, **k: reads.append(_n) or _o(*a, **k)
        )
    rate(first, "Green", "a", seen_version=3)
    assert reads == ["select_events_after"]


@ON_BOTH_STORES
def test_a_kept_aggregate_equals_a_replay_from_its_first_event(
    two: tuple[Ledger, Ledger], store: str
) -> None:
    first, second = two
    for n, status in enumerate(("Amber", "Red", "Green", "Amber")):
        rate(first if n % 2 else second, status, "a" if n % 2 else "b", period=(Q1, Q2)[n % 2])
    programme_id = Programme.create_id(PLAN)
    ids = [programme_id, Item.create_id(programme_id, "A1")]
    kept = first.check_out_many(ids)  # first kept both, a version or two behind second's saves
    replayed = {i: first.repository.get(i) for i in ids}
    for i in ids:
        assert vars(kept[i]) == vars(replayed[i])


def test_two_batches_at_once_never_share_a_kept_object(two: tuple[Ledger, Ledger]) -> None:
    first, _ = two
    rate(first, "Amber", "a")  # the item is kept
    with pytest.raises(Conflict), first.batch() as outer:
        held = outer.item(outer.programme(PLAN), "A1")  # taken out of the cache
        with first.batch() as inner:  # another request's command, as a thread would run it
            other = inner.item(inner.programme(PLAN), "A1")
            assert other is not held and other.version == held.version == 2
            rate(first, "Red", "a", batch=inner)
        rate(first, "Green", "a", batch=outer)  # from version 2 again: refused at save
    ratings = first.get_item(PLAN, "A1")["ratings"]
    assert ratings[Q1]["status"] == "Red"
