"""A rebuild indexes audit_log's text a page behind the replay, on a second thread
(projections.pipeline): it must give the same file as a build on one thread, wait for
the thread before any use of the connection, and fail whole, with the thread's message,
when the thread fails."""

from __future__ import annotations

import inspect
import sqlite3
import threading
import time
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
from projections.pipeline import SearchBehind
from projections.projector import ProjectionFailed
from projections.state import State
from projections.system import build, open_system, rebuild


def _search(path: Path) -> list[tuple[Any, ...]]:
    """Every token audit_log's full-text index holds (term, row, column, offset), after
    FTS5's own integrity-check of the index."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("INSERT INTO audit_log_fts (audit_log_fts) VALUES ('integrity-check')")
        conn.execute("CREATE VIRTUAL TABLE temp.tokens USING fts5vocab(main, audit_log_fts, 'instance')")
        return conn.execute("SELECT * FROM temp.tokens ORDER BY doc, col, offset").fetchall()
    finally:
        conn.close()


def _search_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("search-behind")]


def test_a_cramped_build_with_the_search_thread_equals_one_on_a_single_thread(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny pages and a tiny cache: rows are evicted after nearly every page and read
    back from SQLite while the thread is still indexing the page before."""
    record_plan(ledger)
    record_send(ledger)
    monkeypatch.setattr(state_module, "CACHE_LIMIT", 3)
    with monkeypatch.context() as one_thread:
        one_thread.setattr(system_module, "SearchBehind", lambda conn: None)
        build(ledger, tmp_path / "one-thread.db", page_size=4, ratings_at_end=True)

    index = SearchBehind._index

    def slow_index(self: SearchBehind, after: int, last: int) -> None:
        time.sleep(0.002)  # so the main thread reaches its reads while the page is in flight
        index(self, after, last)

    waited: list[str] = []
    settle = SearchBehind.settle

    def watched_settle(self: SearchBehind) -> None:
        pending = self._pending
        if pending is not None and not pending.done():
            waited.append(_caller())
        settle(self)

    monkeypatch.setattr(SearchBehind, "_index", slow_index)
    monkeypatch.setattr(SearchBehind, "settle", watched_settle)
    build(ledger, tmp_path / "two-threads.db", page_size=4, ratings_at_end=True)

    assert "get" in waited  # an evicted row was read after waiting for the thread
    assert dump(tmp_path / "two-threads.db") == dump(tmp_path / "one-thread.db")
    one_thread_search = _search(tmp_path / "one-thread.db")
    assert _search(tmp_path / "two-threads.db") == one_thread_search
    assert len({doc for _, doc, *_ in one_thread_search}) > 10  # many rows with text to index
    assert not _search_threads()


def _caller() -> str:
    """The function that called settle (State.get, the page's flush...)."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None and frame.f_back.f_back is not None
    return frame.f_back.f_back.f_code.co_name


@pytest.fixture
def built(data_dir: Path) -> dict[str, Any]:
    """A projected system, closed: its read model and the file's bytes."""
    with open_system(data_dir) as system:
        record_plan(system.ledger)
        record_send(system.ledger)
    return {"live": dump(data_dir / "projections.db"), "bytes": (data_dir / "projections.db").read_bytes()}


def _fail_on_call(n: int, error: Exception, real: Any) -> Any:
    calls = {"count": 0}

    def failing(*args: Any) -> Any:
        calls["count"] += 1
        if calls["count"] == n:
            raise error
        return real(*args)

    return failing


def _index_fails(monkeypatch: pytest.MonkeyPatch, page: int, message: str) -> None:
    """The search thread fails on its `page`-th page, as SQLite would."""
    failing = _fail_on_call(page, sqlite3.OperationalError(message), SearchBehind._index)
    monkeypatch.setattr(SearchBehind, "_index", failing)


def _rebuild_small_pages(data_dir: Path) -> int:
    """`govledger rebuild` in pages of 5 events, so the thread has several to index."""
    ledger = open_ledger(data_dir)
    try:
        return system_module.build_into_place(ledger, projections_path(data_dir), page_size=5)
    finally:
        ledger.close()


def test_the_search_thread_failing_mid_build_fails_it_and_leaves_the_live_file(
    data_dir: Path, built: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _index_fails(monkeypatch, 3, "disk I/O error")
    with pytest.raises(
        ProjectionFailed, match=r"Indexing the text of positions 11 to 15 failed: disk I/O error"
    ):
        _rebuild_small_pages(data_dir)
    assert (data_dir / "projections.db").read_bytes() == built["bytes"]
    assert not [p.name for p in data_dir.iterdir() if "rebuild" in p.name]  # the scratch file is gone
    assert not _search_threads()


def test_the_command_reports_the_search_threads_error_and_replaces_nothing(
    data_dir: Path, built: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _index_fails(monkeypatch, 1, "database or disk is full")
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "rebuild"])
    assert result.exit_code == 1
    assert "The rebuild stopped and nothing was replaced" in result.output
    assert "Indexing the text of positions 1 to" in result.output
    assert "database or disk is full" in result.output
    assert "Traceback" not in result.output
    assert dump(data_dir / "projections.db") == built["live"]
    assert not _search_threads()


def test_a_flush_failing_while_the_thread_indexes_fails_the_build_whole(
    data_dir: Path, built: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        State, "flush", _fail_on_call(4, sqlite3.IntegrityError("UNIQUE constraint failed"), State.flush)
    )
    with pytest.raises(ProjectionFailed, match="UNIQUE constraint failed"):
        _rebuild_small_pages(data_dir)
    assert (data_dir / "projections.db").read_bytes() == built["bytes"]
    assert not _search_threads()
    # And the next rebuild, nothing failing, replaces it as usual.
    monkeypatch.undo()
    rebuild(data_dir)
    assert data_tables(dump(data_dir / "projections.db")) == data_tables(built["live"])
