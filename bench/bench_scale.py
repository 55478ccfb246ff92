"""Issue 14's scale benchmark on PostgreSQL: a big hash-chained log, `govledger verify`,
`govledger rebuild` (projections into SQLite from the PostgreSQL log), and the lag of
`govledger project --follow` (LISTEN/NOTIFY) under a sustained write rate.

    .venv/bin/python bench/bench_scale.py --events 2000000 --duration 90
    .venv/bin/python bench/bench_scale.py --events 20000 --duration 10   # a quick check

A PostgreSQL server is started the way the tests start one (tests/postgres_server.py:
initdb into a fresh directory, fsync and synchronous_commit off), here under
bench/out/scale/, and removed at the end with everything else the run wrote.

Each step runs as its own process, so its peak RSS is its own (VmHWM, which each child
writes to a file as it exits; not wait4's ru_maxrss, which a child inherits from its
parent): the generator (batched `ledger.save(*aggregates)`, 1,000 events a save, flat in
memory: it keeps only the current period's ratings), verify,
rebuild, the follower, and the paced writer (one `record_status` command a write, as a
web worker started with --projector-service makes it). Raw baselines run in this process,
in the same run: psycopg inserting the same stored rows 1,000 a transaction; a raw read
of the log with a SHA-256 per row (verify's floor); a raw read plus sqlite-utils
`insert_all` (rebuild's floor).

Lag: for each write, from its commit (the writer's clock, CLOCK_MONOTONIC, which all
processes share) to the moment this process, polling projections.db's tracking row every
millisecond, sees the follower's position reach it.

Each measured child also prints where its memory went: its RSS, twice a second, against
the innermost project function it is in (scale_lag.PhaseSampler).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


# Imported where used, not here: a measured child (`--child cli verify`...) should weigh
# what the command weighs, not this script's baselines as well.
if TYPE_CHECKING:
    from tests.postgres_server import Database

from scale_lag import OUT, child_pace, lag_run, load, record_peak_at_exit, run_measured  # noqa: E402

EVENTS_TABLE = "governanceledger_events"
RAW_ROWS = 200_000  # stored rows the raw insert baseline writes


# --- children -------------------------------------------------------------------------------


def child_generate(events: int) -> None:
    """Write about `events` events with the batched store path; print the result as JSON."""
    from bench_projections import generate

    from govledger.support import progress_bar
    from ledger.application import open_ledger

    ledger = open_ledger()
    written = 0
    save = ledger.save
    with progress_bar("Writing events") as progress:

        def counted_save(*aggregates: Any, **kwargs: Any) -> Any:
            nonlocal written
            written += sum(len(a.pending_events) for a in aggregates)
            result = save(*aggregates, **kwargs)
            progress(written, events)
            return result

        ledger.save = counted_save  # type: ignore[method-assign]
        started, cpu = time.perf_counter(), time.process_time()
        written = 0
        total = generate(ledger, events)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    ledger.close()
    print(json.dumps({"events": total, "seconds": elapsed, "cpu": cpu}))


# --- raw baselines (this process) ----------------------------------------------------------


def raw_insert(db: Database, rows: int) -> tuple[float, float]:
    """rows/s (wall, CPU): psycopg executemany of the log's first `rows` stored events into
    a plain table of the same shape, 1,000 rows a transaction."""
    with db.connect() as conn:
        stored = conn.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
            "ORDER BY notification_id LIMIT %s",
            (rows,),
        ).fetchall()
        conn.execute(
            "CREATE TABLE raw_events (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
            "topic text, state bytea, notification_id bigserial, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        conn.commit()
        started, cpu = time.perf_counter(), time.process_time()
        with conn.cursor() as cursor:
            for first in range(0, len(stored), 1000):
                cursor.executemany(
                    "INSERT INTO raw_events (originator_id, originator_version, topic, state) "
                    "VALUES (%s, %s, %s, %s)",
                    stored[first : first + 1000],
                )
                conn.commit()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        conn.execute("DROP TABLE raw_events")
        conn.commit()
    return len(stored) / elapsed, len(stored) / cpu


def _raw_pages(conn: Any) -> Any:
    cursor = conn.cursor(name="raw_read")  # server side: never the whole log in memory
    cursor.itersize = 5000
    cursor.execute(
        f"SELECT notification_id, originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
        "ORDER BY notification_id"
    )
    while page := cursor.fetchmany(5000):
        yield page


def raw_read_hash(db: Database) -> tuple[float, int]:
    """rows/s: read the whole log with psycopg and chain a SHA-256 over each row."""
    started, count, head = time.perf_counter(), 0, b""
    with db.connect() as conn:
        for page in _raw_pages(conn):
            for position, originator, version, topic, state in page:
                head = hashlib.sha256(
                    head + b"%d|%s|%d|%s|" % (position, originator.bytes, version, topic.encode()) + state
                ).digest()
            count += len(page)
    return count / (time.perf_counter() - started), count


def raw_read_insert_all(db: Database, scratch: Path) -> float:
    """rows/s: read the whole log with psycopg and sqlite-utils insert_all it into a new
    SQLite table, one transaction (rebuild's floor)."""
    scratch.unlink(missing_ok=True)
    started, count = time.perf_counter(), 0
    import sqlite_utils
    from bench_projections import insert_stored

    target = sqlite_utils.Database(str(scratch))
    target.execute("PRAGMA journal_mode=WAL")
    with db.connect() as conn, target.atomic():
        for page in _raw_pages(conn):
            insert_stored(target, page)
            count += len(page)
    rate = count / (time.perf_counter() - started)
    target.close()
    scratch.unlink(missing_ok=True)
    return rate


# --- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2_000_000, help="events to write (about; default 2M)")
    parser.add_argument(
        "--duration",
        type=float,
        default=90.0,
        help="seconds of paced writes for the lag figure (default 90; at least 60 to report)",
    )
    parser.add_argument("--rate", type=float, default=100.0, help="paced writes per second (default 100)")
    parser.add_argument(
        "--writers",
        type=int,
        default=6,
        help="writer processes sharing the paced rate (default 6: each command costs about 8 ms of "
        "CPU, and on 2 busy cores 3-4 writers reached only 63-84 writes/s)",
    )
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep bench/out/scale afterwards (it is large)")
    parser.add_argument("--child", choices=["generate", "pace", "cli"], help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        record_peak_at_exit()
    if args.child == "cli":  # the govledger command, as `python -m govledger` runs it
        from govledger.cli import main as govledger

        return govledger(args=rest, prog_name="govledger")
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    if args.child == "generate":
        return child_generate(args.events)
    if args.child == "pace":
        return child_pace(args.events, args.rate, args.duration, args.writers, args.index, args.start_at)

    from tests.postgres_server import PostgresServer, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL server binaries are not installed (run scripts/setup.sh)")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    tempfile.tempdir = str(OUT)  # the server's directory goes under bench/out, not /tmp
    server = PostgresServer(bin_dir)
    server.start()
    try:
        db = server.create_database()
        data_dir = OUT / "node"
        env = {**os.environ, **db.env(), "GOVLEDGER_DATA_DIR": str(data_dir)}
        print(
            f"Scale on PostgreSQL: {args.events:,} events, {args.rate:g} writes/s for {args.duration:g} s "
            f"({os.cpu_count()} cores, {load()})"
        )

        out, wall, writer_mb = run_measured(["generate", "--events", str(args.events)], env)
        written = json.loads(out.strip().splitlines()[-1])
        events = written["events"]
        raw_wall, raw_cpu = raw_insert(db, min(RAW_ROWS, events))
        rate = events / written["seconds"]
        print(
            f"write    {events:,} events in {written['seconds']:.0f} s: {rate:,.0f} events/s "
            f"(CPU {events / written['cpu']:,.0f}/s); raw psycopg insert {raw_wall:,.0f} rows/s "
            f"(CPU {raw_cpu:,.0f}/s): {rate / raw_wall:.0%}; peak RSS {writer_mb:.0f} MB ({load()})"
        )
        with db.connect() as conn:
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        print(f"         PostgreSQL database {size / 1e9:.2f} GB ({size / events:,.0f} bytes/event)")

        out, wall, verify_mb = run_measured(["cli", "verify"], env)
        raw_rate, _ = raw_read_hash(db)
        print(
            f"verify   {events / wall:,.0f} events/s ({wall:.0f} s, process start included); raw read + "
            f"SHA-256 {raw_rate:,.0f} rows/s: {events / wall / raw_rate:.0%}; peak RSS {verify_mb:.0f} MB "
            f"({load()})"
        )
        print("         " + out.strip().splitlines()[0])

        out, wall, rebuild_mb = run_measured(["cli", "rebuild"], env)
        raw_rate = raw_read_insert_all(db, OUT / "raw.db")
        projections = data_dir / "projections.db"
        print(
            f"rebuild  {events / wall:,.0f} events/s ({wall:.0f} s); raw read + insert_all {raw_rate:,.0f} "
            f"rows/s: {events / wall / raw_rate:.0%}; peak RSS {rebuild_mb:.0f} MB; projections "
            f"{projections.stat().st_size / 1e9:.2f} GB ({load()})"
        )

        lag = lag_run(env, data_dir, args.events, args.rate, args.duration, args.writers)
        ms = {key: f"{lag[key] * 1000:.0f} ms" for key in ("late_max", "p50", "p95", "p99", "max")}
        print(
            f"lag      {lag['writes']:,} writes at {lag['rate']:.1f}/s ({lag['writers']} writers; latest "
            f"start {ms['late_max']} behind schedule): p50 {ms['p50']}, p95 {ms['p95']}, "
            f"p99 {ms['p99']}, max {ms['max']}; "
            f"{lag['missing']} never seen ({load()})"
        )
        print(
            f"         CPU a write: writer {lag['writer_cpu_ms']:.1f} ms, "
            f"follower {lag['follower_cpu_ms']:.1f} ms; exit status: "
            f"writers {lag['writer_status']}, follower {lag['follower_status']}"
        )
        print(
            f"peak RSS MB: writer {writer_mb:.0f}, follower {lag['follower_mb']:.0f}, "
            f"verify {verify_mb:.0f}, "
            f"rebuild {rebuild_mb:.0f}, paced writer {lag['writer_mb']:.0f} (largest)"
        )
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
