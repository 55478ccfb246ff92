"""One programme as at a position or time (projections.asat) equals a whole replay to
that position, for that programme's rows: on generated histories of several programmes
with corrections, retirements, scale changes, reviews, accounts and publications."""

from __future__ import annotations

import sqlite3
import tempfile
from contextlib import closing
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_projections_replay import PROLOGUE, apply, operation
from test_projections_support import dump

from govledger.commands.projections import snapshot_command
from ledger.store.events import record_positions
from projections.asat import (
    SnapshotCache,
    position_at,
    programme_records,
    programme_snapshot,
    programme_snapshot_with,
)
from projections.asat_live import NOT_COPIED, copy_from_live
from projections.queries.flags import register_flags_function
from projections.schema import TABLES
from projections.system import build, open_system

PROGRAMMES = ("plan", "send", "trust")


def programme_rows(path: Path, programme: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table and view's rows that are the programme's, or no programme's (accounts,
    scales): where a table names a programme, the rows naming this one or none. Background
    jobs (issue 14) are left out: they are the system's work, not what a programme's pages
    showed, so a programme's as-at does not replay them."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        register_flags_function(conn)  # the flags view calls it
        for name, table in dump(path).items():
            if name in ("projection_position", "jobs"):  # background jobs are no programme's page
                continue
            columns = [c[1] for c in conn.execute(f'PRAGMA table_info("{name}")')]
            if "aggregate_kind" in columns:
                kind = columns.index("aggregate_kind")
                table = [r for r in table if r[kind] != "Job"]
            if "programme" in columns:
                at = columns.index("programme")
                table = [r for r in table if r[at] in (programme, None)]
            rows[name] = table
    return rows


def position_of(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT position FROM projection_position").fetchone()[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(operation, min_size=1, max_size=40),
    st.floats(0, 1),
    st.floats(0, 1),
    st.sampled_from(PROGRAMMES),
)
def test_one_programme_as_at_equals_a_whole_replay_to_that_position(
    ops: list[tuple[Any, ...]], fraction: float, earlier: float, programme: str
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory)
        with open_system(data) as system:
            cadences: dict[str, str] = {}
            for op in [*PROLOGUE, *ops]:
                apply(system.ledger, cadences, op)
            system.projector.catch_up()
            stop = round(system.ledger.get_log_position() * fraction)
            build(system.ledger, data / "whole.db", stop=stop)
            shot = programme_snapshot_with(
                system.ledger, system.projections_db, data / "one.db", programme, stop, page_size=3
            )
            # Caught up from the programme's snapshot at an earlier position: the same rows,
            # with only the events after it replayed.
            start = round(stop * earlier)
            programme_snapshot_with(system.ledger, system.projections_db, data / "base.db", programme, start)
            tail = programme_snapshot_with(
                system.ledger, system.projections_db, data / "tail.db", programme, stop,
                page_size=3, base=data / "base.db",
            )  # fmt: skip
            # Copied from the live read model: at its own position always, and at `stop`
            # when none of the programme's records (nor of no programme) changed since.
            ledger, live, end = system.ledger, system.projections_db, system.ledger.get_log_position()
            copies = {
                at: copy_from_live(ledger, live, data / f"copy-{at}.db", programme, at, "x")
                for at in {end, stop}
            }
            replays = {
                at: programme_snapshot_with(ledger, live, data / f"r-{at}.db", programme, at) for at in copies
            }
            if end != stop:
                build(ledger, data / f"whole-{end}.db", stop=end)
        whole, one = programme_rows(data / "whole.db", programme), programme_rows(data / "one.db", programme)
        assert one == whole
        assert shot.position == position_of(data / "one.db") == stop
        # The programme's record (if it had begun) is there, so pages have something to show.
        assert bool(whole["programmes"]) == bool([r for r in one["programmes"] if r[0] == programme])
        assert programme_rows(data / "tail.db", programme) == whole
        assert position_of(data / "tail.db") == stop
        assert tail.events == shot.events - _events_held(data / "base.db")
        assert copies[end] is not None
        for at, held in copies.items():
            copied = data / f"copy-{at}.db"
            if held is None:  # the programme changed after `stop`: a replay's work
                assert not copied.exists()
                assert at < end
                continue
            whole_then = data / ("whole.db" if at == stop else f"whole-{at}.db")
            assert programme_rows(copied, programme) == programme_rows(whole_then, programme)
            assert position_of(copied) == at
            assert held == replays[at].events == _events_held(copied)


