"""dependencies.csv's optional side columns (issue 12, item 6): an import names the
provider and receiver and records what each side confirmed; export writes them, so export
-> import round-trips; a bad row is refused by row and column with nothing recorded.
Datasette describes dependency_sides and lists the disagreements."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govledger.system import open_system
from ledger.transfer.export import export
from ledger.transfer.importing import import_file
from projections.datasette_config import make_datasette, metadata
from projections.system import System

PROGRAMMES = [
    [
        "programme",
        "name",
        "cadence",
        "scale",
        "requires_mitigation",
        "description",
        "contact_name",
        "contact_phone",
        "contact_email",
    ],
    ["send", "SEND inclusion", "quarterly", "rag", "yes", "", "", "", ""],
    ["schools", "School places", "quarterly", "rag", "yes", "", "", "", ""],
]
HEADER = [
    "programme",
    "ref",
    "period",
    "description",
    "owner",
    "plan_agreed",
    "confidence",
    "reason",
    "provider",
    "receiver",
    "provider_plan_agreed",
    "provider_confidence",
    "provider_period",
    "receiver_plan_agreed",
    "receiver_confidence",
    "receiver_period",
]
D1 = [
    "send",
    "D1",
    "2024/25 Q1",
    "Special school places",
    "",
    "yes",
    "High",
    "",
    "schools",
    "send",
    "yes",
    "High",
    "",
    "no",
    "Medium",
    "2024/25 Q2",
]
D2 = [
    "send",
    "D2",
    "2024/25 Q1",
    "Transport for pupils",
    "",
    "",
    "",
    "",
    "Home to school transport team",
    "send",
    "",
    "",
    "",
    "",
    "",
    "",
]


def write(folder: Path, dependencies: list[list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("programmes", PROGRAMMES), ("dependencies", [HEADER, *dependencies])):
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
    return folder


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    system = open_system(tmp_path / "data")
    yield system
    system.close()


def sides(system: System) -> list[tuple]:
    with sqlite3.connect(system.projections_db) as db:
        return db.execute(
            "select ref, provider, provider_kind, receiver, provider_plan_agreed, provider_confidence, "
            "provider_period, receiver_plan_agreed, receiver_confidence, receiver_period, agreement "
            "from dependency_sides order by ref"
        ).fetchall()


EXPECTED = [
    (
        "D1",
        "schools",
        "programme",
        "send",
        "yes",
        "High",
        "2024/25 Q1",
        "no",
        "Medium",
        "2024/25 Q2",
        "sides disagree",
    ),
    ("D2", "Home to school transport team", "team", "send", "", "", "", "", "", "", "awaiting both sides"),
]


def test_an_import_names_the_sides_and_records_each_confirmation(system: System, tmp_path: Path) -> None:
    result = import_file(system.ledger, write(tmp_path / "in", [D1, D2]), actor="importer")
    assert result.ok, result.problems
    assert sides(system) == EXPECTED
    assert result.events_by_type["SideConfirmed"] == 2


def test_export_then_import_round_trips_the_sides(system: System, tmp_path: Path) -> None:
    assert import_file(system.ledger, write(tmp_path / "in", [D1, D2]), actor="importer").ok
    export(system.ledger, tmp_path / "out")
    with open(tmp_path / "out" / "dependencies.csv", encoding="utf-8-sig") as f:
        assert next(csv.reader(f)) == HEADER
    assert import_file(system.ledger, tmp_path / "out", actor="again").event_count == 0
    fresh = open_system(tmp_path / "fresh")
    try:
        assert import_file(fresh.ledger, tmp_path / "out", actor="carol").ok
        assert sides(fresh) == EXPECTED
    finally:
        fresh.close()


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"receiver": ""}, "receiver"),
        ({"provider_confidence": ""}, "provider_confidence"),
        ({"receiver_plan_agreed": "maybe"}, "receiver_plan_agreed"),
        ({"provider_confidence": "Certain"}, "provider_confidence"),
        ({"receiver_period": "Q7"}, "receiver_period"),
        ({"provider": "", "receiver": ""}, "provider"),
        ({"receiver": "SCHOOLS"}, "receiver"),
    ],
)
def test_a_bad_side_is_refused_by_its_column_and_nothing_is_recorded(
    system: System, tmp_path: Path, change: dict[str, str], column: str
) -> None:
    row = [change.get(name, value) for name, value in zip(HEADER, D1, strict=True)]
    result = import_file(system.ledger, write(tmp_path / "in", [row, D2]), actor="importer")
    assert not result.ok
    assert [(p.row, p.column) for p in result.problems] == [(2, column)]
    assert system.ledger.get_log_position() == 0


def test_datasette_describes_the_sides_and_lists_the_disagreements(system: System, tmp_path: Path) -> None:
    assert import_file(system.ledger, write(tmp_path / "in", [D1, D2]), actor="importer").ok
    ds = make_datasette(system.projections_db)
    name = Path(system.projections_db).stem
    described = metadata(name)["databases"][name]["tables"]["dependency_sides"]
    assert "disagree" in described["columns"]["agreement"]

    async def canned() -> Any:
        cookies = {"ds_actor": ds.sign({"a": {"id": "ann", "roles": ["auditor"]}}, "actor")}
        return await ds.client.get(
            f"/{name}/dependency_disagreements.json?_shape=array&programme=send", cookies=cookies
        )

    response = asyncio.run(canned())
    assert response.status_code == 200, response.text
    assert [(r["ref"], r["agreement"]) for r in response.json()] == [
        ("D1", "sides disagree"),
        ("D2", "awaiting both sides"),
    ]
    assert response.json()[0]["agreement_text"].startswith("The sides disagree on the plan")
