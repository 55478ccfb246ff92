"""One update end to end, beside a raw one-row SQLite transaction (issue 14 item 6).

    python bench/bench_update.py --items 20 --history 40 --updates 300 [--profile]

The whole path an officer's update POST takes below the web layer: `save_update` on an
item with `seen_version` (load the programme, the item and the period's review, check,
save the status and the review's submission, chained, with their Merkle leaves, in one
transaction), the projector's catch-up (the user reads their own write on the next
page), and `get_review` for the message after the redirect. The baseline, in the same
process and on the same file system, is raw sqlite3 committing one row per transaction
(BEGIN, INSERT, COMMIT) with WAL and the event store's own `synchronous` setting. The
two take turns in rounds, so a burst of load elsewhere hits both; the ratio (raw time /
update time) is the figure, target >= 50%. CPU time (`time.process_time`) is shown too:
it is what a noisy, shared machine disturbs least. Each item starts with --history
ratings, so loading it by replay from the first event costs what it would on a ledger a
few years old.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from projections.system import System, open_system

PROGRAMME = "bench-plan"
ROUNDS = 10
TARGET = 0.50
STATUSES = ("Amber", "Red", "Green")
UPDATE_TEXT = "Delivery continues; partners engaged and the recovery plan is on track. " * 3


@dataclass
class Timings:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, fn: Callable[[], object]) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)


def quarter(n: int) -> str:
    year = 2000 + n // 4
    return f"{year}/{(year + 1) % 100:02d} Q{n % 4 + 1}"


def seed(system: System, items: int, history: int) -> dict[str, int]:
    """A programme of `items` items, each rated in `history` earlier quarters; returns
    each item's version (what the update form carries as seen_version)."""
    ledger = system.ledger
    refs = [f"A{i}" for i in range(items)]
    with ledger.batch() as b:
        ledger.register_programme(PROGRAMME, "Bench plan", cadence="quarterly", actor="bench", batch=b)
        for ref in refs:
            ledger.register_item(PROGRAMME, ref, kind="action", title=f"Action {ref}", actor="bench", batch=b)
            for n in range(history):
                status = STATUSES[n % len(STATUSES)]
                ledger.record_status(
                    PROGRAMME, ref, period=quarter(n), status=status, update=UPDATE_TEXT,
                    mitigation="Plan agreed." if status != "Green" else "", actor="bench", batch=b,
                )
    versions = {}
    for ref in refs:
        with ledger.batch() as b:
            versions[ref] = b.item(b.programme(PROGRAMME), ref).version
    return versions


def officer_update(system: System, ref: str, n: int, history: int, seen_version: int) -> None:
    """What the update POST runs (web.updates.items): the officer's Save (the n-th
    update, in the quarter after `history`), then the review's state for the message
    shown after the redirect."""
    status = STATUSES[n % len(STATUSES)]
    system.ledger.save_update(
        PROGRAMME, ref, period=quarter(history), status=status,
        update=f"Bench update {n}. {UPDATE_TEXT}",
        mitigation="Recovery plan agreed." if status != "Green" else "",
        actor="officer", reason="Re-rated after review.", seen_version=seen_version,
    )
    system.ledger.get_review(PROGRAMME, ref, quarter(history))


def raw_connection(path: Path, synchronous: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id TEXT, version INTEGER, topic TEXT, state BLOB)")
    return conn


def raw_insert(conn: sqlite3.Connection, n: int, state: bytes) -> None:
    conn.execute("BEGIN")
    row = (f"raw-{n}", n, "ledger.domain:Item.StatusRecorded", state)
    conn.execute("INSERT INTO t VALUES (?,?,?,?)", row)
    conn.execute("COMMIT")


def event_store_synchronous(system: System) -> int:
    with system.ledger.recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
        c.execute("PRAGMA synchronous")
        return int(c.fetchone()[0])


