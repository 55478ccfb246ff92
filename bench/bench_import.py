"""Import throughput, beside raw SQLite inserting the same rows in the same run.

    python bench/bench_import.py --rows 50000

Generates a folder in the import format: one programme, one item per nine status rows
and nine quarters of statuses per item (50,000 rows = 1 programme + 5,000 items +
44,999 statuses), the shape of a large plan's history. Then, all in one process:

- raw: sqlite3 `executemany` of the same rows (as text) into one table of a file
  database, one transaction, WAL, synchronous=FULL (what the event store runs with).
- import: `ledger.transfer.importing.import_file` into an empty data directory, end to end
  (read, parse, apply every row through the ledger's commands, one save). Target: a
  50,000-row file in under 30 s; the ratio to raw is printed as well.
- import again: the same file into the same ledger (idempotent: nothing recorded).
- dry run: the same file into another empty ledger, recording nothing.
- xlsx: the ledger exported to .xlsx, and that workbook imported into an empty ledger.
- memory (issue 14 item 8): the peak RSS (VmHWM) of a fresh process importing the file,
  and of one exporting it, each with its wall and CPU time.

`--memory-only` skips the timed runs but the raw baseline, for a million rows:

    python bench/bench_import.py --rows 1000000 --memory-only \
        --export-ledger /work/bench-data/ledger-big

`--export-ledger DIR` also exports that data directory's event log (copied into the
scratch folder first: the original is never opened) in a fresh process.

Scratch files go in bench/out/ (git-ignored) and are removed unless --keep.
`--profile` prints where the first import spends its time. `--list-rows N` applies the
timed imports N rows at a time (ledger.transfer.spool.SPOOL_ROWS, 50,000 by default, so a
50,000-row file is one list): with N below the file's rows, the batch spills between lists.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import os
import platform
import pstats
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ledger.application import open_ledger
from ledger.config import EVENTS_DB
from ledger.transfer import spool
from ledger.transfer.export import export
from ledger.transfer.importing import import_file
from ledger.transfer.kinds import COLUMNS

TARGET_SECONDS_50K = 30.0
PERIODS = [f"{y}/{(y + 1) % 100:02d} Q{q}" for y in (2022, 2023, 2024) for q in (1, 2, 3, 4)][:9]
STATUSES = ("Green", "Amber", "Red", "Not yet due")


def generate(folder: Path, rows: int) -> list[tuple[str, ...]]:
    """Write the folder; return every data row (for the raw baseline)."""
    folder.mkdir(parents=True)
    items = max(1, -(-(rows - 1) // (len(PERIODS) + 1)))  # rounded up: the last one has fewer
    tables: dict[str, list[tuple[str, ...]]] = {
        "programmes": [("bench", "Bench plan", "quarterly", "rag", "yes", "", "", "", "")],
        "items": [
            ("bench", f"A{i}", "action", f"Deliver improvement {i} across partners", "",
             f"Head of Service {i % 40}", "CPC")
            for i in range(items)
        ],
        "statuses": [],
    }
    for i in range(items):
        for p, period in enumerate(PERIODS):
            status = STATUSES[(i + p) % len(STATUSES)]
            mitigation = "Recovery plan agreed with the lead member" if status in ("Amber", "Red") else ""
            tables["statuses"].append((
                "bench", f"A{i}", period, status,
                f"Update on improvement {i} for {period}: milestones reviewed at the board.",
                mitigation, "",
            ))
    tables["statuses"] = tables["statuses"][: rows - 1 - items]
    everything: list[tuple[str, ...]] = []
    for kind, data in tables.items():
        with (folder / f"{kind}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS[kind])
            writer.writerows(data)
        everything += [(kind, *row) for row in data]
    return everything


def raw_insert(db: Path, rows: list[tuple[str, ...]]) -> float:
    """Seconds to insert the rows (padded to one width) in one transaction."""
    return raw_insert_timed(db, rows)[0]


def raw_insert_timed(db: Path, rows: list[tuple[str, ...]]) -> tuple[float, float]:
    """(wall s, CPU s) to insert the rows (padded to one width) in one transaction."""
    width = max(len(r) for r in rows)
    padded = [r + ("",) * (width - len(r)) for r in rows]
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    columns = ", ".join(f"c{i} TEXT" for i in range(width))
    conn.execute(f"CREATE TABLE rows (id INTEGER PRIMARY KEY, {columns})")
    marks = ", ".join("?" * width)
    names = ", ".join(f"c{i}" for i in range(width))
    start, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO rows ({names}) VALUES ({marks})", padded)
    conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    conn.close()
    return seconds, cpu


def timed_import(
    data_dir: Path, source: Path, *, dry_run: bool = False, profile: bool = False
) -> tuple[float, Any]:
    ledger = open_ledger(data_dir)
    profiler = cProfile.Profile() if profile else None
    try:
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        result = import_file(ledger, source, actor="bench", dry_run=dry_run)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
    finally:
        ledger.close()
    assert result.ok, result.problems[:5]
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return seconds, result


# Run in a fresh interpreter, so the peak RSS is the import's or export's own (this
# process holds the generated rows). The floor: the same interpreter with the modules loaded.
CHILD_SETUP = (
    "import sys\nfrom ledger.application import open_ledger\n"
    "from ledger.transfer.export import export\nfrom ledger.transfer.importing import import_file\n"
)
CHILD_IMPORT = (
    "ledger = open_ledger(sys.argv[1])\n"
    "assert import_file(ledger, sys.argv[2], actor='bench').ok\nledger.close()\n"
)
CHILD_EXPORT = "export(sys.argv[1], sys.argv[2])\n"
CHILD_TIMER = "import time\nstart, cpu = time.perf_counter(), time.process_time()\n"
CHILD_REPORT = (
    "\nprint(time.perf_counter() - start, time.process_time() - cpu, "
    "next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])\n"
)


def child_run(code: str, *args: Path) -> tuple[float, float, float]:
    """(peak RSS in MB, wall s, CPU s) of a fresh Python running `code` with `args` as
    sys.argv[1:]: its own VmHWM (Linux), read at its end. Not the child's ru_maxrss,
    which Linux carries over from this big parent through fork and exec."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD_SETUP + CHILD_TIMER + code + CHILD_REPORT, *map(str, args)],
        check=True, capture_output=True, text=True,
    ).stdout
    wall, cpu, peak = out.split()[-3:]
    return int(peak) / 1024, float(wall), float(cpu)  # VmHWM is in kB


