"""The SQLite floor under a rebuild (issue 14 item 4): `python bench/bench_floor.py --only rebuild`.

    python bench/bench_floor.py --only rebuild --events 100000 --rounds 3 [--no-ours]
    python bench/bench_floor.py --only rebuild --ledger bench/out/ledger-big

Whether a rebuild at >= 50% of the raw baseline is reachable with this read model at all:
the SQL a rebuild's file costs with no Python per event. In ONE process, taking turns in
each round, with CPU (`time.process_time`) beside wall time and the load average:

- raw baseline: bench_projections.raw_baseline (read the stored events with raw sqlite3,
  `insert_all` them into one table with sqlite-utils, one transaction).
- SQL floor: the rows of a real rebuild's file (built once, untimed, read back in rowid or
  key order and held in memory), written again: read the same stored events as the
  baseline does (a rebuild must read them too), create the schema as a build does
  (`create_schema(bulk_load=True)`, the scratch build's PRAGMAs), `executemany` each
  table's rows with the projector's own INSERT in one transaction, then the secondary
  and full-text indexes (`finish_bulk_load`, as the build's end), commit, WAL on. Then,
  apart, the install a rebuild pays (`_install`: the backup API into a live file).
- by table: each table's rows, its indexes and its full-text index (each statement
  `finish_bulk_load` runs is clocked and put to its table), with the bytes per event
  each holds in the file (dbstat). Also apart: the end pass's read of the status rows
  back (`ratings_at_end._IN_ORDER`), which a rebuild pays and the floor's file does not need.
- ours: `build_into_place` over the same live file (unless --no-ours).
"""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from bench_projections import OUT, READ_STORED, ledger_with_history, raw_baseline

from ledger.application import open_ledger
from ledger.config import EVENTS_DB
from projections.ratings_at_end import _IN_ORDER
from projections.schema import TABLES, create_schema, finish_bulk_load
from projections.state import insert_statement
from projections.system import _bind_none_quickly, _install, build_into_place

Clock = tuple[float, float]  # (wall s, CPU s)
KINDS = ("rows", "indexes", "full-text index")  # a table's parts of the floor
BASELINE, FLOOR, INSTALL, OURS = (
    "raw baseline: read + insert_all, one transaction",
    "SQL floor: read + schema + executemany + indexes + FTS + commit",
    "install of the floor's file (backup API into a live file)",
    "ours: build_into_place (build + install)",
)
READ, SCHEMA, COMMIT, READ_BACK = (
    "read the stored events (raw sqlite3)",
    "schema (create_schema, bulk load)",
    "commit + journal_mode=WAL",
    "end pass's read of the status rows back (not in the floor)",
)


def load() -> str:
    return "load " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Prepared:
    """A ledger, its real rebuild's file (`live`, which each of our rebuilds is installed
    over) and that file's rows, by table, in the order they were inserted."""

    directory: Path
    events: int
    live: Path
    rows: dict[str, list[tuple[Any, ...]]]

    @property
    def events_db(self) -> Path:
        return self.directory / EVENTS_DB


def prepare(directory: Path, live: Path) -> Prepared:
    """Untimed: rebuild once into `live` and read every table's rows out of it."""
    ledger = open_ledger(directory)
    try:
        build_into_place(ledger, live)
    finally:
        ledger.close()
    with closing(sqlite3.connect(str(live))) as conn:
        rows = {t.name: conn.execute(_in_order(t.name, t.pk, t.without_rowid)).fetchall() for t in TABLES}
    with closing(sqlite3.connect(str(directory / EVENTS_DB))) as conn:
        events = conn.execute("SELECT count(*) FROM stored_events").fetchone()[0]
    return Prepared(directory, events, live, rows)


def _in_order(name: str, pk: tuple[str, ...], without_rowid: bool) -> str:
    order = ", ".join(f'"{c}"' for c in pk) if without_rowid else "rowid"
    return f'SELECT * FROM "{name}" ORDER BY {order}'


