"""A change of scale effective from a period (issue 11 items 2 and 8): the periods before
it keep the scale they were rated on, in any order of recording, and a ledger with a
change of scale exports and imports into an empty data directory with every past
period's statuses and summaries as they were, and into its own ledger as nothing new."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
import test_scales
from test_scales import Q, assert_outcome_counts, summary_counts

from ledger.errors import UnknownStatus
from ledger.transfer.export import export
from ledger.transfer.importing import import_file
from projections import queries
from projections.system import System, open_system

MAPPING = {
    "Achieved": "G", "Partly achieved": "Amber", "Not achieved": "Red", "Carried forward": "Not yet due",
}
Q4 = "2024/25 Q4"
system, council = test_scales.system, test_scales.council  # the council's programmes, as fixtures


def test_a_change_from_a_period_leaves_earlier_periods_on_the_old_scale(council: System) -> None:
    ledger = council.ledger
    ledger.change_scale("outcomes-plan", "rag", actor="pm", reason="Council adopts RAG", mapping=MAPPING,
                        from_period=Q4)
    # An earlier period is still rated on the scale it began with, even recorded now...
    ledger.record_status("outcomes-plan", "O1", period=Q[0], status="Not achieved", update="Restated",
                         mitigation="Plan", actor="pm", reason="Audit found it missed")
    with pytest.raises(UnknownStatus):
        ledger.record_status("outcomes-plan", "O2", period=Q[1], status="Green", update="x", actor="pm",
                             reason="y")
    # ...and the change's own period on the new one.
    ledger.record_status("outcomes-plan", "O1", period=Q4, status="Green", update="Done", actor="pm")
    with pytest.raises(UnknownStatus):
        ledger.record_status("outcomes-plan", "O2", period=Q4, status="Achieved", update="x", actor="pm")


def test_a_risk_is_rated_on_the_scale_of_its_period(council: System) -> None:
    ledger = council.ledger
    ledger.change_scale("outcomes-plan", "rag", actor="pm", reason="Council adopts RAG", mapping=MAPPING,
                        from_period=Q4)
    # Raised in Q1 (still on the council's own scale), re-rated in Q4 (on RAG).
    ledger.raise_risk("outcomes-plan", "R1", description="Supplier fails", rag_before="Not achieved",
                      mitigation="Second supplier", rag_after="Partly achieved", period=Q[0], actor="pm")
    with pytest.raises(UnknownStatus):
        ledger.raise_risk("outcomes-plan", "R2", description="x", rag_after="Amber", period=Q[0], actor="pm")
    ledger.rerate_risk("outcomes-plan", "R1", rag_before="Red", mitigation="Second supplier",
                       rag_after="Amber", period=Q4, actor="pm", reason="New scale")
    with pytest.raises(UnknownStatus):
        ledger.rerate_risk("outcomes-plan", "R1", rag_after="Partly achieved", period=Q4, actor="pm",
                           reason="y")
    with sqlite3.connect(council.projections_db) as db:
        history = db.execute(
            "SELECT period, rag_before, rag_after FROM risk_history WHERE programme = 'outcomes-plan' "
            "AND ref = 'R1' ORDER BY period_start"
        ).fetchall()
    assert history == [(Q[0], "Not achieved", "Partly achieved"), (Q4, "Red", "Amber")]


def test_an_export_with_a_change_of_scale_imports_into_an_empty_directory(
    council: System, tmp_path: Path
) -> None:
    # Changed from the web: no period given, so from the period it was made in or the
    # earliest period rated after it.
    council.ledger.change_scale(
        "outcomes-plan", "rag", actor="pm", reason="Council adopts RAG", mapping=MAPPING
    )
    council.ledger.record_status("outcomes-plan", "O1", period=Q4, status="Green", update="Done", actor="o")
    export(council.ledger, tmp_path / "out")
    with (tmp_path / "out" / "scale_changes.csv").open(encoding="utf-8-sig") as handle:
        [header, row] = list(csv.reader(handle))
    assert dict(zip(header, row, strict=True)) == {
        "programme": "outcomes-plan", "from_period": Q4, "from_scale": "outcomes", "scale": "rag",
        "mapping": "Achieved -> Green; Partly achieved -> Amber; Not achieved -> Red; "
                   "Carried forward -> Not yet due",
        "reason": "Council adopts RAG",
    }
    with open_system(tmp_path / "fresh") as fresh:
        result = import_file(fresh.ledger, tmp_path / "out", actor="bob")
        assert result.ok, result.problems
        assert_outcome_counts(fresh)
        assert summary_counts(fresh.projections_db, "outcomes-plan", Q4) == {"Green": 1}
        assert fresh.ledger.get_programme("outcomes-plan")["scale"].name == "RAG"
        [change] = queries.get_scale_changes(fresh.projections_db, "outcomes-plan")
        assert (change["from_scale"], change["to_scale"], change["mapping"]["Achieved"]) == (
            "Outcomes", "RAG", "Green",
        )
        # Past periods keep their scale's categories and order, and compare with new ones
        # through the mapping, as in the ledger exported.
        categories = "SELECT status, status_category FROM rag_summary WHERE period = ? ORDER BY status_order"
        with sqlite3.connect(fresh.projections_db) as conn, sqlite3.connect(council.projections_db) as old:
            assert conn.execute(categories, (Q[0],)).fetchall() == old.execute(categories, (Q[0],)).fetchall()
        grid = queries.get_grid(fresh.projections_db, "outcomes-plan")
        o1 = next(r for r in grid["rows"] if r["ref"] == "O1")
        assert [o1["ratings"][p]["mapped_status"] for p in (*Q, Q4)] == ["Green", "Green", "Green", None]
        with sqlite3.connect(fresh.projections_db) as conn:
            assert conn.execute(
                "SELECT status FROM status_history WHERE programme = 'outcomes-plan' AND ref = 'O1' "
                "ORDER BY period_start"
            ).fetchall() == [("Achieved",), ("Achieved",), ("Achieved",), ("Green",)]
    again = import_file(council.ledger, tmp_path / "out", actor="bob")
    assert again.ok and not again.recorded, again.summary()


def test_a_scale_change_row_with_a_bad_mapping_is_refused_with_nothing_recorded(
    council: System, tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "scale_changes.csv").write_text(
        "programme,from_period,from_scale,scale,mapping,reason\n"
        "outcomes-plan,2024/25 Q4,outcomes,rag,Achieved -> Green,Adopt RAG\n"
        "outcomes-plan,2025/26 Q1,rag,outcomes,Green = Achieved,Back again\n",
        encoding="utf-8",
    )
    before = council.ledger.get_log_position()
    result = import_file(council.ledger, folder, actor="bob")
    assert [(p.row, p.column) for p in result.problems] == [(2, "mapping"), (3, "mapping")]
    assert "replaces 'Partly achieved'" in result.problems[0].message
    assert "'Green = Achieved' does not map a status" in result.problems[1].message
    assert council.ledger.get_log_position() == before


def test_risks_rated_either_side_of_a_change_of_scale_export_and_import_back(
    council: System, tmp_path: Path
) -> None:
    # A risk register exported after a change of scale names the old scale's words for
    # periods before the change; the import must check each row against its own period.
    ledger = council.ledger
    ledger.change_scale("outcomes-plan", "rag", actor="pm", reason="Council adopts RAG", mapping=MAPPING,
                        from_period=Q4)
    ledger.raise_risk("outcomes-plan", "R1", description="Supplier fails", rag_before="Not achieved",
                      mitigation="Second supplier", rag_after="Partly achieved", period=Q[0], actor="pm")
    ledger.rerate_risk("outcomes-plan", "R1", rag_before="Red", mitigation="Second supplier",
                       rag_after="Amber", period=Q4, actor="pm", reason="New scale")
    export(ledger, tmp_path / "out")
    history = (
        "SELECT period, rag_before, rag_after FROM risk_history WHERE programme = 'outcomes-plan' "
        "AND ref = 'R1' ORDER BY period_start"
    )
    with open_system(tmp_path / "fresh") as fresh:
        result = import_file(fresh.ledger, tmp_path / "out", actor="bob")
        assert result.ok, result.problems
        with sqlite3.connect(fresh.projections_db) as conn:
            assert conn.execute(history).fetchall() == [
                (Q[0], "Not achieved", "Partly achieved"), (Q4, "Red", "Amber"),
            ]
    again = import_file(ledger, tmp_path / "out", actor="bob")
    assert again.ok and not again.recorded, again.summary()
