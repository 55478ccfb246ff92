"""Benchmark as at for one programme (issue 14, item 7): "what did the committee see",
at the middle and at the end of a big log, by position and by time, beside the whole
replay to the same position and the rebuild, each with its peak RSS (VmHWM).

    .venv/bin/python bench/bench_asat.py --events 1000000
    .venv/bin/python bench/bench_asat.py --events 1000000 --skip-whole   # the fast path only
    .venv/bin/python bench/bench_asat.py --data-dir bench/out/my-copy    # another ledger

Each measurement runs in its own process, so its peak RSS is its own; in that process,
after it, the raw SQLite baseline reads the same stored rows with sqlite3 and
`insert_all`s them into a fresh table with sqlite-utils (one transaction), and the ratio
is printed. Cases: from zero (a cold cache); caught up from the middle's cached snapshot
(`SnapshotCache`: only the events after the middle, whose rows are then the baseline's);
`govledger snapshot --programme` as a whole command (its own process: start-up included);
and the web as-at page (Flask's test client on the real app, signed in as an auditor):
server time and CPU of each page in a row, and the worker's RSS after them. The ledger is
bench_projections' generated one in bench/out/ledger-big (kept and reused; a copy of
/work/bench-data/ledger-big will do); its projections.db is built once, as the live read
model the fast path reads the programme's records from. Targets: < 2 s and < 300 MB
(< 250 MB for a web worker).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_asat_web  # noqa: E402
from bench_asat_web import raw_programme  # noqa: E402
from bench_projections import OUT, ledger_with_history, raw_baseline  # noqa: E402

from ledger.application import open_ledger  # noqa: E402
from ledger.config import projections_path  # noqa: E402
from projections.asat import SnapshotCache, programme_snapshot_with  # noqa: E402
from projections.system import build_into_place, snapshot_with  # noqa: E402

PROGRAMME = "programme-007"


def peak_mb() -> float:
    """This process's peak RSS. VmHWM, not getrusage's ru_maxrss: a child started by
    a process that had grown keeps the parent's figure there."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, directory: Path, as_at: str, stop: int) -> dict[str, Any]:
    """One measurement, in this process: the project's, then the raw baseline's.
    "programme": replayed from zero; "cold": through an empty SnapshotCache (copied from
    the live read model when it can be, else replayed from zero); "cached": the cache's
    second ask; "tail": replayed from the middle's snapshot; "whole": the whole log."""
    with tempfile.TemporaryDirectory(dir=OUT) as temp:
        out = Path(temp) / "as-at.db"
        ledger = open_ledger(directory)
        live, after = projections_path(directory), 0
        cache = SnapshotCache(Path(temp) / "cache")
        try:
            if kind == "tail":  # the middle's snapshot, cached first (not timed)
                base = cache.snapshot(ledger, live, PROGRAMME, stop // 2)
                after = base.position
            if kind == "cached":  # asked once first (not timed)
                after = cache.snapshot(ledger, live, PROGRAMME, stop).position
            started, cpu = time.perf_counter(), time.process_time()
            if kind in ("programme", "tail"):
                # As before: from zero with the full-text indexes, the tail as the cache builds it.
                tail = kind == "tail"
                shot = programme_snapshot_with(
                    ledger, live, out, PROGRAMME, as_at, base=base.path if tail else None, search=not tail
                )
                events = shot.events
            elif kind in ("cold", "cached"):
                shot = cache.snapshot(ledger, live, PROGRAMME, stop)
                out, events = shot.path, shot.events
            else:
                events = snapshot_with(ledger, out, as_at).events
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            ledger.close()
        peak = peak_mb()
        size = out.stat().st_size
        raw_cpu = time.process_time()
        if kind != "whole":
            raw_seconds, raw_rows = raw_programme(directory, PROGRAMME, stop, Path(temp) / "raw.db", after)
        else:
            rate, _ = raw_baseline(directory / "events.db", stop, Path(temp) / "raw.db")
            raw_seconds, raw_rows = stop / rate, stop
        raw_cpu = time.process_time() - raw_cpu
    return {
        "seconds": seconds, "cpu": cpu, "events": events, "peak_mb": peak, "file_mb": size / 1e6,
        "raw_seconds": raw_seconds, "raw_cpu": raw_cpu, "raw_rows": raw_rows,
    }  # fmt: skip


def run_child(kind: str, directory: Path, as_at: str, stop: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(directory), as_at, str(stop)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def recorded_at(directory: Path, position: int) -> str:
    with sqlite3.connect(str(directory / "events.db")) as conn:
        state = conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()[0]
    return orjson.loads(state)["timestamp"]["_data_"]


def ensure_read_model(directory: Path) -> dict[str, Any] | None:
    """Build projections.db once (a whole rebuild), measured; None if already there."""
    path = projections_path(directory)
    if path.exists():
        return None
    ledger = open_ledger(directory)
    try:
        started = time.perf_counter()
        applied = build_into_place(ledger, path)
        return {"seconds": time.perf_counter() - started, "events": applied, "peak_mb": peak_mb()}
    finally:
        ledger.close()


def line(label: str, r: dict[str, Any]) -> str:
    return (
        f"  {label:<40} {r['seconds']:6.2f} s (CPU {r['cpu']:5.2f} s)  peak {r['peak_mb']:4.0f} MB  "
        f"{r['events']:>9,} replayed  file {r['file_mb']:6.1f} MB | raw {r['raw_seconds']:5.2f} s "
        f"(CPU {r['raw_cpu']:5.2f} s, {r['raw_rows']:,} rows) = {r['raw_seconds'] / r['seconds']:.0%} "
        f"of raw speed (CPU {r['raw_cpu'] / r['cpu']:.0%}); load average {os.getloadavg()[0]:.1f}"
    )


def web_line(r: dict[str, Any]) -> str:
    if "peak_mb" in r:
        return f"  web worker peak (VmHWM) {r['peak_mb']:.0f} MB; load average {os.getloadavg()[0]:.1f}"
    raw = " | nothing replayed"
    if r["raw_rows"]:
        ratio = r["raw_seconds"] / r["seconds"]
        raw = f" | raw {r['raw_seconds']:5.2f} s ({r['raw_rows']:,} rows) = {ratio:.0%} of raw speed"
    return (
        f"  web as-at page, {r['label']:<31} {r['seconds']:6.3f} s (CPU {r['cpu']:5.2f} s)  "
        f"RSS after {r['rss_mb']:4.0f} MB{raw}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--skip-whole", action="store_true", help="Do not time the whole replays.")
    parser.add_argument("--data-dir", type=Path, help="A ledger with projections.db (default: ledger-big).")
    parser.add_argument("--child", nargs=4, metavar=("KIND", "DIR", "AS_AT", "STOP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, directory, as_at, stop = args.child
        if kind == "web":
            print(json.dumps(bench_asat_web.web_pages(Path(directory), PROGRAMME, json.loads(as_at))))
        else:
            print(json.dumps(child(kind, Path(directory), as_at, int(stop))))
        return
    print(
        f"bench_asat {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs"
    )
    if args.data_dir:
        directory, rate = args.data_dir.resolve(), None
    else:
        directory, rate = ledger_with_history(OUT / "ledger-big", args.events, keep=True)
    if rate:
        print(f"(generated the ledger at {rate:,.0f} events/s with batched save)")
    built = ensure_read_model(directory)
    if built:
        print(f"(built projections.db: {built['events']:,} events in {built['seconds']:.1f} s, "
              f"peak {built['peak_mb']:.0f} MB)")  # fmt: skip
    bench_asat_web.ensure_auditor(directory)  # the web case signs in as one
    with sqlite3.connect(str(directory / "events.db")) as conn:
        last = conn.execute("SELECT max(rowid) FROM stored_events").fetchone()[0]
    middle = last // 2
    print(f"{last:,} events; programme {PROGRAMME}; target < 2 s and < 300 MB; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    with sqlite3.connect(str(projections_path(directory))) as conn:
        reached = conn.execute("SELECT position FROM projection_position").fetchone()[0]
    print(f"projections.db at {reached:,} (the end: an as-at there is copied from it)")
    cases = [
        ("middle, by position", str(middle), middle),
        ("middle, by time", recorded_at(directory, middle), middle),
        ("end, by position", str(last), last),
    ]
    for label, as_at, stop in cases:
        print(line(f"replayed from zero, {label}", run_child("programme", directory, as_at, stop)))
    print(line("replayed from the middle, end", run_child("tail", directory, str(last), last)))
    for label, as_at, stop in (cases[0], cases[2]):
        print(line(f"cache empty, {label}", run_child("cold", directory, as_at, stop)))
        print(line(f"cached, {label}", run_child("cached", directory, as_at, stop)))
    said = bench_asat_web.command(directory, PROGRAMME, str(last))
    print(
        f"  govledger snapshot --programme, end: {said['seconds']:.2f} s (CPU {said['cpu']:.2f} s, the whole "
        f"process) peak {said['peak_mb']:.0f} MB, file {said['file_mb']:.1f} MB; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    quarter = last * 3 // 4
    pages = [  # the first page of a worker pays for its templates and imports too
        ("middle (cache empty: replayed)", str(middle), middle, 0),
        ("end (copied from projections.db)", str(last), last, 0),
        ("end again (cached)", str(last), last, last),
        ("3/4, by time (from the middle)", recorded_at(directory, quarter), quarter, middle),
        ("end again (cached)", str(last), last, last),
    ]
    for page in run_child("web", directory, json.dumps(pages), last):
        print(web_line(page))
    if not args.skip_whole:
        for label, as_at, stop in (cases[0], cases[2]):
            print(line(f"whole replay, {label}", run_child("whole", directory, as_at, stop)))


if __name__ == "__main__":
    main()