class Steps:
    """(wall, CPU) seconds by part, added up."""

    def __init__(self) -> None:
        self.spent: dict[str, Clock] = {}

    @contextmanager
    def __call__(self, part: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            was = self.spent.get(part, (0.0, 0.0))
            self.spent[part] = (was[0] + time.perf_counter() - wall, was[1] + time.process_time() - cpu)


class _ClockedConnection:
    """What finish_bulk_load is handed: each statement it runs clocked and put to the table
    it indexes, so the floor runs the build's own index code and still says what each cost."""

    def __init__(self, conn: sqlite3.Connection, steps: Steps) -> None:
        self._conn, self._steps = conn, steps

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        with self._steps(statement_part(sql)):
            return self._conn.execute(sql, *args)


def statement_part(sql: str) -> str:
    """The table an index statement is for: "<table> full-text index" or "<table> indexes"."""
    for table in sorted(TABLES, key=lambda t: -len(t.name)):
        if f'"{table.name}_fts"' in sql:
            return f"{table.name} full-text index"
    for table in sorted(TABLES, key=lambda t: -len(t.name)):
        if f'ON "{table.name}"' in sql:
            return f"{table.name} indexes"
    return "full-text index lookups"


def sql_floor(prep: Prepared, target: Path, steps: Steps) -> None:
    """The rebuild's file written with no Python per event (see the module's doc)."""
    with steps(READ), closing(sqlite3.connect(str(prep.events_db))) as source:
        cursor = source.execute(READ_STORED, (prep.events,))
        while cursor.fetchmany(1000):
            pass
    conn = sqlite3.connect(str(target), timeout=30, check_same_thread=False)
    try:
        with steps(SCHEMA):
            # The scratch build's PRAGMAs (projections.system.build).
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-16384")
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                create_schema(conn, bulk_load=True)
        conn.execute("BEGIN IMMEDIATE")
        for table in TABLES:
            with steps(f"{table.name} rows"):
                conn.executemany(insert_statement(table.name), prep.rows[table.name])
        conn.execute("PRAGMA cache_size=-8192")  # as the build's end
        finish_bulk_load(cast(sqlite3.Connection, _ClockedConnection(conn, steps)), search=True)
        with steps(COMMIT):
            conn.commit()
            conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def read_back(path: Path) -> None:
    """The status rows the end pass reads back, in its order, and nothing done with them."""
    with closing(sqlite3.connect(str(path))) as conn:
        for _ in conn.execute(_IN_ORDER):
            pass


def clocked(fn: Callable[[], Any]) -> Clock:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def discard(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def one_round(prep: Prepared, scratch: Path, ours: bool) -> tuple[dict[str, Clock], dict[str, Clock]]:
    """(totals, floor's parts) of one round: baseline, floor, its install, the read back, ours."""
    totals: dict[str, Clock] = {}
    wall_rate, cpu_rate = raw_baseline(prep.events_db, prep.events, scratch / "baseline.db")
    totals[BASELINE] = (prep.events / wall_rate, prep.events / cpu_rate)
    floor, steps = scratch / "floor.db", Steps()
    discard(floor)
    collecting = gc.isenabled()
    gc.disable()  # as a build runs
    try:
        totals[FLOOR] = clocked(lambda: sql_floor(prep, floor, steps))
    finally:
        if collecting:
            gc.enable()
    totals[INSTALL] = clocked(lambda: _install(floor, scratch / "floor-live.db"))
    steps.spent[READ_BACK] = clocked(lambda: read_back(floor))
    if ours:
        ledger = open_ledger(prep.directory)
        try:
            totals[OURS] = clocked(lambda: build_into_place(ledger, prep.live))
        finally:
            ledger.close()
    return totals, steps.spent


def file_bytes(path: Path) -> dict[str, int]:
    """Bytes in the file by table: its rows and indexes, and its full-text index's tables."""
    sql = (
        "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
        "LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1"
    )
    held: dict[str, int] = {}
    with closing(sqlite3.connect(str(path))) as conn:
        for name, size in conn.execute(sql):
            fts = next((t.name for t in TABLES if name.startswith(f"{t.name}_fts")), None)
            key = f"{fts} full-text index" if fts else f"{name} rows"
            held[key] = held.get(key, 0) + size
    return held


def rounds_of(values: list[float], form: str) -> str:
    return " / ".join(format(v, form) for v in values)


def report(
    prep: Prepared, totals: dict[str, list[Clock]], parts: dict[str, list[Clock]], scratch: Path
) -> None:
    n = prep.events
    per = 1e6 / n
    base = totals[BASELINE]
    print(f"\n| {n:,} events, per round | CPU µs/event | wall µs/event | events/s (wall) | "
          "raw / this, CPU | raw / this, wall |\n|---|---:|---:|---:|---:|---:|")
    for name, figures in totals.items():
        cpu = [c * per for _, c in figures]
        wall = [w * per for w, _ in figures]
        cpu_ratio = [b[1] / c for b, (_, c) in zip(base, figures, strict=True)]
        wall_ratio = [b[0] / w for b, (w, _) in zip(base, figures, strict=True)]
        print(f"| {name} | {rounds_of(cpu, '.2f')} | {rounds_of(wall, '.2f')} | "
              f"{rounds_of([n / w for w, _ in figures], ',.0f')} | {rounds_of(cpu_ratio, '.0%')} | "
              f"{rounds_of(wall_ratio, '.0%')} |")
    budget(totals, per)
    by_table(prep, parts)
    real, floor = prep.live.stat().st_size, (scratch / "floor.db").stat().st_size
    print(f"\nEvents {n:,}; file bytes per event: the rebuild's {real / n:.0f}, the floor's "
          f"{floor / n:.0f} ({load()})\n")


def budget(totals: dict[str, list[Clock]], per: float) -> None:
    """What the floor leaves, round by round, of the 2 x baseline CPU a rebuild at 50% may spend."""
    cpu = {name: [c * per for _, c in figures] for name, figures in totals.items()}
    pairs = list(zip(cpu[BASELINE], cpu[FLOOR], cpu[INSTALL], strict=True))
    print(f"\nRound by round (CPU): the SQL floor costs {rounds_of([f / b for b, f, _ in pairs], '.2f')} "
          f"x the baseline, {rounds_of([f / b / 2 for b, f, _ in pairs], '.0%')} of the 2 x baseline "
          f"({rounds_of([2 * b for b, _, _ in pairs], '.2f')} µs an event) a rebuild at 50% may spend; "
          f"that leaves {rounds_of([2 * b - f for b, f, _ in pairs], '.2f')} µs an event for all the rest, "
          f"{rounds_of([2 * b - f - i for b, f, i in pairs], '.2f')} after the install.")
    if OURS in cpu:
        beyond = [o - f - i for (_, f, i), o in zip(pairs, cpu[OURS], strict=True)]
        print(f"Ours spends {rounds_of(beyond, '.2f')} µs an event beyond the floor and the install "
              "(reading chain heads, decoding, handlers, the end pass and its read back, row caches).")


def by_table(prep: Prepared, parts: dict[str, list[Clock]]) -> None:
    """The floor's CPU by table (its rows, secondary indexes, full-text index), medians of
    the rounds, and the bytes each holds; then the steps that belong to no one table."""
    per, held = 1e6 / prep.events, file_bytes(prep.live)

    def cpu(part: str) -> float:
        return statistics.median(c for _, c in parts[part]) * per if part in parts else 0.0

    print("\n| the floor by table, CPU µs/event (median) | row count | its rows | indexes | "
          "full-text index | all | all, wall | bytes/event (rows + indexes / full-text) |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|")
    for table in sorted(TABLES, key=lambda t: -sum(cpu(f"{t.name} {k}") for k in KINDS)):
        name = table.name
        costs = [cpu(f"{name} {kind}") for kind in KINDS]
        wall = sum(statistics.median(w for w, _ in parts.get(f"{name} {k}", [(0.0, 0.0)])) for k in KINDS)
        fts = f" / {held[f'{name} full-text index'] / prep.events:.0f}" if table.fts else ""
        print(f"| {name} | {len(prep.rows[name]):,} | {' | '.join(f'{c:.2f}' for c in costs)} | "
              f"{sum(costs):.2f} | {wall * per:.2f} | {held.get(f'{name} rows', 0) / prep.events:.0f}{fts} |")
    print("\n| the floor's other steps, µs/event (median) | CPU | wall |\n|---|---:|---:|")
    for part, figures in parts.items():
        if not part.startswith(tuple(f"{t.name} " for t in TABLES)):
            print(f"| {part} | {cpu(part):.2f} | {statistics.median(w for w, _ in figures) * per:.2f} |")


def rebuild_floor(ledger: Path | None, events: int, rounds: int, ours: bool, out: Path = OUT) -> None:
    """Generate (or take) a ledger, prepare, then `rounds` rounds, and print the tables.
    Scratch files go in a folder of `out`, removed at the end."""
    if ledger is None:
        ledger, _ = ledger_with_history(out / f"ledger-{events}", events, keep=True)
    scratch = out / f"rbfloor-{os.getpid()}"
    scratch.mkdir()
    _bind_none_quickly()  # what a build registers, process-wide: the floor binds as it does
    try:
        prep = prepare(ledger, scratch / "live.db")
        shutil.copy(prep.live, scratch / "floor-live.db")
        gc.freeze()  # the held rows are never collected: no pass over them inside a timing
        print(f"## Rebuild floor: {ledger} ({prep.events:,} events), {rounds} rounds, "
              f"SQLite {sqlite3.sqlite_version}, {load()}")
        totals: dict[str, list[Clock]] = {}
        parts: dict[str, list[Clock]] = {}
        for r in range(rounds):
            round_totals, round_parts = one_round(prep, scratch, ours)
            for name, figure in round_totals.items():
                totals.setdefault(name, []).append(figure)
            for name, figure in round_parts.items():
                parts.setdefault(name, []).append(figure)
            print(f"round {r + 1} done ({load()})", file=sys.stderr)
        report(prep, totals, parts, scratch)
    finally:
        gc.unfreeze()
        shutil.rmtree(scratch, ignore_errors=True)