def _events_held(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]


@pytest.fixture
def history(tmp_path: Path) -> Path:
    with open_system(tmp_path) as system:
        cadences: dict[str, str] = {}
        for op in PROLOGUE:
            apply(system.ledger, cadences, op)
    return tmp_path


def test_a_time_stands_for_the_last_event_recorded_at_or_before_it(history: Path) -> None:
    with open_system(history) as system:
        ledger = system.ledger
        last = ledger.get_log_position()
        times = [datetime.fromisoformat(r["recorded_at"]) for r in _audit(system.projections_db)]
        assert position_at(ledger, times[0] - timedelta(seconds=1)) == 0
        assert position_at(ledger, times[-1]) == last
        middle = len(times) // 2
        assert position_at(ledger, times[middle]) == middle + 1
        # Just before an event's time: the one before it.
        assert position_at(ledger, times[middle] - timedelta(microseconds=1)) == middle


def _audit(db: Path) -> list[sqlite3.Row]:
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT position, recorded_at FROM audit_log ORDER BY position").fetchall()


def test_a_programme_snapshot_as_at_a_time_equals_the_whole_snapshot_then(history: Path) -> None:
    with open_system(history) as system:
        moment = _audit(system.projections_db)[20]["recorded_at"]
    shot = programme_snapshot(history, history / "plan.db", "plan", moment)
    assert shot.position == 21
    with open_system(history) as system:
        build(system.ledger, history / "whole.db", stop=21)
    assert programme_rows(history / "plan.db", "plan") == programme_rows(history / "whole.db", "plan")


def test_the_snapshot_command_writes_one_programme(history: Path) -> None:
    runner = CliRunner()
    out = history / "send.db"
    result = runner.invoke(
        snapshot_command,
        ["--as-at", "30", "--programme", "send", "--out", str(out)],
        obj={"data_dir": history},
    )
    assert result.exit_code == 0, result.output
    assert "programme send" in result.output
    with closing(sqlite3.connect(out)) as conn:
        # Only accounts' events (an access granted to plan, say) and the programmes' own
        # (their names, which a dependency's side shows) are about another programme.
        kinds = "('Account', 'Programme')"
        others = f"SELECT DISTINCT programme FROM audit_log WHERE aggregate_kind NOT IN {kinds}"
        assert {r[0] for r in conn.execute(others)} <= {"send", None}
        assert conn.execute("SELECT count(*) FROM items WHERE programme = 'send'").fetchone()[0] > 0
        # Searchable as projections.db is (the cache's copy is not: its pages don't search).
        (update,) = conn.execute("SELECT \"update\" FROM audit_log WHERE \"update\" != '' LIMIT 1").fetchone()
        word = f'"{update.split()[0]}"'
        found = "SELECT count(*) FROM audit_log_fts WHERE audit_log_fts MATCH ?"
        assert conn.execute(found, (word,)).fetchone()[0]
    (cached,) = (history / "cache" / "as-at").glob("programme-*.db")
    with closing(sqlite3.connect(cached)) as conn:
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name LIKE '%_fts'").fetchall()
    unknown = runner.invoke(
        snapshot_command,
        ["--as-at", "30", "--programme", "nope", "--out", str(history / "x.db")],
        obj={"data_dir": history},
    )
    assert unknown.exit_code == 1
    assert "no programme 'nope'" in unknown.output
    assert not (history / "x.db").exists()


