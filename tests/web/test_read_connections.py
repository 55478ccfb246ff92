"""The read model's connection is kept from request to request (web.backend.ReadConnections)
and still shows every commit: the schema is parsed once, not on every page."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from flask import Flask
from web_helpers import PROGRAMME

from projections.queries import connect_read_only as connect
from web import backend
from web.backend import System, read_model
from web.permissions import public


@pytest.fixture
def probe(app: Flask) -> Flask:
    """A page reporting which connection it read with, and the programmes it saw."""

    @app.route("/probe")
    @public
    def probe() -> dict[str, object]:
        conn = read_model()
        names = [r[0] for r in conn.execute("SELECT programme FROM programmes ORDER BY programme")]
        return {"connection": id(conn), "programmes": names}

    @app.route("/probe/leave-open")
    @public
    def leave_open() -> dict[str, object]:
        conn = read_model()
        conn.execute("BEGIN")  # a read transaction left open by a careless page
        conn.execute("SELECT count(*) FROM programmes").fetchall()
        return {"in_transaction": conn.in_transaction}

    return app


def test_the_connection_is_kept_and_sees_each_commit(
    probe: Flask, system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[object] = []
    monkeypatch.setattr(backend, "connect_read_only", lambda path: opened.append(path) or connect(path))
    client = probe.test_client()
    first = client.get("/probe").json
    system.ledger.register_programme("new-plan", "New plan", cadence="monthly", actor="setup")
    second = client.get("/probe").json
    assert len(opened) == 1 and second["connection"] == first["connection"]
    assert "new-plan" not in first["programmes"] and "new-plan" in second["programmes"]


def test_a_transaction_left_open_ends_with_the_request(probe: Flask, system: System) -> None:
    client = probe.test_client()
    assert client.get("/probe/leave-open").json == {"in_transaction": True}
    system.ledger.register_programme("after-plan", "After plan", cadence="monthly", actor="setup")
    assert "after-plan" in client.get("/probe").json["programmes"]


def test_a_replaced_file_is_opened_again(probe: Flask, system: System, tmp_path: Path) -> None:
    client = probe.test_client()
    before = client.get("/probe").json
    live = Path(system.projections_db)
    copy = tmp_path / "replacement.db"
    source, conn = sqlite3.connect(live), sqlite3.connect(copy)
    source.backup(conn)
    source.close()
    conn.execute("PRAGMA journal_mode=DELETE")  # so the live file's -wal is not its own
    with conn:
        conn.execute("DELETE FROM programmes WHERE programme = ?", (PROGRAMME,))
    conn.close()
    copy.replace(live)  # a new file (another inode) where the old one was
    after = client.get("/probe").json
    assert PROGRAMME in before["programmes"] and PROGRAMME not in after["programmes"]
    assert after["connection"] != before["connection"]
