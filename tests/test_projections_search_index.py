"""The full-text indexes: external content, no per-row sizes, kept in step by triggers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from test_projections_support import PLAN, Q1, record_plan

from projections import queries
from projections.schema import search_tables
from projections.system import build, open_system


def test_search_indexes_hold_no_sizes_and_stay_in_step_live_and_rebuilt(tmp_path: Path) -> None:
    with open_system(tmp_path) as system:
        record_plan(system.ledger)
        # A re-rating and revised texts: the live audit rows are written and then reworded.
        for words in ("Kaleidoscope slipped", "Kaleidoscope recovered, board informed"):
            system.ledger.record_status(
                PLAN, "A1.1.1", period=Q1, status="Amber", update=words, mitigation="Weekly board",
                actor="jo.lead", reason="New information",
            )
        system.ledger.correct_status(
            PLAN, "A1.1.1", period=Q1, status="Red", update="Kaleidoscope stalled",
            mitigation="Escalated to the board", actor="jo.lead", reason="Late information",
        )
        # A section written again: an upsert, so the index's UPDATE trigger runs.
        system.ledger.write_narrative(
            PLAN, period=Q1, section="challenges", text="Kaleidoscope rollout delayed.", actor="perf.team"
        )
        live = system.projections_db
        rebuilt = tmp_path / "rebuilt.db"
        build(system.ledger, rebuilt)
    for db in (live, rebuilt):
        conn = sqlite3.connect(db)
        try:
            names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
            for table in search_tables():
                fts = f"{table.name}_fts"
                sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (fts,)).fetchone()[0]
                assert f'content="{table.name}"' in sql and "columnsize=0" in sql
                assert f"{fts}_docsize" not in names
                # FTS5 checks every indexed token against the content rows: fails if a
                # trigger missed an insert, update or delete.
                conn.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('integrity-check', 1)")
        finally:
            conn.close()
    assert not queries.search(live, "recruitment")
    for words in ("kaleidoscope", "board", "stalled", "recovered informed", "rollout"):
        found = queries.search(live, words)
        assert found == queries.search(rebuilt, words)
        assert found and all(f["ref"] == "A1.1.1" for f in found if f["source"] == "update")
    stalled = [f["text"] for f in queries.search(live, "stalled")]
    assert stalled == ["Kaleidoscope stalled Escalated to the board"]


def test_a_programme_search_reads_the_matches_first(tmp_path: Path) -> None:
    """Given a programme, SQLite walked that programme's audit rows and ran the full-text
    query once for each (seconds per search at 100k events): the matches come first."""
    with open_system(tmp_path) as system:
        record_plan(system.ledger)
        db = system.projections_db
    conn = sqlite3.connect(db)
    try:
        statements: list[str] = []
        conn.set_trace_callback(statements.append)  # with the values bound (Python 3.11)
        found = queries.search(conn, "budget", programme=PLAN)
        conn.set_trace_callback(None)
        (sql,) = [s for s in statements if "MATCH" in s]
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    finally:
        conn.close()
    assert [f["source"] for f in found] == ["risk"]
    assert not [step for step in plan if "idx_audit_log_programme" in step], plan
