"""History grid import (issue 11 item 4), beside raw SQLite inserting the same cells in
the same run.

    python bench/bench_history_grid.py --items 200 --quarters 12

Writes history.csv (one row per item, one column per quarter, every cell a status) and
programmes.csv to a scratch folder, then in one process:

- raw: sqlite3 `executemany` of the same (programme, ref, period, status) cells into one
  table of a file database, one transaction, WAL, synchronous=FULL.
- import: `import_file` of the grid into an empty data directory with its projector
  (read, check every cell, register each item, record each status, one save, projections
  caught up).
- again: the same grid into the same ledger (overlapping snapshot: nothing recorded).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from ledger.periods import Period
from ledger.transfer.importing import import_file
from projections.system import open_system

STATUSES = ("Green", "Amber", "Red", "Complete")


def write_grid(folder: Path, items: int, quarters: int) -> list[tuple[str, str, str, str]]:
    period, periods = Period.parse("2022/23 Q1", "quarterly"), []
    for _ in range(quarters):
        periods.append(period.label)
        period = period.next()
    (folder / "programmes.csv").write_text(
        "programme,name,cadence,scale,requires_mitigation,description,contact_name,contact_phone,contact_email\n"
        "risks,Risk register,quarterly,rag,no,,,,\n", encoding="utf-8",
    )
    cells = []
    with (folder / "history.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["programme", "ref", "title", *periods])
        for n in range(items):
            row = [STATUSES[(n + q) % len(STATUSES)] for q in range(quarters)]
            writer.writerow(["risks", f"R{n + 1}", f"Risk {n + 1}", *row])
            cells.extend(("risks", f"R{n + 1}", p, s) for p, s in zip(periods, row, strict=True))
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--quarters", type=int, default=12)
    args = parser.parse_args()
    out = Path(__file__).parent / "out"  # not in git: made on first use
    out.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-grid-", dir=out))
    try:
        cells = write_grid(scratch, args.items, args.quarters)
        start = time.perf_counter()
        with sqlite3.connect(scratch / "raw.db") as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("CREATE TABLE cells (programme TEXT, ref TEXT, period TEXT, status TEXT)")
            conn.executemany("INSERT INTO cells VALUES (?, ?, ?, ?)", cells)
        raw = time.perf_counter() - start
        with open_system(scratch / "data") as system:
            start = time.perf_counter()
            result = import_file(system.ledger, scratch, actor="bench")
            imported = time.perf_counter() - start
            assert result.recorded and not result.problems, result.problems
            start = time.perf_counter()
            again = import_file(system.ledger, scratch, actor="bench")
            repeat = time.perf_counter() - start
            assert again.event_count == 0
        events = result.event_count
        print(f"{args.items} items x {args.quarters} quarters = {len(cells)} cells, {events} events")
        print(f"raw insert   {raw * 1000:8.1f} ms")
        print(f"grid import  {imported * 1000:8.1f} ms  ({imported / raw:.0f}x raw, "
              f"{len(cells) / imported:,.0f} cells/s)")
        print(f"again        {repeat * 1000:8.1f} ms  (nothing recorded)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
