"""A rebuild's pages are written by a process of its own while the main process applies
the next page (projections.pipeline): it must give the same file as a build in one
process, wait for the writer before reading the file, and fail whole, with the writer's
message, when the writer fails; the writer never outlives the build."""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_projections_support import data_tables, dump, record_plan, record_send

import projections.state as state_module
import projections.system as system_module
from govledger.cli import main
from ledger.application import Ledger, open_ledger
from ledger.config import projections_path
from projections.handlers import HANDLERS
from projections.pipeline import PageWriter
from projections.projector import ProjectionFailed
from projections.state import State
from projections.system import build, rebuild


def _tokens(path: Path) -> list[tuple[Any, ...]]:
    """Every token audit_log's full-text index holds (term, row, column, offset), after
    FTS5's own integrity-check of the index."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("INSERT INTO audit_log_fts (audit_log_fts) VALUES ('integrity-check')")
        conn.execute("CREATE VIRTUAL TABLE temp.tokens USING fts5vocab(main, audit_log_fts, 'instance')")
        return conn.execute("SELECT * FROM temp.tokens ORDER BY doc, col, offset").fetchall()
    finally:
        conn.close()


@pytest.fixture
def writers(monkeypatch: pytest.MonkeyPatch) -> list[PageWriter]:
    """Every writer started, to check none is left running."""
    started: list[PageWriter] = []
    start = PageWriter.__init__

    def recorded(self: PageWriter, *args: Any, **kwargs: Any) -> None:
        start(self, *args, **kwargs)
        started.append(self)

    monkeypatch.setattr(PageWriter, "__init__", recorded)
    monkeypatch.setattr(system_module, "spare_core", lambda: True)  # on a one-CPU machine too
    return started


def _all_stopped(writers: list[PageWriter]) -> bool:
    return bool(writers) and all(w._process.poll() is not None for w in writers)


def test_a_cramped_build_with_a_writer_process_equals_one_in_a_single_process(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writers: list[PageWriter]
) -> None:
    """Tiny pages and a tiny cache: rows are evicted after nearly every page and read
    back from the file while the writer still has the page before in hand."""
    record_plan(ledger)
    record_send(ledger)
    monkeypatch.setattr(state_module, "CACHE_LIMIT", 3)
    with monkeypatch.context() as one_process:
        one_process.setattr(system_module, "PageWriter", lambda path, search: None)
        build(ledger, tmp_path / "one.db", page_size=4, ratings_at_end=True)

    waited: list[str] = []
    settle = PageWriter.settle

    def watched_settle(self: PageWriter) -> None:
        if self._sent:  # a page sent and not yet answered
            frame = inspect.currentframe()
            waited.append(frame.f_back.f_code.co_name)  # type: ignore[union-attr]
        settle(self)

    monkeypatch.setattr(PageWriter, "settle", watched_settle)
    build(ledger, tmp_path / "two.db", page_size=4, ratings_at_end=True)

    assert "get" in waited  # an evicted row was read after waiting for the writer
    assert dump(tmp_path / "two.db") == dump(tmp_path / "one.db")
    tokens = _tokens(tmp_path / "one.db")
    assert _tokens(tmp_path / "two.db") == tokens
    assert len({doc for _, doc, *_ in tokens}) > 10  # many rows with text to index
    assert _all_stopped(writers)


@pytest.fixture
def built(data_dir: Path) -> dict[str, Any]:
    """A projected system, closed: its read model and the file's bytes."""
    with system_module.open_system(data_dir) as system:
        record_plan(system.ledger)
        record_send(system.ledger)
    return {"live": dump(data_dir / "projections.db"), "bytes": (data_dir / "projections.db").read_bytes()}


def _writes_fail(monkeypatch: pytest.MonkeyPatch, page: int) -> None:
    """The `page`-th page sent carries a write SQLite refuses, so the writer fails on it."""
    calls = {"count": 0}
    writes = State.writes

    def failing(self: State) -> list[tuple[str, list[tuple[Any, ...]], bool]]:
        calls["count"] += 1
        found = writes(self)
        if calls["count"] == page:
            found.append(("INSERT INTO audit_log (position) VALUES (?)", [(1,)], True))
        return found

    monkeypatch.setattr(State, "writes", failing)


def _rebuild_small_pages(data_dir: Path) -> int:
    """`govledger rebuild` in pages of 5 events, so the writer has several to write."""
    ledger = open_ledger(data_dir)
    try:
        return system_module.build_into_place(ledger, projections_path(data_dir), page_size=5)
    finally:
        ledger.close()


def test_the_writer_failing_mid_build_fails_it_and_leaves_the_live_file(
    data_dir: Path, built: dict[str, Any], monkeypatch: pytest.MonkeyPatch, writers: list[PageWriter]
) -> None:
    _writes_fail(monkeypatch, 3)
    failed = r"Writing positions 11 to 15 failed: UNIQUE constraint failed: audit_log.position"
    with pytest.raises(ProjectionFailed, match=failed):
        _rebuild_small_pages(data_dir)
    assert (data_dir / "projections.db").read_bytes() == built["bytes"]
    assert not [p.name for p in data_dir.iterdir() if "rebuild" in p.name]  # the scratch file is gone
    assert _all_stopped(writers)


def test_the_command_reports_the_writers_error_and_replaces_nothing(
    data_dir: Path, built: dict[str, Any], monkeypatch: pytest.MonkeyPatch, writers: list[PageWriter]
) -> None:
    _writes_fail(monkeypatch, 1)
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "rebuild"])
    assert result.exit_code == 1
    assert "The rebuild stopped and nothing was replaced" in result.output
    assert "Writing positions 1 to" in result.output
    assert "UNIQUE constraint failed: audit_log.position" in result.output
    assert "Traceback" not in result.output
    assert dump(data_dir / "projections.db") == built["live"]
    assert _all_stopped(writers)


def test_a_handler_failing_while_a_page_is_being_written_fails_the_build_whole(
    data_dir: Path, built: dict[str, Any], monkeypatch: pytest.MonkeyPatch, writers: list[PageWriter]
) -> None:
    calls = {"count": 0}
    record_status = HANDLERS["Item.StatusRecorded"]

    def failing(event: Any, state: State) -> Any:
        calls["count"] += 1
        if calls["count"] == 2:
            raise ValueError("no such period")
        return record_status(event, state)

    monkeypatch.setitem(HANDLERS, "Item.StatusRecorded", failing)
    monkeypatch.setattr(system_module.RatingsAtEnd, "appliers", lambda self, mapper: {})
    monkeypatch.setattr(system_module.RatingsAtEnd, "handlers", lambda self, handlers: dict(handlers))
    with pytest.raises(ProjectionFailed, match="no such period"):
        _rebuild_small_pages(data_dir)
    assert (data_dir / "projections.db").read_bytes() == built["bytes"]
    assert _all_stopped(writers)
    monkeypatch.undo()  # the next rebuild, nothing failing, replaces it as usual
    rebuild(data_dir)
    assert data_tables(dump(data_dir / "projections.db")) == data_tables(built["live"])
