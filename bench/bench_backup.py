"""Benchmark `govledger backup` and `restore` beside a raw sqlite3 backup of the same file.

    .venv/bin/python bench/bench_backup.py                 # the demo log and a 100k-event log
    .venv/bin/python bench/bench_backup.py --events 200000

For each data directory (the demo's, built with `govledger demo`, and one generated with
bench_projections' history generator, kept in bench/out/ and reused), in the same run:

- raw: `sqlite3.Connection.backup` of events.db into a new file, all pages in one step;
- backup: `govledger.backup.back_up` (events.db stepwise inside one read transaction,
  verification of the copy, credentials, key, publications, SHA-256 of every file);
- restore: `govledger.backup.restore` (hash check, copy, verify, projections rebuilt).

Each is timed as the median of --runs runs; sizes are the files written.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_projections import ledger_with_history  # noqa: E402

from govledger.backup import back_up, restore  # noqa: E402

OUT = ROOT / "bench" / "out"


def median_seconds(runs: int, setup: Callable[[], None], job: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        setup()
        started = time.perf_counter()
        job()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def size(path: Path) -> int:
    return (
        path.stat().st_size
        if path.is_file()
        else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    )


def raw_backup(events_db: Path, copy: Path) -> None:
    source, target = sqlite3.connect(events_db), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def demo_dir() -> Path:
    directory = OUT / "backup-demo"
    if not (directory / "events.db").exists():
        shutil.rmtree(directory, ignore_errors=True)
        govledger = ROOT / ".venv" / "bin" / "govledger"
        subprocess.run(
            [str(govledger), "--data-dir", str(directory), "demo", "--no-serve", "--yes"],
            check=True,
            capture_output=True,
        )
    return directory


def measure(label: str, data_dir: Path, runs: int) -> None:
    scratch = OUT / "backup-scratch"
    raw_copy, backup_dir, restored = scratch / "raw.db", scratch / "backup", scratch / "restored"

    def fresh() -> None:
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)

    raw = median_seconds(runs, fresh, lambda: raw_backup(data_dir / "events.db", raw_copy))
    raw_size = size(raw_copy)
    manifest = None

    def ours() -> None:
        nonlocal manifest
        manifest = back_up(data_dir, backup_dir)

    ours_seconds = median_seconds(runs, fresh, ours)
    backup_size = size(backup_dir)
    restore_seconds = median_seconds(
        runs,
        lambda: shutil.rmtree(restored, ignore_errors=True),
        lambda: restore(backup_dir, restored),
    )
    assert manifest is not None
    print(
        f"{label}: {manifest.events:,} events, events.db {size(data_dir / 'events.db') / 1e6:.1f} MB\n"
        f"  raw sqlite3 backup   {raw * 1000:8.0f} ms  {raw_size / 1e6:7.1f} MB\n"
        f"  govledger backup     {ours_seconds * 1000:8.0f} ms  {backup_size / 1e6:7.1f} MB  "
        f"({ours_seconds / raw:.1f}x raw; {len(manifest.files)} files)\n"
        f"  govledger restore    {restore_seconds * 1000:8.0f} ms  (verify + rebuild of projections)"
    )
    shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="events in the generated log")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (median)")
    args = parser.parse_args()
    measure("demo log", demo_dir(), args.runs)
    history, _ = ledger_with_history(OUT / f"backup-{args.events}", args.events, keep=True)
    measure(f"generated log ({args.events:,})", history, args.runs)


if __name__ == "__main__":
    main()