def test_the_cache_catches_up_from_the_latest_earlier_snapshot_of_the_same_history(history: Path) -> None:
    with open_system(history) as system:
        ledger, live = system.ledger, system.projections_db
        last = ledger.get_log_position()
        # Before plan's last change: the live read model has plan's later rows, so a replay.
        before = record_positions(ledger.recorder, programme_records(live, "plan"), last)[-1] - 1
        cache = SnapshotCache.of(history)
        first = cache.snapshot(ledger, live, "plan", 20)
        assert first.events == _events_held(first.path) > 0  # from zero
        # A file named as plan's at 21 but holding 25 with 20's chain head: another history.
        other = programme_snapshot_with(ledger, live, history / "25.db", "plan", 25).path
        misnamed = cache.directory / first.path.name.replace("-position-20-", "-position-21-")
        misnamed.write_bytes(other.read_bytes())
        assert cache.base(live, "plan", before) == first.path
        assert cache.base(live, "plan", 19) is None  # nothing cached at or before 19
        later = cache.snapshot(ledger, live, "plan", before)
        assert later.events == _events_held(later.path) - _events_held(first.path) > 0
        build(ledger, history / "before.db", stop=before)
        assert programme_rows(later.path, "plan") == programme_rows(history / "before.db", "plan")
        again = cache.snapshot(ledger, live, "plan", before)
        assert (again.path, again.events) == (later.path, 0)
        # At the live read model's position: copied from it, nothing replayed.
        now = cache.snapshot(ledger, live, "plan", last)
        assert now.events == 0 and _events_held(now.path) > _events_held(later.path)
        build(ledger, history / "whole.db", stop=last)
        assert programme_rows(now.path, "plan") == programme_rows(history / "whole.db", "plan")
        # Never another programme's file.
        send = cache.snapshot(ledger, live, "send", before)
        assert send.events == _events_held(send.path)
        assert programme_rows(send.path, "send") == programme_rows(history / "before.db", "send")


def test_a_copy_from_the_live_read_model_takes_relative_paths(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(history)
    with open_system(history) as system:
        last = system.ledger.get_log_position()
        held = copy_from_live(system.ledger, Path("projections.db"), Path("plan.db"), "plan", last, "now")
        build(system.ledger, history / "whole.db", stop=last)
    assert held == _events_held(history / "plan.db") > 0
    assert programme_rows(history / "plan.db", "plan") == programme_rows(history / "whole.db", "plan")


# After PROLOGUE: something in every table plan's snapshot holds (generated histories
# reach some tables only now and then), so a table the copy left out is missed here.
EVERY_TABLE: list[tuple[Any, ...]] = [
    ("status", "plan", "A1.1", 0, "Green", "on track", "", ""),
    ("indicator", "plan", "VAC", "higher"),
    ("value", "plan", "FTE", 0, Decimal("410"), "", ""),
    ("link_indicators", "plan", "A1.1", ["FTE"]),
    ("note", "plan", "A1.10", 1, "withdrawn"),
    ("retire", "plan", "WS12", 1, ""),
    ("narrative", "plan", 0, "achievements", "on track"),
    ("risk", "plan", "risk", "R1", "Red", "Amber"),
    ("dependency", "plan", "D1", "yes"),
    ("sides", "plan", "D1", "send", "Highways team"),
    ("confirm", "plan", "D1", "provider", "yes", "High", 0),
    ("open", "plan", 0, 30),
    ("remind", "plan", "jo", 0, "A1.1"),
    ("publish", "plan", 0, "pack"),
    ("define_scale", "outcomes", 0),
    ("adopt", "plan", "outcomes", True),
    ("status", "send", "WS7", 0, "Green", "on track", "", ""),  # another programme's
]


def test_one_programme_as_at_holds_every_table_as_a_whole_replay_does(history: Path) -> None:
    with open_system(history) as system:
        cadences: dict[str, str] = {}
        for op in EVERY_TABLE:
            apply(system.ledger, cadences, op)
        ledger, live, last = system.ledger, system.projections_db, system.ledger.get_log_position()
        held = copy_from_live(ledger, live, history / "copy.db", "plan", last, "now")
        replay = programme_snapshot_with(ledger, live, history / "replay.db", "plan", last)
        build(ledger, history / "whole.db", stop=last)
    whole = programme_rows(history / "whole.db", "plan")
    empty = [t.name for t in TABLES if t.name not in NOT_COPIED and not whole[t.name]]
    assert not empty, f"Extend EVERY_TABLE so plan has rows in {empty}"
    # The replay too: a dependency's side named by another programme reads as that
    # programme's name, so its record is replayed.
    assert programme_rows(replay.path, "plan") == whole
    assert programme_rows(history / "copy.db", "plan") == whole
    assert held == replay.events == _events_held(history / "copy.db")
