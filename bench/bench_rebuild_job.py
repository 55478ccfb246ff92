"""Benchmark a rebuild run as a background job (govledger.jobs) against the same rebuild
run directly (`govledger rebuild`: projections.system.build_into_place), beside a raw
SQLite baseline, all in one process on the same log.

    .venv/bin/python bench/bench_rebuild_job.py --events 100000 --repeat 2

The job adds its own events (Queued, Started, a Progressed beat every quarter lease,
Finished) and a heartbeat thread; the figure to watch is the job / direct ratio. The
baseline reads the same number of stored events with raw sqlite3 and `insert_all`s them
into a new table with sqlite-utils in one transaction (bench_projections.raw_baseline).
The ledger is generated into bench/out/rebuild-job (git ignored) and reused."""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_projections import ledger_with_history, raw_baseline  # noqa: E402

from govledger.jobs import Worker  # noqa: E402
from ledger.config import EVENTS_DB  # noqa: E402
from ledger.transfer.stored_files import store  # noqa: E402
from projections.system import System, build_into_place, open_system  # noqa: E402

OUT = ROOT / "bench" / "out" / "rebuild-job"


def direct(system: System) -> tuple[int, float, float]:
    """(events, wall s, CPU s) of `govledger rebuild`'s own call."""
    started, cpu = time.perf_counter(), time.process_time()
    applied = build_into_place(system.ledger, system.projections_db)
    return applied, time.perf_counter() - started, time.process_time() - cpu


def as_job(system: System, n: int) -> tuple[int, float, float]:
    """(events, wall s, CPU s) from queueing a rebuild job to its Finished event."""
    request = io.BytesIO(f'{{"bench": {n}, "at": {time.time()}}}'.encode())
    kept = store(system.data_dir, request, "request.json")
    started, cpu = time.perf_counter(), time.process_time()
    job = system.ledger.queue_job(
        "rebuild", file_sha256=kept.sha256, file_name="projections.db", file_size=kept.size,
        options={"stored": "request.json"}, actor="bench",
    )
    worker = Worker(system, name="bench")
    while worker.run_once():
        pass
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    assert system.ledger.get_job(UUID(str(job)))["state"] == "done"
    return system.ledger.get_log_position(), wall, used


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="events in the log (generated once)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, alternated")
    args = parser.parse_args()
    directory, rate = ledger_with_history(OUT, args.events, keep=True)
    if rate:
        print(f"generated {args.events:,} events at {rate:,.0f}/s")
    with open_system(directory) as system:
        for run in range(1, args.repeat + 1):
            load = os.getloadavg()
            if run % 2:  # alternate which goes first: the second finds the page cache warmer
                events, wall, cpu = direct(system)
                _, job_wall, job_cpu = as_job(system, run)
            else:
                _, job_wall, job_cpu = as_job(system, run)
                events, wall, cpu = direct(system)
            base_wall, base_cpu = raw_baseline(directory / EVENTS_DB, events, OUT / "baseline.db")
            print(
                f"run {run} (load {load[0]:.2f} {load[1]:.2f}): {events:,} events | "
                f"direct {events / wall:,.0f}/s wall, {events / cpu:,.0f}/s CPU | "
                f"job {events / job_wall:,.0f}/s wall, {events / job_cpu:,.0f}/s CPU | "
                f"raw baseline {base_wall:,.0f}/s wall, {base_cpu:,.0f}/s CPU | "
                f"job/direct wall {wall / job_wall:.0%}, CPU {cpu / job_cpu:.0%} | "
                f"job/baseline wall {events / job_wall / base_wall:.0%}"
            )


if __name__ == "__main__":
    main()
