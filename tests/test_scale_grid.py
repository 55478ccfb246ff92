"""Issue 11's first test as written: a programme on a custom four-status scale imports a
history grid of several quarters (one row per item, one column per quarter, cells in the
council's words and aliases), and rag_summary reproduces the published per-status counts
exactly for each quarter."""

from __future__ import annotations

import csv
from pathlib import Path

import test_scales
from test_import import write_folder
from test_scales import OUTCOME_COUNTS, Q, council_tables, summary_counts

from ledger.transfer.importing import import_file
from projections.system import System

system = test_scales.system  # an empty ledger, as a fixture


def test_a_four_status_grid_reproduces_the_published_counts_per_quarter(
    system: System, tmp_path: Path
) -> None:
    tables = council_tables()
    outcomes = [s for s in tables["statuses"] if s["programme"] == "outcomes-plan"]
    refs = sorted({s["ref"] for s in outcomes}, key=lambda ref: int(ref[1:]))
    cell = {(s["ref"], s["period"]): s["status"] for s in outcomes}  # aliases as the council wrote them
    # A printed grid carries no mitigation text, so the programme does not require it.
    programme = {**tables["programmes"][0], "requires_mitigation": "no"}
    folder = write_folder(tmp_path / "council", {"scales": tables["scales"], "programmes": [programme]})
    with (folder / "history.csv").open("w", encoding="utf-8", newline="") as handle:
        grid = csv.writer(handle)
        grid.writerow(["programme", "ref", "title", *(p.replace("2024/25 ", "") + " 24/25" for p in Q)])
        grid.writerows(["outcomes-plan", ref, f"Objective {ref}", *(cell[ref, p] for p in Q)] for ref in refs)
    result = import_file(system.ledger, folder, actor="pm")
    assert result.ok, result.problems
    system.projector.catch_up()
    assert {"PA", "Met"} <= set(cell.values())  # aliases in the cells, recorded as the statuses
    for period, expected in OUTCOME_COUNTS.items():
        assert summary_counts(system.projections_db, "outcomes-plan", period) == {
            status: n for status, n in expected.items() if n
        }
