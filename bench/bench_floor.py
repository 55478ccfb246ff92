"""Floors: the least eventsourcing 9.5.6 lets an import and an update cost (issue 14 items 5, 6).

    python bench/bench_floor.py                       # both floors, 3 import rounds, 10 update rounds
    python bench/bench_floor.py --rows 50000 --rounds 3 --updates 300 [--no-ours]
    python bench/bench_floor.py --only rebuild --events 100000 [--ledger DIR]  # bench_floor_rebuild

The product must keep eventsourcing as its event store, so before cutting more of our own
code this settles whether the targets (an import >= 10% of raw `executemany`, one update
>= 50% of a raw one-row transaction) are reachable with it at all. Everything runs in ONE
process, the parts taking turns within each round, with CPU (`time.process_time`) and wall
time and the load average beside them:

- import floor: raw sqlite3 `executemany` of bench_import's 50,000 rows (its own baseline,
  one transaction, WAL, synchronous=FULL) against a minimal eventsourcing `Aggregate` with
  one event class carrying a status rating's fields (text): one aggregate created per item
  and programme row, one event triggered per status row (50,000 events on 5,001
  aggregates), saved in ONE `Application.save` through eventsourcing's own SQLite recorder
  (`PERSISTENCE_MODULE=eventsourcing.sqlite`, a file, WAL, the library's synchronous: FULL,
  as ours). No chain, no Merkle tree, no projections, no checks. Broken down on another
  fresh file: triggering alone, the mapper's `to_stored_event` alone, the recorder's
  `insert_events` alone. Also the save as `events.put` of the collected events
  (ledger.application.lean.save_pending: what `Application.save` does, without its two
  runtime Protocol checks per aggregate). Then our import (`import_file`), unless --no-ours.
- update floor: raw BEGIN/INSERT/COMMIT of one row (bench_update's baseline, the event
  store's synchronous) against eventsourcing's minimum for one event on an aggregate of
  --history events: (a) the aggregate held in hand, trigger, `Application.save`; (b) the
  same after `repository.get` from the library's own cache (AGGREGATE_CACHE_MAXSIZE, fast-
  forwarded by one read, no deep copy), so no replay; (c) as (a), saved by `events.put`
  (lean.save_pending). Then our own update (bench_update's path: `save_update`, the
  projector's catch-up, `get_review`).
- replay: one aggregate of 180 events (an item of the 1M ledger's shape) rebuilt from its
  decoded events by eventsourcing's `project_aggregate` and by `lean.replay`, beside
  decoding them.

- rebuild (only with --only rebuild; bench/bench_floor_rebuild.py): the SQL a rebuild's
  file costs with no Python per event, beside the rebuild's raw baseline and our rebuild.

Scratch files go in bench/out/ and are removed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from uuid import UUID

from bench_import import generate, raw_insert_timed, timed_import
from bench_update import (
    STATUSES,
    UPDATE_TEXT,
    Timings,
    event_store_synchronous,
    officer_update,
    quarter,
    raw_connection,
    seed,
)
from bench_update import raw_insert as raw_commit
from eventsourcing.application import Application, project_aggregate
from eventsourcing.domain import Aggregate, event

from ledger.application.lean import replay, save_pending
from projections.system import open_system


class Rated(Aggregate):
    """The least an item can be: a ref, and one event class with a rating's text fields."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.status = ""

    @event("StatusRecorded")
    def record(self, period: str, status: str, update: str, mitigation: str, actor: str, reason: str) -> None:
        self.status = status


class Floor(Application[UUID]):
    """eventsourcing's Application as it comes: its SQLite recorder, nothing of ours."""


def floor_app(db: Path, **env: str) -> Floor:
    return Floor(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db), **env})


def synchronous(app: Application[Any]) -> int:
    with app.recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
        c.execute("PRAGMA synchronous")
        return int(c.fetchone()[0])


def clocked(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall s, CPU s, result) of fn()."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def load() -> str:
    return "load " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def trigger(rows: list[tuple[str, ...]]) -> list[Rated]:
    """One aggregate per programme and item row, one event per status row: as many events
    as rows, in the file's order."""
    aggregates: dict[str, Rated] = {}
    for kind, programme, *rest in rows:
        if kind == "programmes":
            aggregates[programme] = Rated(programme)
        elif kind == "items":
            aggregates[rest[0]] = Rated(rest[0])
        else:
            ref, period, status, update, mitigation, reason = rest[:6]
            aggregates[ref].record(period, status, update, mitigation, "bench", reason)
    return list(aggregates.values())


