"""Issue 14 item 4: a status event's texts are held once, in its audit_log row.
status_events is a view over those rows, and status_history a view joining period_ratings
to the audit row of the event in force: same columns, rows, search and Datasette pages."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from test_projections_support import PLAN, Q1, dump, record_plan

from projections import queries
from projections.datasette_config import make_datasette
from projections.schema import SCHEMA_VERSION
from projections.system import build, open_system

AUDITOR = {"id": "ann.auditor", "roles": ["auditor"]}
COLUMNS = [
    *("position", "programme", "ref", "period", "period_start", "event_type", "status", "category"),
    *("update", "mitigation", "reason", "recorded_by", "recorded_at", "version", "corrects_version"),
]


def _record(data_dir: Path) -> Path:
    with open_system(data_dir) as system:
        record_plan(system.ledger)
        system.ledger.correct_status(
            PLAN, "A1.1.1", period=Q1, status="Red", update="Kaleidoscope slipped",
            mitigation="Escalated to the board", actor="jo.lead", reason="Late information",
        )
        return system.projections_db


def test_each_text_is_held_once_and_the_view_shows_every_status_event(tmp_path: Path) -> None:
    db = _record(tmp_path)
    conn = sqlite3.connect(db)
    try:
        kinds = dict(conn.execute("SELECT name, type FROM sqlite_master WHERE name = 'status_events'"))
        assert kinds == {"status_events": "view"}
        columns = [row[1] for row in conn.execute("PRAGMA table_xinfo(status_events)")]
        assert columns == COLUMNS
        # One status_events row per status event in the log, nothing else.
        (events,) = conn.execute(
            "SELECT count(*) FROM audit_log WHERE event_type IN ('StatusRecorded', 'StatusCorrected')"
        ).fetchone()
        assert conn.execute("SELECT count(*) FROM status_events").fetchone()[0] == events > 0
        # The correction: its texts, reason and the version it corrects, as recorded.
        row = conn.execute(
            "SELECT event_type, status, category, \"update\", mitigation, reason, recorded_by, "
            "corrects_version, version FROM status_events WHERE ref = 'A1.1.1' AND period = ? "
            "ORDER BY position DESC LIMIT 1",
            (Q1,),
        ).fetchone()
        assert row[:7] == (
            "corrected", "Red", "red", "Kaleidoscope slipped", "Escalated to the board",
            "Late information", "jo.lead",
        )
        assert row[7] is not None and row[8] == row[7] + 1
        # Other events leave a status event's columns empty.
        assert conn.execute(
            "SELECT count(*) FROM audit_log WHERE event_type NOT IN ('StatusRecorded', 'StatusCorrected') "
            "AND coalesce(\"update\", status, period_start) IS NOT NULL"
        ).fetchone()[0] == 0
    finally:
        conn.close()
    found = queries.search(db, "kaleidoscope")
    assert [(f["source"], f["ref"], f["period"], f["recorded_by"]) for f in found] == [
        ("update", "A1.1.1", Q1, "jo.lead")
    ]
    assert [f["ref"] for f in queries.search(db, "escalated board")] == ["A1.1.1"]


def _get(db: Path, path: str) -> Any:
    ds = make_datasette(db)

    async def request() -> Any:
        return await ds.client.get(path, cookies={"ds_actor": ds.sign({"a": AUDITOR}, "actor")})

    return asyncio.run(request())


def test_datasette_searches_the_status_events_view(tmp_path: Path) -> None:
    db = _record(tmp_path)
    page = _get(db, f"/{db.stem}/status_events.json?_search=kaleidoscope&_shape=array")
    assert page.status_code == 200, page.text
    assert [(r["ref"], r["event_type"], r["update"]) for r in page.json()] == [
        ("A1.1.1", "corrected", "Kaleidoscope slipped")
    ]
    # Newest first, as the tables they replace were shown.
    listed = _get(db, f"/{db.stem}/status_events.json?_shape=array").json()
    assert [r["position"] for r in listed] == sorted((r["position"] for r in listed), reverse=True)
    assert listed[0]["update"] == "Kaleidoscope slipped"
    history = _get(db, f"/{db.stem}/status_history.json?_shape=array").json()
    assert [r["period_start"] for r in history] == sorted((r["period_start"] for r in history), reverse=True)


def test_a_revised_text_is_audited_from_the_text_in_force(tmp_path: Path) -> None:
    """The audit row of a revised update names the text it replaced, read from the audit
    row of the event in force: in the same page (a rebuild) or an earlier one (live)."""
    with open_system(tmp_path) as system:
        system.ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="pm")
        system.ledger.register_item(PLAN, "A1", kind="action", title="Action A1", actor="pm")
        for words in ("First words.", "Second words.", "Third words."):
            system.ledger.record_status(PLAN, "A1", period=Q1, status="Green", update=words, actor="jo")
        build(system.ledger, tmp_path / "rebuilt.db")
        live = system.projections_db
        for db in (live, tmp_path / "rebuilt.db"):
            conn = sqlite3.connect(db)
            try:
                revised = conn.execute(
                    "SELECT summary, from_value, to_value FROM audit_log WHERE field = 'update' "
                    "ORDER BY position"
                ).fetchall()
                history = conn.execute(
                    'SELECT "update", recorded_by, updates_count FROM status_history'
                ).fetchall()
            finally:
                conn.close()
            assert revised == [
                (f"recorded Green for {Q1}: update revised", "First words.", "Second words."),
                (f"recorded Green for {Q1}: update revised", "Second words.", "Third words."),
            ]
            assert history == [("Third words.", "jo", 3)]
        assert dump(tmp_path / "rebuilt.db") == dump(live)


def test_a_read_model_of_the_previous_shape_is_rebuilt_on_open(tmp_path: Path) -> None:
    """A projections.db of the previous schema (status_events and status_history tables
    of their own) is rebuilt into the new shape when the system opens it."""
    db = _record(tmp_path)
    expected = dump(db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DROP VIEW status_events")
        conn.execute(f"CREATE TABLE status_events ({', '.join(f'{c!r}' for c in COLUMNS)})")
        history = [row[1] for row in conn.execute("PRAGMA table_xinfo(status_history)")]
        conn.execute("DROP VIEW status_history")
        conn.execute("DROP TABLE period_ratings")
        conn.execute(f"CREATE TABLE status_history ({', '.join(f'{c!r}' for c in history)})")
        conn.execute("UPDATE projection_position SET schema_version = ?", (SCHEMA_VERSION - 1,))
    conn.close()
    with open_system(tmp_path) as reopened:
        assert dump(reopened.projections_db) == expected
        conn = sqlite3.connect(reopened.projections_db)
        try:
            kinds = conn.execute(
                "SELECT name, type FROM sqlite_master WHERE name IN ('status_events', 'status_history') "
                "ORDER BY name"
            ).fetchall()
            assert kinds == [("status_events", "view"), ("status_history", "view")]
        finally:
            conn.close()
