"""Moving an item under another parent: a plan restructured between years.

A move is one event with a reason. The item's whole branch goes with it: the read
model's paths and depths, both parents' counts of children, the reports' headings. An
import re-files an item whose parent_ref changed, and an export lists every parent before
its children, so a ledger with moves still round-trips.
"""

from __future__ import annotations

import csv
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from test_cycle_projections import table
from test_import import base, write_folder
from test_projections_support import dump

from ledger.application import Ledger, open_ledger
from ledger.domain import Item, Programme
from ledger.errors import InvalidValue, ReasonRequired, UnknownRef
from ledger.transfer.export import export
from ledger.transfer.importing import import_file
from projections import queries
from projections.system import System, build, open_system

PLAN = "plan"
# ref -> parent: two aims, a priority under the first with two actions under it.
TREE = {"Aim 1": "", "Aim 2": "", "P1.1": "Aim 1", "A1.1.1": "P1.1", "A1.1.2": "P1.1"}


def _plant(ledger: Ledger, tree: dict[str, str]) -> None:
    ledger.register_programme(PLAN, "Test plan", cadence="quarterly", actor="admin")
    for ref, parent in tree.items():
        kind = "aim" if ref.startswith("Aim") else "priority" if ref.startswith("P") else "action"
        ledger.register_item(PLAN, ref, kind=kind, title=f"Item {ref}", parent_ref=parent, actor="admin")


def _outline(path: Path) -> list[dict[str, Any]]:
    return table(path, "SELECT ref, parent_ref, path, depth, child_count FROM items ORDER BY ref")


def _events(ledger: Ledger, ref: str) -> list[Any]:
    return list(ledger.events.get(Item.create_id(Programme.create_id(PLAN), ref)))


def test_a_moved_item_takes_its_branch_with_it(system: System, tmp_path: Path) -> None:
    _plant(system.ledger, TREE)

    system.ledger.move_item(PLAN, "P1.1", "aim 2", actor="pm", reason="Restructured for 2025/26")

    event = _events(system.ledger, "P1.1")[-1]
    assert (type(event).__name__, event.parent_ref, event.reason) == (
        "Moved", "Aim 2", "Restructured for 2025/26"
    )
    assert [tuple(row.values()) for row in _outline(system.projections_db)] == [
        ("A1.1.1", "P1.1", "Aim 2 > P1.1 > A1.1.1", 2, 0),
        ("A1.1.2", "P1.1", "Aim 2 > P1.1 > A1.1.2", 2, 0),
        ("Aim 1", "", "Aim 1", 0, 0),
        ("Aim 2", "", "Aim 2", 0, 1),
        ("P1.1", "Aim 2", "Aim 2 > P1.1", 1, 2),
    ]  # ref, parent_ref, path, depth, child_count
    assert table(
        system.projections_db,
        "SELECT summary, field, from_value, to_value, reason FROM audit_log WHERE event_type = 'Moved'",
    ) == [{"summary": "moved under Aim 2", "field": "parent_ref", "from_value": "Aim 1",
           "to_value": "Aim 2", "reason": "Restructured for 2025/26"}]

    # To the top: the read model is what registering it there would have given.
    system.ledger.move_item(PLAN, "A1.1.2", "", actor="pm", reason="Now a corporate action")
    with closing(open_ledger(tmp_path / "right")) as right:
        _plant(right, {**TREE, "P1.1": "Aim 2", "A1.1.2": ""})
        build(right, tmp_path / "right.db")
    assert _outline(tmp_path / "right.db") == _outline(system.projections_db)

    build(system.ledger, tmp_path / "rebuilt.db")
    assert dump(tmp_path / "rebuilt.db") == dump(system.projections_db)