def import_round(
    scratch: Path, source: Path, rows: list[tuple[str, ...]], ours: bool
) -> dict[str, tuple[float, float]]:
    """One round: raw, then the floor, then its parts, then ours; each on a fresh file."""
    figures: dict[str, tuple[float, float]] = {}
    figures["raw executemany"] = raw_insert_timed(scratch / "raw.db", rows)
    app = floor_app(scratch / "floor.db")
    wall, cpu, _ = clocked(lambda: app.save(*trigger(rows)))
    figures["eventsourcing: trigger + one save"] = (wall, cpu)
    app.close()
    lean = floor_app(scratch / "lean.db")
    wall, cpu, _ = clocked(lambda: save_pending(lean, trigger(rows)))
    figures["eventsourcing: trigger + events.put (no Protocol checks)"] = (wall, cpu)
    lean.close()
    parts = floor_app(scratch / "parts.db")
    wall, cpu, aggregates = clocked(lambda: trigger(rows))
    figures["  of which trigger (no save)"] = (wall, cpu)
    events = [e for a in aggregates for e in a.collect_events()]
    wall, cpu, stored = clocked(lambda: [parts.mapper.to_stored_event(e) for e in events])
    figures["  of which mapper.to_stored_event"] = (wall, cpu)
    wall, cpu, _ = clocked(lambda: parts.recorder.insert_events(stored))
    figures["  of which recorder.insert_events"] = (wall, cpu)
    parts.close()
    if ours:
        wall, cpu, _ = clocked(lambda: timed_import(scratch / "ours", source))
        figures["ours: import_file"] = (wall, cpu)
    for name in ("raw.db", "floor.db", "lean.db", "parts.db", "ours"):
        shutil.rmtree(scratch / name, ignore_errors=True)
        for suffix in ("", "-wal", "-shm"):
            (scratch / f"{name}{suffix}").unlink(missing_ok=True)
    return figures


def import_floor(scratch: Path, n: int, rounds: int, ours: bool) -> None:
    rows = generate(scratch / "in", n)
    synced = floor_app(scratch / "sync.db")
    print(f"## Import floor: {len(rows):,} rows / events, {rounds} rounds, eventsourcing's SQLite "
          f"synchronous={synchronous(synced)} (raw: FULL = 2)")
    synced.close()
    table: dict[str, list[tuple[float, float]]] = {}
    for r in range(rounds):
        for name, figure in import_round(scratch, scratch / "in", rows, ours).items():
            table.setdefault(name, []).append(figure)
        print(f"round {r + 1} done ({load()})", file=sys.stderr)
    raw_wall = [w for w, _ in table["raw executemany"]]
    raw_cpu = [c for _, c in table["raw executemany"]]
    print(f"\n| {len(rows):,} rows, per round | wall (s) | CPU (s) | events/s (wall) | raw / this, wall | "
          "raw / this, CPU |\n|---|---:|---:|---:|---:|---:|")
    for name, figures in table.items():
        walls = " / ".join(f"{w:.3f}" for w, _ in figures)
        cpus = " / ".join(f"{c:.3f}" for _, c in figures)
        rates = " / ".join(f"{len(rows) / w:,.0f}" for w, _ in figures)
        wall_ratio = " / ".join(f"{rw / w:.1%}" for rw, (w, _) in zip(raw_wall, figures, strict=True))
        cpu_ratio = " / ".join(f"{rc / c:.1%}" for rc, (_, c) in zip(raw_cpu, figures, strict=True))
        print(f"| {name} | {walls} | {cpus} | {rates} | {wall_ratio} | {cpu_ratio} |")
    print(f"({load()})\n")


