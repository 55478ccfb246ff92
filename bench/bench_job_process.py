"""What running each background job in a process of its own costs: a small import job
run by the worker here (`Worker.run_job`) and in its own `govledger job run` process
(`Worker(in_child=True)`, as the worker loop runs it), alternated in one process on one
ledger, beside a raw sqlite3 insert of the same rows in one transaction.

    .venv/bin/python bench/bench_job_process.py --jobs 5 --repeat 2

The difference is the child's start: Python, the ledger's modules, and opening the
ledger and its projections. CPU time counts the child's too (RUSAGE_CHILDREN)."""

from __future__ import annotations

import argparse
import io
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govledger.jobs import Worker  # noqa: E402
from ledger.transfer.kinds import COLUMNS  # noqa: E402
from ledger.transfer.stored_files import store  # noqa: E402
from projections.system import System, open_system  # noqa: E402

ROWS = 5


def queue(system: System, tag: str) -> UUID:
    lines = "".join(f"plan,{tag}-{n},action,Do {n},,,\n" for n in range(ROWS))
    kept = store(system.data_dir, io.BytesIO(f"{','.join(COLUMNS['items'])}\n{lines}".encode()), "items.csv")
    return system.ledger.queue_job(
        "import", file_sha256=kept.sha256, file_name="items.csv", file_size=kept.size,
        options={"stored": "items.csv"}, actor="pat",
    )


def cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_jobs(system: System, in_child: bool, jobs: int, tag: str) -> tuple[float, float]:
    """Median wall and CPU seconds of one job, claimed and run to the end."""
    walls, cpus = [], []
    for n in range(jobs):
        queue(system, f"{tag}{n}")
        start, used = time.perf_counter(), cpu()
        assert Worker(system, in_child=in_child).run_once()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu() - used)
    return statistics.median(walls), statistics.median(cpus)


def raw_insert(folder: Path) -> float:
    """Seconds for sqlite3 to insert ROWS rows in one transaction into a new file."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{folder / 'raw.db'}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE rows (programme TEXT, ref TEXT, kind TEXT, title TEXT)")
    start = time.perf_counter()
    conn.execute("BEGIN")
    rows = [("plan", f"R{n}", "action", f"Do {n}") for n in range(ROWS)]
    conn.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=5, help="jobs a measurement (its median is printed)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.pop("PERSISTENCE_MODULE", None)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as folder, open_system(folder) as system:
        system.ledger.register_programme("plan", "Plan", cadence="quarterly", actor="setup")
        system.ledger.open_account("pat", display_name="Pat", role="programme manager", actor="setup")
        system.ledger.assign_programme("pat", "plan", actor="setup")
        for round_ in range(args.repeat):
            here = run_jobs(system, False, args.jobs, f"H{round_}-")
            child = run_jobs(system, True, args.jobs, f"C{round_}-")
            raw = raw_insert(Path(folder))
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"round {round_ + 1}: a {ROWS}-row import job, median of {args.jobs} (load average {load})")
            print(f"  in the worker's process: {here[0]:.3f} s wall, {here[1]:.3f} s CPU")
            print(f"  in its own process:      {child[0]:.3f} s wall, {child[1]:.3f} s CPU "
                  f"(+{child[0] - here[0]:.2f} s wall, +{child[1] - here[1]:.2f} s CPU a job)")
            print(f"  raw sqlite3, {ROWS} rows in one transaction: {raw * 1000:.2f} ms; in-process job / raw "
                  f"{here[0] / raw:,.0f}x, own-process job / raw {child[0] / raw:,.0f}x")


if __name__ == "__main__":
    main()
