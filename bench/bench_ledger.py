"""Write and verify throughput of the hash-chained event store, beside raw SQLite.

    python bench/bench_ledger.py --events 100000

Machines are shared and noisy, so every figure is printed beside a raw sqlite3
baseline measured in the same run, on the same file system, with the same journal
mode (WAL) and `synchronous` setting the eventsourcing SQLite datastore uses, and the
ratio is what is compared with the target:

- single: one command = one `app.save()` of one new event (one transaction), against
  raw sqlite3 inserting one row per transaction (BEGIN/INSERT/COMMIT). Target >= 50%.
- batched: `app.save(*aggregates)` of 1,000 one-event aggregates per transaction,
  against raw sqlite3 `executemany` of all the rows in one transaction. Target >= 15%.
- verify: `ledger.store.verify` over the whole log. Target >= 150k events/s.

Only the `save()` calls are timed (not building the aggregates). The raw baseline
inserts exactly the rows the ledger stored (same ids, topics and state bytes) into a
table with the same schema. eventsourcing's own recorder without the chain is shown
too, so the chain's own cost is visible.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from ledger.config import SQLITE_RECORDER_TOPIC
from ledger.store import verify

BATCH = 1_000
TARGET_SINGLE = 0.50
TARGET_BATCHED = 0.15
TARGET_VERIFY = 150_000
STORED_EVENTS_DDL = (  # eventsourcing's SQLiteApplicationRecorder table, verbatim
    "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
    "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
)


class Action(Aggregate):
    """Shaped like a ledger item: a ref, a title and a lead, about 250 bytes stored."""

    @staticmethod
    def create_id(ref: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"govledger-bench/{ref}")

    @event("Registered")
    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.title = f"Deliver the agreed improvement plan for action {ref} across partners"
        self.lead = "Head of Service, Adults and Health"


def _app(db: Path, *, chained: bool) -> Application:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(db),
        "SQLITE_LOCK_TIMEOUT": "30",
    }
    if chained:
        env["APPLICATION_RECORDER_TOPIC"] = SQLITE_RECORDER_TOPIC
    return Application(env=env)


def _synchronous(app: Application) -> int:
    with app.recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
        c.execute("PRAGMA synchronous")
        return int(c.fetchone()[0])


def _timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def ledger_single(db: Path, n: int, *, chained: bool, prefix: str) -> tuple[float, int]:
    """Commits/s saving one new one-event aggregate per save, and the synchronous mode."""
    app = _app(db, chained=chained)
    try:
        elapsed = 0.0
        for i in range(n):
            action = Action(f"{prefix}{i}")
            elapsed += _timed(lambda a=action: app.save(a))
        return n / elapsed, _synchronous(app)
    finally:
        app.close()


def ledger_batched(db: Path, n: int, *, chained: bool, prefix: str) -> float:
    """Events/s saving 1,000 one-event aggregates per save."""
    app = _app(db, chained=chained)
    try:
        elapsed = 0.0
        for start in range(0, n, BATCH):
            batch = [Action(f"{prefix}{i}") for i in range(start, min(start + BATCH, n))]
            elapsed += _timed(lambda b=batch: app.save(*b))
        return n / elapsed
    finally:
        app.close()


def stored_rows(db: Path, first: int, count: int) -> list[tuple[str, int, str, bytes]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "WHERE rowid >= ? ORDER BY rowid LIMIT ?",
            (first, count),
        ).fetchall()


def _raw_connection(db: Path, synchronous: int) -> sqlite3.Connection:
    # Autocommit with explicit BEGIN/COMMIT, WAL and synchronous as eventsourcing has them.
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(STORED_EVENTS_DDL)
    return conn


def raw_single(db: Path, rows: Sequence[tuple[str, int, str, bytes]], synchronous: int) -> float:
    conn = _raw_connection(db, synchronous)
    try:
        started = time.perf_counter()
        for row in rows:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO stored_events VALUES (?,?,?,?)", row)
            conn.execute("COMMIT")
        return len(rows) / (time.perf_counter() - started)
    finally:
        conn.close()


def raw_executemany(db: Path, rows: Sequence[tuple[str, int, str, bytes]], synchronous: int) -> float:
    conn = _raw_connection(db, synchronous)
    try:
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", rows)
        conn.execute("COMMIT")
        return len(rows) / (time.perf_counter() - started)
    finally:
        conn.close()


@dataclass
class Figures:
    single: float
    single_plain: float
    single_raw: float
    batched: float
    batched_plain: float
    batched_raw: float
    verify: float
    verified_events: int
    synchronous: int


def run(directory: Path, events: int, single: int) -> Figures:
    ledger_db = directory / "ledger.db"
    plain_db = directory / "plain.db"

    single_rate, synchronous = ledger_single(ledger_db, single, chained=True, prefix="s")
    single_plain, _ = ledger_single(plain_db, single, chained=False, prefix="s")
    single_raw = raw_single(directory / "raw-single.db", stored_rows(ledger_db, 1, single), synchronous)

    batched = ledger_batched(ledger_db, events, chained=True, prefix="b")
    batched_plain = ledger_batched(plain_db, events, chained=False, prefix="b")
    batched_raw = raw_executemany(
        directory / "raw-batched.db", stored_rows(ledger_db, single + 1, events), synchronous
    )

    started = time.perf_counter()
    result = verify(ledger_db)
    verify_rate = result.events / (time.perf_counter() - started)
    if not result.ok or result.events != single + events:
        raise SystemExit(f"verification failed: {result}")
    return Figures(
        single_rate,
        single_plain,
        single_raw,
        batched,
        batched_plain,
        batched_raw,
        verify_rate,
        result.events,
        synchronous,
    )


def report(figures: Figures, events: int, single: int, directory: Path) -> str:
    sync_names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    single_ratio = figures.single / figures.single_raw
    batched_ratio = figures.batched / figures.batched_raw

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    lines = [
        f"govledger benchmark, {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"eventsourcing {version('eventsourcing')}, {os.cpu_count()} CPUs, "
        f"files in {directory} (WAL, synchronous={sync_names.get(figures.synchronous)})",
        "",
        f"single-event commands ({single:,} saves, one transaction each)",
        f"  ledger, hash-chained          {figures.single:>10,.0f} commits/s",
        f"  eventsourcing, no chain       {figures.single_plain:>10,.0f} commits/s",
        f"  raw sqlite3, 1 row/txn        {figures.single_raw:>10,.0f} commits/s",
        f"  ledger / raw                  {single_ratio:>10.0%}"
        f"   (target >= {TARGET_SINGLE:.0%}: {verdict(single_ratio >= TARGET_SINGLE)})",
        f"  chain cost vs no chain        {1 - figures.single / figures.single_plain:>10.0%}",
        "",
        f"batched commands ({events:,} events, save(*{BATCH:,} aggregates) per transaction)",
        f"  ledger, hash-chained          {figures.batched:>10,.0f} events/s",
        f"  eventsourcing, no chain       {figures.batched_plain:>10,.0f} events/s",
        f"  raw sqlite3, executemany      {figures.batched_raw:>10,.0f} rows/s",
        f"  ledger / raw                  {batched_ratio:>10.0%}"
        f"   (target >= {TARGET_BATCHED:.0%}: {verdict(batched_ratio >= TARGET_BATCHED)})",
        f"  chain cost vs no chain        {1 - figures.batched / figures.batched_plain:>10.0%}",
        "",
        f"verify ({figures.verified_events:,} events)",
        f"  ledger.store.verify           {figures.verify:>10,.0f} events/s"
        f"   (target >= {TARGET_VERIFY:,}: {verdict(figures.verify >= TARGET_VERIFY)})",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events",
        type=int,
        default=100_000,
        help="events for the batched run (the log verified is these plus --single)",
    )
    parser.add_argument(
        "--single",
        type=int,
        default=None,
        help="one-event saves for the single run (default: --events, at most 5,000, since each is an fsync)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(__file__).resolve().parent / "out",
        help="where to put the scratch databases (default: bench/out, git-ignored)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args(argv)
    single = args.single if args.single is not None else min(args.events, 5_000)

    args.dir.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="bench-", dir=args.dir))
    try:
        figures = run(directory, args.events, single)
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    print(report(figures, args.events, single, directory))
    return 0


if __name__ == "__main__":
    sys.exit(main())