def child_peak_rss(code: str, *args: Path) -> float:
    return child_run(code, *args)[0]


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def memory(scratch: Path, rows: int, raw_rate: float, export_ledger: Path | None) -> None:
    """Peak RSS of a fresh process importing the generated file into an empty ledger and
    exporting that ledger, beside rows/s and the raw baseline measured in this run."""
    floor = child_peak_rss("")
    peak, wall, cpu = child_run(CHILD_IMPORT, scratch / "rss", scratch / "in")
    print(f"import {rows:,} rows, fresh process: peak RSS {peak:,.0f} MB ({peak * 1024 * 1024 / rows:,.0f} "
          f"B/row), {wall:.1f} s wall, {cpu:.1f} s CPU, {rows / wall:,.0f} rows/s = "
          f"{rows / wall / raw_rate:.1%} of raw ({load()}; floor {floor:,.0f} MB; target < 300 MB)")
    peak, wall, cpu = child_run(CHILD_EXPORT, scratch / "rss", scratch / "rss-exported")
    print(f"export of those {rows:,} events to CSV, fresh process: peak RSS {peak:,.0f} MB, {wall:.1f} s "
          f"wall, {cpu:.1f} s CPU ({load()})")
    if export_ledger is not None:
        copy = scratch / "big"
        copy.mkdir()
        shutil.copy2(export_ledger / EVENTS_DB, copy / EVENTS_DB)  # never open the original
        peak, wall, cpu = child_run(CHILD_EXPORT, copy, scratch / "big-exported")
        size = sum(1 for _ in (scratch / "big-exported" / "statuses.csv").open("rb"))
        print(f"export of {export_ledger} to CSV, fresh process: peak RSS {peak:,.0f} MB, {wall:.1f} s "
              f"wall, {cpu:.1f} s CPU, statuses.csv {size:,} lines ({load()}; target < 300 MB)")


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch files in bench/out/")
    parser.add_argument("--profile", action="store_true", help="profile the first import")
    parser.add_argument("--memory-only", action="store_true", help="only the raw baseline and peak RSS")
    parser.add_argument("--export-ledger", type=Path, help="a data directory whose log to export too")
    parser.add_argument("--list-rows", type=int, help="rows applied at a time by the timed imports")
    args = parser.parse_args()
    if args.list_rows:
        spool.SPOOL_ROWS = args.list_rows
    os.environ.pop("PERSISTENCE_MODULE", None)  # always the SQLite event store

    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="import-", dir=out))
    try:
        rows = generate(scratch / "in", args.rows)
        raw = raw_insert(scratch / "raw.db", rows)
        if args.memory_only:
            when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
            print(f"# bench_import --memory-only {when}, {os.cpu_count()} CPUs")
            print(f"raw sqlite3 executemany, 1 txn: {raw:.3f} s, {len(rows) / raw:,.0f} rows/s ({load()})")
            n = len(rows)
            del rows  # the children's peaks are their own, but this process need not hold them
            memory(scratch, n, n / raw, args.export_ledger)
            return
        first, result = timed_import(scratch / "data", scratch / "in", profile=args.profile)
        again, repeat = timed_import(scratch / "data", scratch / "in")
        dry, _ = timed_import(scratch / "dry", scratch / "in", dry_run=True)
        export_csv = timed(lambda: export(scratch / "data", scratch / "exported"))
        export_xlsx = timed(lambda: export(scratch / "data", scratch / "exported.xlsx"))
        xlsx, xlsx_result = timed_import(scratch / "from-xlsx", scratch / "exported.xlsx")
        rss_floor = child_peak_rss("")
        rss_import = child_peak_rss(CHILD_IMPORT, scratch / "rss", scratch / "in")
        rss_export = child_peak_rss(CHILD_EXPORT, scratch / "rss", scratch / "rss-exported")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    n = len(rows)
    assert result.event_count == n and repeat.event_count == 0 and xlsx_result.event_count == n
    raw_rate, import_rate = n / raw, n / first
    target = TARGET_SECONDS_50K * n / 50_000
    print(f"# bench_import {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}, eventsourcing {version('eventsourcing')}, "
          f"openpyxl {version('openpyxl')}, {os.cpu_count()} CPUs")
    print(f"rows: {n:,} ({result.events_by_kind}), applied {spool.SPOOL_ROWS:,} at a time")
    print(f"raw sqlite3 executemany, 1 txn:   {raw:7.3f} s  {raw_rate:>10,.0f} rows/s")
    print(f"import (CSV folder, empty ledger): {first:7.3f} s  {import_rate:>10,.0f} rows/s  "
          f"= {import_rate / raw_rate:.1%} of raw; target < {target:.0f} s: "
          f"{'met' if first < target else 'MISSED'}")
    print(f"import again (records nothing):    {again:7.3f} s  {n / again:>10,.0f} rows/s")
    print(f"dry run (empty ledger):            {dry:7.3f} s  {n / dry:>10,.0f} rows/s")
    print(f"export to CSV folder:              {export_csv:7.3f} s")
    print(f"export to .xlsx:                   {export_xlsx:7.3f} s")
    print(f"import .xlsx (empty ledger):       {xlsx:7.3f} s  {n / xlsx:>10,.0f} rows/s")
    print(f"peak RSS, fresh process: import {rss_import:,.0f} MB, export to CSV {rss_export:,.0f} MB "
          f"(modules loaded, nothing done: {rss_floor:,.0f} MB; target < 300 MB at 1M rows; {load()})")


if __name__ == "__main__":
    main()
