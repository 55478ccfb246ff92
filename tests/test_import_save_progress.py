"""A big import's progress does not sit at full while it saves: after the rows, the save
reports the events going into the log, then the read model catching up to them, each
counted in events, so a bar (or a job's page) keeps moving to the end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_import import generated
from test_import_spill import lists_of

from ledger.application.progress import counted, projecting, reporting_save
from ledger.transfer.importing import prepare, record
from projections.system import open_system


def test_the_save_reports_its_events_then_the_read_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    lists_of(monkeypatch, 2_000)  # a big file's save: spilled, inserted 5,000 events a chunk
    folder = generated(tmp_path / "in", 4_500)
    calls: dict[str, list[tuple[int, int]]] = {"rows": [], "saving": [], "projecting": []}

    def reporter(stage: str) -> Callable[[int, int], None]:
        return lambda done, total: calls[stage].append((done, total))

    with open_system(tmp_path / "data") as system:
        start = system.ledger.get_log_position()
        result = record(
            system.ledger, prepare(system.ledger, folder), actor="bulk", progress=reporter("rows"),
            saving=reporter("saving"), projecting=reporter("projecting"),
        )
        assert result.ok and result.recorded
        events = system.ledger.get_log_position() - start
    assert events == result.event_count == 5_001
    assert calls["rows"][-1] == (5_001, 5_001)
    assert calls["saving"] == [(5_000, events), (5_001, events)]
    projected = calls["projecting"]
    assert projected[-1] == (events, events) and len(projected) >= 5  # a page of 1,000 at a time
    assert [done for done, _ in projected] == sorted(done for done, _ in projected)


def test_nothing_is_reported_outside_a_save_that_asked() -> None:
    assert list(counted([[1, 2], [3]])) == [[1, 2], [3]]
    assert projecting(10) is None
    seen: list[tuple[int, int]] = []
    with reporting_save(None, lambda done, total: seen.append((done, total)), 4):
        report = projecting(10)  # the save's events are positions 7 to 10
        assert report is not None
        report(6, 10)
        report(8, 12)
        report(10, 12)
    assert seen == [(0, 4), (2, 4), (4, 4)]
    assert projecting(10) is None
