"""The SQLite event store's connections keep a real statement cache (ledger.store.connections).

eventsourcing 9.5.6 asks sqlite3 for `cached_statements=True`, a cache of one statement,
so each of a save's statements was compiled again every time."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ledger.application import open_ledger
from ledger.store import connections


@pytest.fixture(autouse=True)
def _sqlite_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)


def test_every_event_store_connection_is_made_with_the_standard_statement_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[dict[str, Any]] = []
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        made.append(kwargs)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(connections.sqlite3, "connect", connect)
    ledger = open_ledger(tmp_path)
    try:
        ledger.register_programme("plan", "Plan", cadence="quarterly", actor="officer")
        ledger.register_item("plan", "A1", kind="action", title="An action", actor="officer")
        ledger.record_status("plan", "A1", period="2026/27 Q1", status="Amber", update="Late.",
                             mitigation="Recovery plan.", actor="officer")
        pool = ledger.recorder.datastore.pool  # type: ignore[attr-defined]
        assert isinstance(pool, connections.StatementCachingPool)
        assert made, "the event store opened no connection through the caching pool"
        assert all(kwargs["cached_statements"] == connections.STATEMENT_CACHE_SIZE for kwargs in made)
        # Everything else as the library makes them: WAL, rows by name, autocommit.
        with ledger.recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode")
            row = cursor.fetchone()
            assert row["journal_mode"] == "wal"
        assert len(ledger.recorder.select_events_after({})) == 0  # type: ignore[attr-defined]
        assert ledger.get_item("plan", "A1")["ratings"]["2026/27 Q1"]["status"] == "Amber"
    finally:
        ledger.close()
