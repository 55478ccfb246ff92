"""Write and verify throughput of the hash-chained event store, beside raw SQLite, and
the Merkle tree's cost and proof times.

    python bench/bench_ledger.py --events 100000 --proof-events 1000000

Machines are shared and noisy, so every figure is printed beside a raw sqlite3
baseline measured in the same run, on the same file system, with the same journal
mode (WAL) and `synchronous` setting the eventsourcing SQLite datastore uses, and the
ratio is what is compared with the target:

- single: one command = one `app.save()` of one new event (one transaction), against
  raw sqlite3 inserting one row per transaction (BEGIN/INSERT/COMMIT). Target >= 45%
  with the Merkle tree (issue 15; it was 50% for the chain alone).
- batched: `app.save(*aggregates)` of 1,000 one-event aggregates per transaction,
  against raw sqlite3 `executemany` of all the rows in one transaction. Target >= 15%.
- verify: `ledger.store.verify` over the whole log. Target >= 150k events/s.
- Merkle tree: the ledger's recorder (chain + tree) beside the same recorder with the
  tree step left out (chain only) in the same run, single and batched, with the bytes
  each single commit writes (Linux's wchar: the WAL pages, what costs once fsync is
  quick, and what a noisy machine's timings hide); then a log of
  --proof-events events written by the chain-only recorder, `merkle_backfill`ed, and
  random inclusion and consistency proofs timed on it. Target < 5 ms per proof.

Only the `save()` calls are timed (not building the aggregates). The raw baseline
inserts exactly the rows the ledger stored (same ids, topics and state bytes) into a
table with the same schema. eventsourcing's own recorder without the chain is shown
too, so the chain's own cost is visible.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
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
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent

from ledger.config import SQLITE_RECORDER_TOPIC
from ledger.store import HashChainedSQLiteApplicationRecorder, MerkleLog, verify
from ledger.store.merkle import backfill

BATCH = 1_000
TARGET_SINGLE = 0.45
TARGET_PROOF_MS = 5.0
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


class ChainOnlyRecorder(HashChainedSQLiteApplicationRecorder):
    """The ledger's recorder with the Merkle tree step left out: the chain alone."""

    def _grow_tree(self, *args: object) -> None:
        return None


CHAIN_ONLY_TOPIC = f"{__name__}:ChainOnlyRecorder"
# Which recorder a run uses: the ledger's (chain + tree), chain only, or eventsourcing's.
RECORDERS = {"ledger": SQLITE_RECORDER_TOPIC, "chain": CHAIN_ONLY_TOPIC, "plain": ""}
WRITERS = (*RECORDERS, "raw")


def _app(db: Path, *, recorder: str) -> Application:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(db),
        "SQLITE_LOCK_TIMEOUT": "30",
    }
    if RECORDERS[recorder]:
        env["APPLICATION_RECORDER_TOPIC"] = RECORDERS[recorder]
    return Application(env=env)


def _synchronous(app: Application) -> int:
    with app.recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
        c.execute("PRAGMA synchronous")
        return int(c.fetchone()[0])


def _timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


Row = tuple[str, int, str, bytes]
ROUNDS = 10  # each kind of writer takes turns, so a burst of load elsewhere hits them all


def stored_rows(db: Path, first: int, count: int) -> list[Row]:
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


def raw_single(conn: sqlite3.Connection, rows: Sequence[Row]) -> None:
    for row in rows:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO stored_events VALUES (?,?,?,?)", row)
        conn.execute("COMMIT")


def raw_executemany(conn: sqlite3.Connection, rows: Sequence[Row]) -> None:
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", rows)
    conn.execute("COMMIT")


def _written() -> int:
    """Bytes this process has passed to write() so far (Linux; 0 elsewhere): what each
    commit adds to the WAL, which is what costs once fsync is quick."""
    try:
        with open("/proc/self/io", encoding="ascii") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("wchar:"))
    except (OSError, StopIteration):
        return 0


