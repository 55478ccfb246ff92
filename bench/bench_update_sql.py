"""The SQLite floor under one update: its own statements replayed with no Python around them
(issue 14 item 6).

    python bench/bench_update_sql.py --items 20 --history 40 --updates 300

bench_update.py times an officer's update end to end (`save_update`, the projector's
catch-up, `get_review`) beside a raw one-row transaction; the target is >= 50% of raw.
This asks how much of that budget SQLite itself takes. It records every call each update
makes on the event store's and the projections' sqlite3 connections (execute,
executemany, commit, rollback: statement, parameters, connection), then replays the
recorded calls, update by update, on copies of the two files as they were before the
first update, through plain sqlite3 connections opened as the product opens them (WAL,
the same `synchronous`, the same statement cache and transaction mode). Nothing of
eventsourcing, the domain or the handlers runs in the replay: it is the least any code
producing these rows could cost. Raw, replay and ours take turns in rounds, in one
process; the ratios are raw / this (wall and CPU), as bench_update prints them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench_update import (
    ROUNDS,
    TARGET,
    Timings,
    event_store_synchronous,
    officer_update,
    raw_connection,
    raw_insert,
    seed,
    update_arguments,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.config import EVENTS_DB, PROJECTIONS_DB  # noqa: E402
from projections.system import open_system  # noqa: E402

Call = tuple[str, str, str, Any]  # (file, method, statement, parameters)
CALLS: list[Call] = []


def recording(file: str) -> type[sqlite3.Connection]:
    """A sqlite3.Connection class that notes each call it is asked to make."""

    class Recording(sqlite3.Connection):
        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
            CALLS.append((file, "execute", sql, parameters))
            return super().execute(sql, parameters)

        def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:  # type: ignore[override]
            parameters = list(parameters)
            CALLS.append((file, "executemany", sql, parameters))
            return super().executemany(sql, parameters)

        def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
            return RecordingCursor(self, file)

        def commit(self) -> None:
            CALLS.append((file, "commit", "", None))
            super().commit()

        def rollback(self) -> None:
            CALLS.append((file, "rollback", "", None))
            super().rollback()

    return Recording


class RecordingCursor(sqlite3.Cursor):
    """eventsourcing runs its statements on cursors."""

    def __init__(self, connection: sqlite3.Connection, file: str) -> None:
        super().__init__(connection)
        self.file = file

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        CALLS.append((self.file, "execute", sql, parameters))
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:  # type: ignore[override]
        parameters = list(parameters)
        CALLS.append((self.file, "executemany", sql, parameters))
        return super().executemany(sql, parameters)


REAL_CONNECT = sqlite3.connect


def record_connections() -> None:
    """Open connections (the event store's, the projections') through `recording` until
    `sqlite3.connect` is put back (REAL_CONNECT)."""

    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        file = PROJECTIONS_DB if str(database).endswith(PROJECTIONS_DB) else EVENTS_DB
        return REAL_CONNECT(database, *args, factory=recording(file), **kwargs)

    sqlite3.connect = connect  # type: ignore[assignment]


def replay_connections(directory: Path, synchronous: int) -> dict[str, sqlite3.Connection]:
    """Plain connections opened as the product opens them (ledger.store.connections,
    projections.projector.connect)."""
    events = REAL_CONNECT(directory / EVENTS_DB, isolation_level=None, cached_statements=128)
    events.execute("PRAGMA journal_mode=WAL")
    events.execute(f"PRAGMA synchronous={synchronous}")
    projections = REAL_CONNECT(directory / PROJECTIONS_DB, timeout=30)
    projections.execute("PRAGMA journal_mode=WAL")
    projections.execute("PRAGMA synchronous=NORMAL")  # as projections.projector.connect
    return {EVENTS_DB: events, PROJECTIONS_DB: projections}


def replay(connections: dict[str, sqlite3.Connection], calls: list[Call]) -> None:
    for file, method, sql, parameters in calls:
        conn = connections[file]
        if method == "commit":
            conn.commit()
        elif method == "rollback":
            conn.rollback()
        elif method == "executemany":
            conn.executemany(sql, parameters)
        else:
            conn.execute(sql, parameters).fetchall()


def table_counts(directory: Path) -> dict[str, int]:
    """Rows in every table of both files, to show the replay wrote what the updates did."""
    counts = {}
    for file in (EVENTS_DB, PROJECTIONS_DB):
        conn = REAL_CONNECT(directory / file)
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for name in names:
            counts[f"{file}:{name}"] = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        conn.close()
    return counts


def run(directory: Path, items: int, history: int, updates: int) -> tuple[dict[str, Timings], dict[str, int]]:
    """Each round: the updates made on a recorded copy (untimed), then the same updates
    on an unrecorded copy (ours, timed: recording slows every call), their recorded calls
    replayed on a third copy, and as many raw commits."""
    recorded_dir, ours_dir, replay_dir = directory / "recorded", directory / "ours", directory / "replay"
    system = open_system(recorded_dir)
    versions = seed(system, items, history)
    system.close()
    shutil.copytree(recorded_dir, ours_dir)
    shutil.copytree(recorded_dir, replay_dir)
    ours = open_system(ours_dir)
    record_connections()
    try:
        recording = open_system(recorded_dir)
    finally:
        sqlite3.connect = REAL_CONNECT  # type: ignore[misc]
    try:
        synchronous = event_store_synchronous(ours)
        timings = {name: Timings() for name in ("ours", "replay", EVENTS_DB, PROJECTIONS_DB, "raw")}
        raw = raw_connection(directory / "raw.db", synchronous)
        state = os.urandom(400)
        refs = sorted(versions)
        replayed = replay_connections(replay_dir, synchronous)
        per_round, n, counts = -(-updates // ROUNDS), 0, {"statements": 0, "commits": 0}
        for _ in range(ROUNDS):
            batch = [(refs[(n + k) % len(refs)], n + k) for k in range(per_round)]
            recorded: list[list[Call]] = []
            seen = dict(versions)  # the copies are alike: each update sees what the other's did
            for ref, k in batch:
                CALLS.clear()
                officer_update(recording, ref, k, history, seen[ref])
                recorded.append(list(CALLS))
                seen[ref] += 1
            for ref, k in batch:
                timings["ours"].add(partial(officer_update, ours, ref, k, history, versions[ref]))
                versions[ref] += 1
            for calls in recorded:
                parts = {file: [c for c in calls if c[0] == file] for file in (EVENTS_DB, PROJECTIONS_DB)}
                for file, part in parts.items():
                    timings[file].add(partial(replay, replayed, part))
                # The whole floor: the two files' parts of this update, one after the other.
                timings["replay"].wall.append(timings[EVENTS_DB].wall[-1] + timings[PROJECTIONS_DB].wall[-1])
                timings["replay"].cpu.append(timings[EVENTS_DB].cpu[-1] + timings[PROJECTIONS_DB].cpu[-1])
                counts["statements"] += sum(1 for c in calls if c[1].startswith("execute"))
                counts["commits"] += sum(1 for c in calls if c[1] == "commit")
            n += per_round
            for k in range(per_round):
                timings["raw"].add(partial(raw_insert, raw, n * 10 + k, state))
        for conn in (*replayed.values(), raw):
            conn.close()
        counts = {k: v // n for k, v in counts.items()}
    finally:
        ours.close()
        recording.close()
    made = {name: table_counts(d) for name, d in (("ours", ours_dir), ("recorded", recorded_dir))}
    replayed_counts = table_counts(replay_dir)
    for name, rows in made.items():
        if rows != replayed_counts:
            differ = sorted(k for k in rows | replayed_counts if rows.get(k) != replayed_counts.get(k))
            raise SystemExit(f"the replay did not write what the updates did ({name}): {', '.join(differ)}")
    counts["tables"], counts["rows"] = len(replayed_counts), sum(replayed_counts.values())
    return timings, counts


def report(timings: dict[str, Timings], counts: dict[str, int], args: argparse.Namespace) -> str:
    raw = timings["raw"]

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.3f}"

    lines = [
        f"bench_update_sql {datetime.now(UTC):%Y-%m-%d %H:%M UTC}, load average "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        f"{args.items} items x {args.history} earlier ratings, {len(raw.wall)} updates; "
        f"per update {counts['statements']} statements and {counts['commits']} commits; after the "
        f"replay both copies hold the same rows ({counts['tables']} tables, {counts['rows']:,} rows)",
        "",
        "| per update | wall median (ms) | CPU median (ms) | raw / this, wall (totals) | raw / this, CPU |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, label in (
        ("raw", "raw one-row transaction"),
        ("replay", "SQLite floor: the update's own statements replayed"),
        (EVENTS_DB, "of which the event store's (its read, the events, chain, tree; get_review's read)"),
        (PROJECTIONS_DB, "of which the read model's (rows, audit and search index, position)"),
        ("ours", "ours, end to end (bench_update's path, unrecorded)"),
    ):
        t = timings[name]
        lines.append(
            f"| {label} | {ms(t.wall)} | {ms(t.cpu)} | {sum(raw.wall) / sum(t.wall):.0%} | "
            f"{sum(raw.cpu) / sum(t.cpu):.0%} |"
        )
    floor = sum(raw.wall) / sum(timings["replay"].wall)
    lines += ["", f"target: ours >= {TARGET:.0%} of raw (wall); the SQLite floor alone is at {floor:.0%}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = update_arguments(__doc__.split("\n")[0]).parse_args(argv)
    directory = ROOT / "bench" / "out" / f"update-sql-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    try:
        print(report(*run(directory, args.items, args.history, args.updates), args))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
