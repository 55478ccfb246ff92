"""Correcting an indicator's definition: name, unit, which direction is better, description.

A definition set wrongly at import (a vacancy rate marked "higher is better") used to be
fixed for ever. Now it can be corrected with a reason, as a new event: every value keeps
its number, and its direction of travel is judged again by the new direction.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from test_cycle_projections import table
from test_import import base, write_folder
from test_projections_support import PLAN, Q1, Q4, dump

from ledger.application import Ledger, open_ledger
from ledger.domain import Indicator, Programme
from ledger.errors import EmptyTitle, InvalidValue, ReasonRequired
from ledger.transfer.importing import import_file
from projections import queries
from projections.system import System, build


def _define_vacancies(ledger: Ledger, better: str) -> None:
    ledger.register_programme(PLAN, "Cheshire East Plan", cadence="quarterly", actor="admin")
    ledger.define_indicator(PLAN, "VAC", name="Vacancies", unit="", better=better, actor="hr")
    values = ((Q4, "12.16", ""), (Q1, "13.05", ""), (Q4, "9.5", "Place"), (Q1, "8.25", "Place"))
    for period, value, breakdown in values:
        ledger.record_indicator_value(PLAN, "VAC", period=period, value=value, breakdown=breakdown,
                                      actor="hr")


def _indicator_rows(path: Path) -> list[dict[str, Any]]:
    return table(
        path,
        "SELECT period, breakdown, name, unit, better, value, previous_value, change, direction"
        " FROM indicators ORDER BY period_start, breakdown",
    )


def _events(ledger: Ledger, programme: str = PLAN, ref: str = "VAC") -> list[Any]:
    return list(ledger.events.get(Indicator.create_id(Programme.create_id(programme), ref)))


def test_a_redefinition_restates_every_values_direction(system: System, tmp_path: Path) -> None:
    _define_vacancies(system.ledger, better="higher")  # set wrongly: more vacancies is worse
    q1 = {i["breakdown"]: i for i in queries.get_indicators(system.projections_db, PLAN, Q1)}
    assert (q1[""]["direction"], q1["Place"]["direction"]) == ("good", "bad")

    system.ledger.redefine_indicator(
        PLAN, "VAC", name="Vacancy rate", unit="%", better="lower", description="Posts unfilled",
        actor="pm", reason="Direction was set wrongly at import",
    )

    event = _events(system.ledger)[-1]
    assert (type(event).__name__, event.better, event.unit, event.reason, event.actor) == (
        "Redefined", "lower", "%", "Direction was set wrongly at import", "pm"
    )
    q1 = {i["breakdown"]: i for i in queries.get_indicators(system.projections_db, PLAN, Q1)}
    assert (q1[""]["direction"], q1["Place"]["direction"]) == ("bad", "good")
    assert {(i["name"], i["unit"], i["better"]) for i in q1.values()} == {("Vacancy rate", "%", "lower")}
    assert q1[""]["value"] == 13.05 and q1[""]["change"] == pytest.approx(0.89)  # numbers as they were
    definition = table(system.projections_db, "SELECT * FROM indicator_definitions")[0]
    assert (definition["name"], definition["unit"], definition["better"], definition["description"]) == (
        "Vacancy rate", "%", "lower", "Posts unfilled"
    )

    # The read model is what defining it right in the first place would have given.
    with closing(open_ledger(tmp_path / "right")) as right:
        _define_vacancies(right, better="lower")
        right.redefine_indicator(PLAN, "VAC", name="Vacancy rate", unit="%", better="lower",
                                 description="Posts unfilled", actor="pm", reason="Named")
        build(right, tmp_path / "right-projections.db")
    assert _indicator_rows(tmp_path / "right-projections.db") == _indicator_rows(system.projections_db)

    # And a rebuild from zero equals the live read model.
    build(system.ledger, tmp_path / "rebuilt.db")
    assert dump(tmp_path / "rebuilt.db") == dump(system.projections_db)


def test_the_audit_trail_shows_the_definition_before_and_after(system: System) -> None:
    _define_vacancies(system.ledger, better="higher")
    system.ledger.redefine_indicator(
        PLAN, "VAC", name="Vacancy rate", unit="%", better="lower", actor="pm", reason="Wrong way round"
    )
    assert table(
        system.projections_db,
        "SELECT summary, field, from_value, to_value, reason, actor FROM audit_log"
        " WHERE event_type = 'Redefined'",
    ) == [{
        "summary": "redefined as 'Vacancy rate' (%), lower is better", "field": "definition",
        "from_value": "Vacancies, higher is better", "to_value": "Vacancy rate (%), lower is better",
        "reason": "Wrong way round", "actor": "pm",
    }]


def test_a_redefinition_needs_a_reason_and_a_known_direction(ledger: Ledger) -> None:
    _define_vacancies(ledger, better="higher")
    position = ledger.get_log_position()
    with pytest.raises(ReasonRequired, match="why indicator VAC's definition changes"):
        ledger.redefine_indicator(
            PLAN, "VAC", name="Vacancies", unit="", better="lower", actor="pm", reason=" "
        )
    with pytest.raises(InvalidValue, match="'sideways' is not a direction"):
        ledger.redefine_indicator(PLAN, "VAC", name="Vacancies", unit="", better="sideways", actor="pm",
                                  reason="x")
    with pytest.raises(EmptyTitle, match="Enter a name for indicator VAC"):
        ledger.redefine_indicator(PLAN, "VAC", name="", unit="", better="lower", actor="pm", reason="x")
    # The same definition again records nothing, and needs no reason.
    ledger.redefine_indicator(PLAN, "VAC", name="Vacancies", unit="", better="Higher", actor="pm", reason="")
    assert ledger.get_log_position() == position


# --------------------------------------------------------------------------- by import


def _vacancies_file(tmp_path: Path, name: str, **changes: str) -> Path:
    tables = base()
    for row in tables["indicators"]:
        row.update(changes)
    return write_folder(tmp_path / name, tables)


def test_a_reimport_with_a_corrected_definition_records_one_redefinition(
    ledger: Ledger, tmp_path: Path
) -> None:
    assert import_file(ledger, _vacancies_file(tmp_path, "first", better="higher"), actor="alice").ok
    tables = base()
    tables["indicators"][0].update(better="lower", unit="% of posts", reason="Lower is better")
    tables["indicators"].append({**tables["indicators"][0], "period": "2024/25 Q2", "value": "12"})

    result = import_file(ledger, write_folder(tmp_path / "again", tables), actor="bob")

    assert result.ok, result.problems
    assert result.events_by_type == {"Redefined": 1, "ValueRecorded": 1}
    redefined = [e for e in _events(ledger, "plan", "VACANCY") if type(e).__name__ == "Redefined"]
    assert [(e.better, e.unit, e.reason, e.actor) for e in redefined] == [
        ("lower", "% of posts", "Imported from indicators.csv: Lower is better", "bob")
    ]
    assert [o.outcome for o in result.rows if o.file == "indicators.csv"] == ["changed", "new"]
    # The file now agrees with the ledger: importing it again records nothing.
    position = ledger.get_log_position()
    assert import_file(ledger, write_folder(tmp_path / "again", tables), actor="bob").ok
    assert ledger.get_log_position() == position


def test_rows_of_one_file_that_disagree_on_a_definition_are_refused(ledger: Ledger, tmp_path: Path) -> None:
    assert import_file(ledger, _vacancies_file(tmp_path, "first", better="higher"), actor="alice").ok
    position = ledger.get_log_position()
    tables = base()
    tables["indicators"][0].update(better="lower")
    tables["indicators"].append({**tables["indicators"][0], "period": "2024/25 Q2", "value": "12",
                                 "better": "higher"})

    result = import_file(ledger, write_folder(tmp_path / "mixed", tables), actor="bob")

    assert not result.ok
    assert [str(p) for p in result.problems] == [
        "indicators.csv row 3, column better: Indicator VACANCY is defined by an earlier row of this "
        "import with better 'lower', and an import cannot change it (this row says 'higher')."
    ]
    assert ledger.get_log_position() == position  # nothing recorded, not even row 2's redefinition
