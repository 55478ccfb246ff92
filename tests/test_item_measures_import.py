"""Issue 13 item 2: items.csv's optional `due_date` and `indicators` columns link an item to
its indicators (defined in the same file's indicators.csv, applied after items) and set its
due date; export writes both and they round-trip; bad cells are refused with nothing recorded."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.application import Ledger, open_ledger
from ledger.domain import Item
from ledger.transfer.export import export
from ledger.transfer.importing import import_file

PROGRAMME = (
    "programme,name,cadence,scale,requires_mitigation,description,contact_name,contact_phone,"
    "contact_email\nplan,Plan,quarterly,rag,yes,,,,\n"
)
ITEMS = "programme,ref,kind,title,parent_ref,lead_officer,committee,due_date,indicators\n"
INDICATORS = "programme,ref,name,unit,better,period,breakdown,value,reason\n" \
    "plan,VAC,Vacancy rate,%,lower,,,,\nplan,FTE,Staff in post,FTE,higher,,,,\n"


@pytest.fixture(autouse=True)
def _sqlite_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    app = open_ledger(tmp_path / "data")
    yield app
    app.close()


def folder(path: Path, items: str, indicators: str = INDICATORS) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "programmes.csv").write_text(PROGRAMME, encoding="utf-8")
    (path / "items.csv").write_text(ITEMS + items, encoding="utf-8")
    (path / "indicators.csv").write_text(indicators, encoding="utf-8")
    return path


def item(ledger: Ledger, ref: str) -> Item:
    found = ledger.repository.get(Item.create_id(ledger.get_programme("plan")["id"], ref))
    assert isinstance(found, Item)
    return found


def test_links_to_indicators_defined_in_the_same_file_and_sets_the_due_date(
    ledger: Ledger, tmp_path: Path
) -> None:
    rows = "plan,A1,action,Recruit,,,,31/03/2025,VAC; fte\nplan,A2,action,Train,,,,,\n"
    source = folder(tmp_path / "in", rows)
    result = import_file(ledger, source, actor="alice")
    assert result.ok, result.problems
    a1, a2 = item(ledger, "A1"), item(ledger, "A2")
    assert (a1.due_date, a1.indicators) == ("2025-03-31", ("VAC", "FTE"))  # the ledger's spelling
    assert (a2.due_date, a2.indicators) == ("", ())
    row = next(r for r in result.rows if r.kind == "items" and r.row == 2)
    assert row.events == ("Registered", "DueDateSet", "IndicatorsLinked")
    assert result.events_by_type["IndicatorsLinked"] == 1  # A2's empty cells record nothing
    assert import_file(ledger, source, actor="alice").event_count == 0  # again: nothing new


def test_a_changed_cell_records_the_change_with_the_import_as_reason(ledger: Ledger, tmp_path: Path) -> None:
    first, then = "plan,A1,action,Recruit,,,,2025-03-31,VAC\n", "plan,A1,action,Recruit,,,,2025-06-30,FTE\n"
    assert import_file(ledger, folder(tmp_path / "a", first), actor="a").ok
    result = import_file(ledger, folder(tmp_path / "b", then), actor="a")
    assert result.ok, result.problems
    a1 = item(ledger, "A1")
    assert (a1.due_date, a1.indicators) == ("2025-06-30", ("FTE",))
    events = list(ledger.events.get(a1.id))[-2:]
    assert [type(e).__name__ for e in events] == ["DueDateSet", "IndicatorsLinked"]
    assert all(e.reason == "Imported from items.csv" for e in events)
    assert [r.outcome for r in result.rows if r.kind == "items"] == ["changed"]


def test_bad_cells_are_refused_by_row_and_column_and_nothing_recorded(ledger: Ledger, tmp_path: Path) -> None:
    before = ledger.get_log_position()
    rows = "plan,A1,action,Recruit,,,,31/13/2025,\nplan,A2,action,Train,,,,,NOPE\n"
    result = import_file(ledger, folder(tmp_path / "bad", rows), actor="alice")
    problems = [str(p) for p in result.problems]
    assert any(p.startswith("items.csv row 2, column due_date: '31/13/2025' is not a date") for p in problems)
    assert "items.csv row 3, column indicators: Plan has no indicator 'NOPE'." in problems
    assert not result.recorded and ledger.get_log_position() == before


def test_export_writes_both_columns_and_they_round_trip(ledger: Ledger, tmp_path: Path) -> None:
    rows = "plan,A1,action,Recruit,,,,2025-03-31,FTE;VAC\n"
    assert import_file(ledger, folder(tmp_path / "in", rows), actor="a").ok
    export(ledger, tmp_path / "out")
    with (tmp_path / "out" / "items.csv").open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["due_date"], row["indicators"]) == ("2025-03-31", "FTE; VAC")
    fresh = open_ledger(tmp_path / "fresh")
    try:
        assert import_file(fresh, tmp_path / "out", actor="a").ok
        a1 = item(fresh, "A1")
        assert (a1.due_date, a1.indicators) == ("2025-03-31", ("FTE", "VAC"))
    finally:
        fresh.close()