def run(directory: Path, items: int, history: int, updates: int, profile: bool) -> dict[str, Timings]:
    system = open_system(directory)
    try:
        versions = seed(system, items, history)
        refs = sorted(versions)
        raw = raw_connection(directory / "raw.db", event_store_synchronous(system))
        state = os.urandom(400)  # about a status event's stored size
        timings = {"update": Timings(), "raw": Timings(), "catch-up": Timings()}
        # The projector's share of each update: its after-save listener, timed apart.
        listeners = system.ledger.after_save
        original = list(listeners)
        listeners[:] = [lambda p, f=f: timings["catch-up"].add(lambda: f(p)) for f in original]
        profiler = cProfile.Profile() if profile else None
        per_round = -(-updates // ROUNDS)
        n = 0
        for _ in range(ROUNDS):
            for _ in range(per_round):
                ref = refs[n % len(refs)]
                if profiler is not None:
                    profiler.enable()
                timings["update"].add(partial(officer_update, system, ref, n, history, versions[ref]))
                if profiler is not None:
                    profiler.disable()
                versions[ref] += 1
                n += 1
            for k in range(per_round):
                timings["raw"].add(lambda k=n * 10 + k: raw_insert(raw, k, state))
        if system.projector.position != system.ledger.get_log_position():
            raise SystemExit("the projections did not catch up with the log")
        raw.close()
        listeners[:] = original
        if profiler is not None:
            # PROFILE_FILTER: a regular expression on file and function, e.g. "projections".
            stats = pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
            stats.print_stats(os.environ.get("PROFILE_FILTER", ""), 45)
        return timings
    finally:
        system.close()


def report(timings: dict[str, Timings], args: argparse.Namespace) -> str:
    update, raw, catch_up = timings["update"], timings["raw"], timings["catch-up"]

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.3f}"

    wall_ratio = sum(raw.wall) / sum(update.wall)
    cpu_ratio = sum(raw.cpu) / sum(update.cpu)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"bench_update {datetime.now(UTC):%Y-%m-%d %H:%M UTC}, Python {sys.version.split()[0]}, "
        f"load average {load}",
        f"{args.items} items x {args.history} earlier ratings, "
        f"{len(update.wall)} updates and as many raw commits",
        "",
        "| per operation | update end to end | raw one-row transaction | raw / update |",
        "|---|---:|---:|---:|",
        f"| wall, median (ms) | {ms(update.wall)} | {ms(raw.wall)} | "
        f"{statistics.median(raw.wall) / statistics.median(update.wall):.0%} |",
        f"| wall, total (s) | {sum(update.wall):.3f} | {sum(raw.wall):.3f} | **{wall_ratio:.0%}** |",
        f"| CPU, median (ms) | {ms(update.cpu)} | {ms(raw.cpu)} | "
        f"{statistics.median(raw.cpu) / statistics.median(update.cpu):.0%} |",
        f"| CPU, total (s) | {sum(update.cpu):.3f} | {sum(raw.cpu):.3f} | {cpu_ratio:.0%} |",
        f"| of which projection catch-up, wall / CPU median (ms) | {ms(catch_up.wall)} / {ms(catch_up.cpu)} "
        "| | |",
        f"| per second | {len(update.wall) / sum(update.wall):,.0f} | "
        f"{len(raw.wall) / sum(raw.wall):,.0f} | |",
        "",
        f"target: update >= {TARGET:.0%} of raw (wall): {'met' if wall_ratio >= TARGET else 'missed'}",
    ]
    return "\n".join(lines)


def update_arguments(description: str) -> argparse.ArgumentParser:
    """The shape of the timed updates, as bench_update and bench_update_sql take it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--history", type=int, default=40, help="earlier ratings per item")
    parser.add_argument("--updates", type=int, default=300)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = update_arguments(__doc__.split("\n")[0])
    parser.add_argument("--profile", action="store_true", help="cProfile the updates (skews their time)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args(argv)
    directory = Path(__file__).parent / "out" / f"update-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    try:
        print(report(run(directory, args.items, args.history, args.updates, args.profile), args))
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
