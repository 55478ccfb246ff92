"""bench/bench_update_sql.py: the SQLite floor under one update is only a floor if its
replay writes what the updates wrote; the bench checks that, and says so."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import bench_update_sql


@pytest.fixture(autouse=True)
def _sqlite_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)


def test_the_replay_writes_every_row_the_updates_wrote(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_update_sql.main(["--items", "2", "--history", "2", "--updates", "20"]) == 0
    out = capsys.readouterr().out
    assert "after the replay both copies hold the same rows" in out
    for label in ("raw one-row transaction", "SQLite floor", "ours, end to end"):
        assert label in out
    # Each update: the aggregates' read, two events with their chain and tree rows, the
    # read model's rows and position, and get_review's read; two commits.
    assert "per update 19 statements and 2 commits" in out


def test_a_replay_that_leaves_out_the_read_model_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = bench_update_sql.replay

    def events_only(connections: dict[str, Any], calls: list[Any]) -> None:
        real(connections, [c for c in calls if c[0] == bench_update_sql.EVENTS_DB])

    monkeypatch.setattr(bench_update_sql, "replay", events_only)
    refused = r"did not write what the updates did \(ours\): projections.db:audit_log"
    with pytest.raises(SystemExit, match=refused):
        bench_update_sql.main(["--items", "2", "--history", "2", "--updates", "10"])
