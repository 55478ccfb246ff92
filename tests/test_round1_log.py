"""An event log written by round 1's code (before the layout moved classes between modules)
still verifies with the same head and replays to exactly the projections round 1 built.

The fixture (tests/fixtures/round1/) is the demo's log plus one of every other command,
written by round 1's code: 265 events of 32 topics such as `ledger.domain:Item.StatusRecorded`.
`projections.json` is round 1's own projections of it: every table and view, its columns
and its rows. Later rounds may add tables and columns, but must give round 1's columns the
same rows.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from ledger.application import Ledger
from ledger.config import event_store_env
from ledger.store import verify_store
from projections.system import build

ROUND1 = Path(__file__).parent / "fixtures" / "round1"


def _round1_columns(path: Path, tables: dict[str, Any]) -> dict[str, Any]:
    """The replayed read model cut down to round 1's tables and columns, rows sorted as the
    fixture's are (through JSON, so values compare as the fixture stores them)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        replayed = {}
        for name, table in tables.items():
            columns = ", ".join(f'"{column}"' for column in table["columns"])
            rows = [list(row) for row in conn.execute(f'SELECT {columns} FROM "{name}"')]
            replayed[name] = {"columns": table["columns"], "rows": sorted(rows, key=repr)}
    finally:
        conn.close()
    return json.loads(json.dumps(replayed, sort_keys=True, default=str))


def _copy_of_the_log(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(ROUND1 / "events.db", data / "events.db")
    return data


def test_the_round1_log_holds_its_topics() -> None:
    with sqlite3.connect(f"file:{ROUND1 / 'events.db'}?mode=ro&immutable=1", uri=True) as conn:
        topics = {topic for (topic,) in conn.execute("SELECT DISTINCT topic FROM stored_events")}
    assert len(topics) == 32
    assert "ledger.domain:Item.StatusRecorded" in topics


def test_a_round1_log_verifies_with_the_same_head(tmp_path: Path) -> None:
    data = _copy_of_the_log(tmp_path)
    result = verify_store(event_store_env(data), ROUND1 / "checkpoint.json")
    checkpoint = json.loads((ROUND1 / "checkpoint.json").read_text())
    assert result.ok, result
    assert result.head_hex == checkpoint["head"]


def test_a_round1_log_replays_to_round1s_projections(tmp_path: Path) -> None:
    data = _copy_of_the_log(tmp_path)
    ledger = Ledger(env=event_store_env(data))
    try:
        applied = build(ledger, tmp_path / "replayed.db")
    finally:
        ledger.close()
    assert applied == 265
    expected = json.loads((ROUND1 / "projections.json").read_text())
    assert len(expected) == 21
    assert _round1_columns(tmp_path / "replayed.db", expected) == expected