def write_rates(
    directory: Path, n: int, *, batch: int, offset: int, kind: str
) -> tuple[dict[str, float], int, dict[str, float]]:
    """Events/s for each recorder and raw sqlite3, taking turns in ROUNDS rounds: saves of
    `batch` one-event aggregates (1: a commit per event), the raw baseline inserting the
    rows the ledger stored in that round (one per transaction, or one executemany).
    Also returns the `synchronous` mode eventsourcing ran with, and bytes written per event."""
    apps = {name: _app(directory / f"{name}.db", recorder=name) for name in RECORDERS}
    synchronous = _synchronous(apps["ledger"])
    raw = _raw_connection(directory / f"raw-{kind}.db", synchronous)
    elapsed = dict.fromkeys([*RECORDERS, "raw"], 0.0)
    written = dict.fromkeys(elapsed, 0)
    try:
        per_round = -(-n // ROUNDS)
        for first in range(0, n, per_round):
            last = min(first + per_round, n)
            for name, app in apps.items():
                for start in range(first, last, batch):
                    actions = [Action(f"{kind}{i}") for i in range(start, min(start + batch, last))]
                    before = _written()
                    elapsed[name] += _timed(lambda a=app, b=actions: a.save(*b) and None)
                    written[name] += _written() - before
            rows = stored_rows(directory / "ledger.db", offset + first + 1, last - first)
            before = _written()
            elapsed["raw"] += _timed(
                lambda r=rows: raw_single(raw, r) if batch == 1 else raw_executemany(raw, r)
            )
            written["raw"] += _written() - before
    finally:
        raw.close()
        for app in apps.values():
            app.close()
    rates = {name: n / seconds for name, seconds in elapsed.items()}
    return rates, synchronous, {name: total / n for name, total in written.items()}


@dataclass
class Proofs:
    events: int
    written: float  # events/s, chain-only recorder, 10,000 per transaction
    backfill: float  # events/s
    inclusion_ms: list[float]
    consistency_ms: list[float]


@dataclass
class Figures:
    single: float
    single_chain: float
    single_plain: float
    single_raw: float
    batched: float
    batched_chain: float
    batched_plain: float
    batched_raw: float
    verify: float
    verified_events: int
    synchronous: int
    proofs: Proofs | None
    single_bytes: dict[str, float]  # bytes written per single commit, by writer


def run(directory: Path, events: int, single: int, proof_events: int, samples: int) -> Figures:
    ledger_db = directory / "ledger.db"
    singles, synchronous, single_bytes = write_rates(directory, single, batch=1, offset=0, kind="s")
    batches, _, _ = write_rates(directory, events, batch=BATCH, offset=single, kind="b")

    started = time.perf_counter()
    result = verify(ledger_db)
    verify_rate = result.events / (time.perf_counter() - started)
    if not result.ok or result.events != single + events:
        raise SystemExit(f"verification failed: {result}")
    app = _app(ledger_db, recorder="ledger")
    try:
        if MerkleLog(app.recorder).size() != single + events:
            raise SystemExit("the Merkle tree does not cover the log")
    finally:
        app.close()
    proofs = proof_times(directory / "proofs.db", proof_events, samples) if proof_events else None
    return Figures(
        singles["ledger"],
        singles["chain"],
        singles["plain"],
        singles["raw"],
        batches["ledger"],
        batches["chain"],
        batches["plain"],
        batches["raw"],
        verify_rate,
        result.events,
        synchronous,
        proofs,
        single_bytes,
    )


def proof_times(db: Path, n: int, samples: int) -> Proofs:
    """A log of n events without a tree, backfilled, then random proofs timed on it."""
    state = b'{"ref": "A1.2.3", "title": "' + b"x" * 200 + b'"}'
    app = _app(db, recorder="chain")
    try:
        elapsed = 0.0
        for start in range(0, n, 10_000):
            rows = [
                StoredEvent(uuid4(), 1, "bench:Action.Registered", state)
                for _ in range(min(10_000, n - start))
            ]
            elapsed += _timed(lambda r=rows: app.recorder.insert_events(r))
        written = n / elapsed
    finally:
        app.close()
    app = _app(db, recorder="ledger")
    try:
        backfill_rate = n / _timed(lambda: backfill(app.recorder) and None)
        log = MerkleLog(app.recorder)
        rng = random.Random(9162)
        inclusion, consistency = [], []
        for _ in range(samples):
            size = rng.randint(1, n)
            index = rng.randrange(size)
            inclusion.append(1000 * _timed(lambda i=index, s=size: log.inclusion_proof(i, s) and None))
            old = rng.randint(1, size)
            consistency.append(1000 * _timed(lambda o=old, s=size: log.consistency_proof(o, s) and None))
        return Proofs(n, written, backfill_rate, sorted(inclusion), sorted(consistency))
    finally:
        app.close()


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
        f"  ledger, chain + Merkle tree   {figures.single:>10,.0f} commits/s",
        f"  chain only                    {figures.single_chain:>10,.0f} commits/s",
        f"  eventsourcing, no chain       {figures.single_plain:>10,.0f} commits/s",
        f"  raw sqlite3, 1 row/txn        {figures.single_raw:>10,.0f} commits/s",
        f"  ledger / raw                  {single_ratio:>10.0%}"
        f"   (target >= {TARGET_SINGLE:.0%}: {verdict(single_ratio >= TARGET_SINGLE)})",
        f"  tree cost vs chain only       {1 - figures.single / figures.single_chain:>10.0%}",
        f"  chain cost vs no chain        {1 - figures.single_chain / figures.single_plain:>10.0%}",
        "  bytes written per commit      "
        + ", ".join(f"{name} {figures.single_bytes[name]:,.0f}" for name in WRITERS),
        "",
        f"batched commands ({events:,} events, save(*{BATCH:,} aggregates) per transaction)",
        f"  ledger, chain + Merkle tree   {figures.batched:>10,.0f} events/s",
        f"  chain only                    {figures.batched_chain:>10,.0f} events/s",
        f"  eventsourcing, no chain       {figures.batched_plain:>10,.0f} events/s",
        f"  raw sqlite3, executemany      {figures.batched_raw:>10,.0f} rows/s",
        f"  ledger / raw                  {batched_ratio:>10.0%}"
        f"   (target >= {TARGET_BATCHED:.0%}: {verdict(batched_ratio >= TARGET_BATCHED)})",
        f"  tree cost vs chain only       {1 - figures.batched / figures.batched_chain:>10.0%}",
        f"  chain cost vs no chain        {1 - figures.batched_chain / figures.batched_plain:>10.0%}",
        "",
        f"verify ({figures.verified_events:,} events)",
        f"  ledger.store.verify           {figures.verify:>10,.0f} events/s"
        f"   (target >= {TARGET_VERIFY:,}: {verdict(figures.verify >= TARGET_VERIFY)})",
    ]
    if (p := figures.proofs) is not None:
        worst = max(p.inclusion_ms[-1], p.consistency_ms[-1])
        lines += [
            "",
            f"Merkle proofs ({p.events:,} events; {len(p.inclusion_ms):,} random sizes and indices)",
            f"  log written, chain only       {p.written:>10,.0f} events/s (10,000 per transaction)",
            f"  merkle-backfill               {p.backfill:>10,.0f} events/s",
            f"  inclusion proof               {_spread(p.inclusion_ms)}",
            f"  consistency proof             {_spread(p.consistency_ms)}",
            f"  slowest proof                 {worst:>10.2f} ms"
            f"   (target < {TARGET_PROOF_MS:g} ms: {verdict(worst < TARGET_PROOF_MS)})",
        ]
    return "\n".join(lines)


def _spread(ms: list[float]) -> str:
    """Median, 99th percentile and worst of sorted timings."""
    return f"{ms[len(ms) // 2]:>10.2f} ms median, {ms[int(len(ms) * 0.99)]:.2f} p99, {ms[-1]:.2f} max"


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
    parser.add_argument(
        "--proof-events",
        type=int,
        default=1_000_000,
        help="events in the log the Merkle proofs are timed on (0: skip)",
    )
    parser.add_argument("--proof-samples", type=int, default=1_000, help="proofs of each kind timed")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args(argv)
    single = args.single if args.single is not None else min(args.events, 5_000)

    args.dir.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="bench-", dir=args.dir))
    try:
        figures = run(directory, args.events, single, args.proof_events, args.proof_samples)
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    print(report(figures, args.events, single, directory))
    return 0


if __name__ == "__main__":
    sys.exit(main())