@pytest.mark.parametrize(
    "ref, parent, error, message",
    [
        ("P1.1", "P1.1", InvalidValue, "P1.1 cannot be moved under itself."),
        ("Aim 1", "A1.1.1", InvalidValue, "Aim 1 cannot be moved under A1.1.1, which is filed beneath it."),
        ("P1.1", "Aim 9", UnknownRef, "Test plan has no item 'Aim 9'."),
    ],
    ids=["itself", "its own branch", "unknown parent"],
)
def test_a_move_that_cannot_be_is_refused_and_records_nothing(
    ledger: Ledger, ref: str, parent: str, error: type[Exception], message: str
) -> None:
    _plant(ledger, TREE)
    position = ledger.get_log_position()
    with pytest.raises(error) as refused:
        ledger.move_item(PLAN, ref, parent, actor="pm", reason="x")
    assert str(refused.value) == message
    assert getattr(refused.value, "field", None) == "parent_ref"
    assert ledger.get_log_position() == position


def test_a_move_needs_a_reason_and_a_parent_on_the_register(ledger: Ledger) -> None:
    _plant(ledger, TREE)
    ledger.retire_item(PLAN, "Aim 2", period="2024/25 Q1", reason="Dropped", actor="pm")
    position = ledger.get_log_position()
    with pytest.raises(ReasonRequired, match=r"why P1\.1 moves"):
        ledger.move_item(PLAN, "P1.1", "", actor="pm", reason="")
    with pytest.raises(InvalidValue, match="Aim 2 is retired from 2024/25 Q1: choose a parent on the"):
        ledger.move_item(PLAN, "P1.1", "Aim 2", actor="pm", reason="x")
    ledger.move_item(PLAN, "P1.1", "AIM 1", actor="pm", reason="")  # already there: nothing to record
    assert ledger.get_log_position() == position


def test_an_item_called_another_kind_is_reported_as_one(system: System) -> None:
    _plant(system.ledger, TREE)
    position = system.ledger.get_log_position()
    with pytest.raises(ReasonRequired, match=r"why A1\.1\.1 becomes 'priority'"):
        system.ledger.change_item_kind(PLAN, "A1.1.1", "priority", actor="pm", reason="")
    with pytest.raises(InvalidValue, match="'task' is not a kind of item"):
        system.ledger.change_item_kind(PLAN, "A1.1.1", "task", actor="pm", reason="x")
    system.ledger.change_item_kind(PLAN, "A1.1.1", "Action", actor="pm", reason="")  # already one
    assert system.ledger.get_log_position() == position

    system.ledger.change_item_kind(PLAN, "A1.1.1", "Priority", actor="pm", reason="Now a priority")

    assert _events(system.ledger, "A1.1.1")[-1].kind == "priority"
    assert table(
        system.projections_db,
        "SELECT i.kind, a.summary, a.from_value, a.to_value FROM items i JOIN audit_log a "
        "ON a.subject_ref = i.ref AND a.event_type = 'KindChanged' WHERE i.ref = 'A1.1.1'",
    ) == [{"kind": "priority", "summary": "kind changed to priority", "from_value": "action",
           "to_value": "priority"}]


# --------------------------------------------------------------------------- import and export


def test_an_import_re_files_an_item_whose_parent_changed(ledger: Ledger, tmp_path: Path) -> None:
    assert import_file(ledger, write_folder(tmp_path / "first", base()), actor="alice").ok
    tables = base()
    tables["items"].insert(1, {**tables["items"][0], "ref": "Aim 2", "title": "Grow"})
    tables["items"][2]["parent_ref"] = "Aim 2"  # P1.1, now row 4, after Aim 2 on row 3

    result = import_file(ledger, write_folder(tmp_path / "again", tables), actor="bob")

    assert result.ok, result.problems
    assert result.events_by_type == {"Registered": 1, "Moved": 1}
    moved = _events(ledger, "P1.1")[-1]
    assert (moved.parent_ref, moved.reason, moved.actor) == ("Aim 2", "Imported from items.csv", "bob")


def test_an_import_records_a_changed_kind(ledger: Ledger, tmp_path: Path) -> None:
    assert import_file(ledger, write_folder(tmp_path / "first", base()), actor="alice").ok
    tables = base()
    tables["items"][2]["kind"] = "priority"  # A1.1.1 was an action

    result = import_file(ledger, write_folder(tmp_path / "again", tables), actor="bob")

    assert result.ok, result.problems
    assert result.events_by_type == {"KindChanged": 1}
    changed = _events(ledger, "A1.1.1")[-1]
    assert (changed.kind, changed.reason) == ("priority", "Imported from items.csv")