def update_floor(scratch: Path, items: int, history: int, updates: int, ours: bool) -> None:
    rounds = 10
    per_round = -(-updates // rounds)
    held_app = floor_app(scratch / "held.db")
    cached_app = floor_app(
        scratch / "cached.db", AGGREGATE_CACHE_MAXSIZE="1000", DEEPCOPY_FROM_AGGREGATE_CACHE="n"
    )

    def seeded(app: Floor) -> list[Rated]:
        aggregates = [Rated(f"A{i}") for i in range(items)]
        for a in aggregates:
            for n in range(history):
                status = STATUSES[n % len(STATUSES)]
                mitigation = "Plan agreed." if status != "Green" else ""
                a.record(quarter(n), status, UPDATE_TEXT, mitigation, "bench", "")
        app.save(*aggregates)
        return aggregates

    held = seeded(held_app)
    es_sync = synchronous(held_app)
    cached_ids = [a.id for a in seeded(cached_app)]
    for aggregate_id in cached_ids:
        cached_app.repository.get(aggregate_id)  # into the library's cache: no replay below
    system = open_system(scratch / "ours") if ours else None
    versions = seed(system, items, history) if system else {}
    sync = event_store_synchronous(system) if system else synchronous(held_app)
    raw = raw_connection(scratch / "raw-update.db", sync)
    state = os.urandom(400)  # about a status event's stored size, as bench_update
    timings = {name: Timings() for name in ("raw", "held", "lean", "cached", "ours")}

    def record(a: Rated, n: int) -> None:
        status = STATUSES[n % len(STATUSES)]
        a.record(quarter(history), status, f"Bench update {n}. {UPDATE_TEXT}",
                 "Recovery plan agreed." if status != "Green" else "", "officer", "Re-rated after review.")

    def lean_update(n: int) -> None:
        record(held[n % items], n)
        save_pending(held_app, [held[n % items]])

    def cached_update(n: int) -> None:
        a = cached_app.repository.get(cached_ids[n % items])
        record(a, n)
        cached_app.save(a)

    def our_update(n: int) -> None:
        assert system is not None
        ref = f"A{n % items}"
        officer_update(system, ref, n, history, versions[ref])
        versions[ref] += 1

    n = 0
    try:
        for _ in range(rounds):
            for k in range(per_round):
                i = n + k
                timings["raw"].add(lambda i=i: raw_commit(raw, i, state))
                timings["held"].add(lambda i=i: (record(held[i % items], i), held_app.save(held[i % items])))
                timings["lean"].add(lambda i=i: lean_update(i))
                timings["cached"].add(lambda i=i: cached_update(i))
                if system is not None:
                    timings["ours"].add(lambda i=i: our_update(i))
            n += per_round
    finally:
        raw.close()
        held_app.close()
        cached_app.close()
        if system is not None:
            system.close()
    print(f"## Update floor: {items} aggregates x {history} earlier events, {n} updates of each kind "
          f"taking turns one by one in {rounds} rounds; synchronous={sync} for raw and ours, "
          f"{es_sync} for eventsourcing's own recorder\n")
    names = {
        "raw": "raw BEGIN/INSERT/COMMIT, one row",
        "held": "eventsourcing: aggregate in hand, trigger, save",
        "lean": "eventsourcing: in hand, trigger, events.put (no Protocol checks)",
        "cached": "eventsourcing: repository.get (cached), trigger, save",
        "ours": "ours: save_update + catch-up + get_review",
    }
    raw_t = timings["raw"]
    print("| per update | wall median (ms) | CPU median (ms) | raw / this, wall (totals) | "
          "raw / this, CPU (totals) |\n|---|---:|---:|---:|---:|")
    for key, t in timings.items():
        if not t.wall:
            continue
        wall, cpu = statistics.median(t.wall) * 1000, statistics.median(t.cpu) * 1000
        print(f"| {names[key]} | {wall:.3f} | {cpu:.3f} | "
              f"{sum(raw_t.wall) / sum(t.wall):.0%} | {sum(raw_t.cpu) / sum(t.cpu):.0%} |")
    print(f"({load()})")


def replay_floor(scratch: Path, history: int, repeat: int = 50) -> None:
    """One aggregate of `history` events loaded from its decoded events: eventsourcing's
    projector (a runtime Protocol check per event) against lean.replay, and decoding."""
    app = floor_app(scratch / "replay.db")
    aggregate = Rated("A1")
    for n in range(history - 1):
        aggregate.record(quarter(n), STATUSES[n % 3], UPDATE_TEXT, "", "bench", "")
    app.save(aggregate)
    stored = list(app.recorder.select_events(aggregate.id))
    events = [app.mapper.to_domain_event(s) for s in stored]
    ways: dict[str, Callable[[], object]] = {
        "decode the stored events (mapper)": lambda: [app.mapper.to_domain_event(s) for s in stored],
        "eventsourcing's project_aggregate": lambda: project_aggregate(None, events),
        "lean.replay": lambda: replay(None, events),
    }
    timings = {name: Timings() for name in ways}
    for _ in range(repeat):
        for name, way in ways.items():
            timings[name].add(way)
    app.close()
    print(f"\n## Replay: one aggregate of {len(events)} events, {repeat} loads each, taking turns\n")
    print("| per load | wall median (ms) | CPU median (ms) |\n|---|---:|---:|")
    for name, t in timings.items():
        print(f"| {name} | {statistics.median(t.wall) * 1000:.3f} | {statistics.median(t.cpu) * 1000:.3f} |")
    print(f"({load()})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3, help="import and rebuild rounds")
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--history", type=int, default=40, help="earlier events per aggregate")
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--no-ours", dest="ours", action="store_false", help="only raw and the floors")
    parser.add_argument("--events", type=int, default=100_000, help="rebuild: events in a generated ledger")
    parser.add_argument("--ledger", type=Path, help="rebuild: an existing data directory instead")
    parser.add_argument("--only", choices=("import", "update", "replay", "rebuild"), help="one floor only")
    args = parser.parse_args(argv)
    os.environ.pop("PERSISTENCE_MODULE", None)  # always SQLite
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="floor-", dir=out))
    print(f"# bench_floor {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}, eventsourcing {version('eventsourcing')}, "
          f"{os.cpu_count()} CPUs, {load()}\n")
    try:
        if args.only in (None, "import"):
            import_floor(scratch, args.rows, args.rounds, args.ours)
        if args.only in (None, "update"):
            update_floor(scratch, args.items, args.history, args.updates, args.ours)
        if args.only in (None, "replay"):
            replay_floor(scratch, 180)
        if args.only == "rebuild":  # a ledger of its own to generate: not in the default run
            from bench_floor_rebuild import rebuild_floor  # it imports this module's neighbours

            rebuild_floor(args.ledger, args.events, args.rounds, args.ours)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
