"""A big import applied a list at a time reads each record once per list (issue 14 item 5).

Between lists the batch spills and lets its aggregates go, so a later list naming an item
must bring it back: the aggregate the commands change and the status history the import
compares rows with. Both come from the same events, so each stored or spilled event is
decoded at most once per list; reading them twice made a re-import of a file over
50,000 rows take twice as long as it should. Lists here are 40 rows (26 of them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_import import generated
from test_import_spill import STATUSES, changed, lists_of

from ledger.application import Ledger, open_ledger
from ledger.domain import Item, Programme
from ledger.transfer.importing import import_file

LIST = 40
# The generated file's items: "big" A0 to A99.
items = {Item.create_id(Programme.create_id("big"), f"A{i}"): f"A{i}" for i in range(STATUSES // 9)}


@pytest.fixture(autouse=True)
def _sqlite_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)


def counting_decodes(ledger: Ledger, spills: list[int]) -> Counter[tuple[int, Any, int]]:
    """(list number, originator id, version) -> how often that event was decoded."""
    decoded: Counter[tuple[int, Any, int]] = Counter()
    to_domain: Callable[[Any], Any] = ledger.mapper.to_domain_event

    def counted(stored: Any) -> Any:
        decoded[len(spills), stored.originator_id, stored.originator_version] += 1
        return to_domain(stored)

    ledger.mapper.to_domain_event = counted  # type: ignore[method-assign]
    return decoded


def first_period_changed(folder: Path) -> Path:
    """Each item's first period's update reworded: an item whose rows straddle two lists
    is changed and spilled in the first, then named again in the next."""
    return changed(folder, "2022/23 Q1")


@pytest.mark.parametrize(
    "again", ["same file", "last period changed", "first period changed"]
)
def test_an_import_in_lists_decodes_each_event_at_most_once_a_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, again: str
) -> None:
    spills = lists_of(monkeypatch, LIST)
    data_dir = tmp_path / "data"
    first = open_ledger(data_dir)
    assert import_file(first, generated(tmp_path / "in", STATUSES), actor="bulk").recorded
    first.close()
    folder = generated(tmp_path / "again", STATUSES)
    folder = {"same file": lambda f: f, "last period changed": changed,
              "first period changed": first_period_changed}[again](folder)
    ledger = open_ledger(data_dir)  # nothing kept from the first import's save
    try:
        position = ledger.get_log_position()
        spills.clear()
        decoded = counting_decodes(ledger, spills)
        result = import_file(ledger, folder, actor="bulk")
        assert result.ok, result.problems
        assert len(spills) == 26  # 1,001 rows in lists of 40: 25 between, 1 at the save
        twice = sorted((n, items[o], v) for (n, o, v), times in decoded.items() if times > 1 and o in items)
        assert twice == [], f"(list, item, version) decoded more than once in a list: {twice[:10]}"
        assert {o for _, o, _ in decoded} >= items.keys()  # every item was read
        if again == "same file":
            assert not result.recorded and ledger.get_log_position() == position
            assert {o.outcome for o in result.rows} == {"unchanged"}
        else:
            assert result.recorded and ledger.get_log_position() == position + 100
    finally:
        ledger.close()


def test_a_fresh_import_in_lists_decodes_each_spilled_event_at_most_once_a_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spills = lists_of(monkeypatch, LIST)
    ledger = open_ledger(tmp_path / "data")
    try:
        decoded = counting_decodes(ledger, spills)
        result = import_file(ledger, generated(tmp_path / "in", STATUSES), actor="bulk")
        assert result.ok and result.recorded and ledger.get_log_position() == 1 + 100 + STATUSES
        assert len(spills) == 26
        assert {o for _, o, _ in decoded} >= items.keys()
        assert max(times for (_, o, _), times in decoded.items() if o in items) == 1
    finally:
        ledger.close()