def test_an_import_that_would_file_an_item_beneath_itself_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    assert import_file(ledger, write_folder(tmp_path / "first", base()), actor="alice").ok
    position = ledger.get_log_position()
    tables = base()
    tables["items"][0]["parent_ref"] = "A1.1.1"  # Aim 1 under its own grandchild

    result = import_file(ledger, write_folder(tmp_path / "loop", tables), actor="bob")

    assert [str(p) for p in result.problems] == [
        "items.csv row 2, column parent_ref: Aim 1 cannot be moved under A1.1.1, which is filed beneath it."
    ]
    assert ledger.get_log_position() == position


def test_an_export_lists_each_parent_before_the_items_moved_under_it(ledger: Ledger, tmp_path: Path) -> None:
    _plant(ledger, TREE)
    ledger.register_item(PLAN, "P2.1", kind="priority", title="Later priority", parent_ref="Aim 2", actor="a")
    ledger.move_item(PLAN, "P1.1", "P2.1", actor="pm", reason="Re-filed")  # recorded before its parent

    export(ledger, tmp_path / "out")

    with (tmp_path / "out" / "items.csv").open(encoding="utf-8-sig") as handle:
        refs = [(row["ref"], row["parent_ref"]) for row in csv.DictReader(handle)]
    assert refs == [("Aim 1", ""), ("Aim 2", ""), ("P2.1", "Aim 2"), ("P1.1", "P2.1"),
                    ("A1.1.1", "P1.1"), ("A1.1.2", "P1.1")]
    # It imports into an empty ledger as the same tree, and into its own as nothing new.
    with closing(open_ledger(tmp_path / "fresh")) as fresh:
        assert import_file(fresh, tmp_path / "out", actor="bob").ok
        assert fresh.get_item(PLAN, "P1.1")["parent_ref"] == "P2.1"
    position = ledger.get_log_position()
    assert import_file(ledger, tmp_path / "out", actor="bob").ok
    assert ledger.get_log_position() == position


# --------------------------------------------------------------------------- the CLI


def test_the_cli_moves_an_item_and_refuses_plainly(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from govledger.cli import main

    with open_system(tmp_path) as system:
        _plant(system.ledger, TREE)

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "move", PLAN, *args])
        return result.exit_code, result.output

    assert run("P1.1", "--under", "Aim 2", "--reason", "Restructured", "--as", "jo") == (
        0, "P1.1 is moved under Aim 2.\n"
    )
    assert run("A1.1.2", "--top", "--reason", "Corporate") == (
        0, "A1.1.2 is moved to the top of the programme.\n"
    )
    code, output = run("Aim 2", "--under", "A1.1.1", "--reason", "Loop")
    assert code == 1 and "Aim 2 cannot be moved under A1.1.1, which is filed beneath it." in output
    assert "Nothing was recorded" in output and "Traceback" not in output
    assert run("P1.1", "--reason", "Where?")[0] == 2  # neither --under nor --top
    assert run("P1.1", "--under", "Aim 1", "--top", "--reason", "Both")[0] == 2
    with open_system(tmp_path) as system:
        outline = {row["ref"]: (row["parent_ref"], row["path"]) for row in _outline(system.projections_db)}
        assert outline["A1.1.1"] == ("P1.1", "Aim 2 > P1.1 > A1.1.1")
        assert outline["A1.1.2"] == ("", "A1.1.2")
        assert _events(system.ledger, "P1.1")[-1].actor == "jo"


def test_the_parents_offered_are_in_outline_order_without_its_own_branch(system: System) -> None:
    _plant(system.ledger, {**TREE, "P1.10": "Aim 1", "P1.2": "Aim 1"})
    system.ledger.retire_item(PLAN, "Aim 2", period="2024/25 Q1", reason="Dropped", actor="pm")

    def offered(ref: str) -> list[str]:
        return [row["ref"] for row in queries.get_possible_parents(system.projections_db, PLAN, ref)]

    assert offered("A1.1.1") == ["Aim 1", "P1.1", "A1.1.2", "P1.2", "P1.10"]  # not retired Aim 2
    assert offered("P1.1") == ["Aim 1", "P1.2", "P1.10"]  # nothing of its own branch
