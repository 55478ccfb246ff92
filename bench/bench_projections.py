"""Benchmark the projections: rebuild throughput beside a raw SQLite baseline, catch-up
after one command, and the time to read one programme's summary and exceptions with
10k and with 1M events of history.

    .venv/bin/python bench/bench_projections.py --events 100000
    .venv/bin/python bench/bench_projections.py --events 100000 --big-events 1000000

The baseline, in the same run: read the same number of rows from stored_events with raw
sqlite3 and `insert_all` them into a fresh table with sqlite-utils (one transaction).
Ledgers are generated with batched `ledger.save(*aggregates)` into bench/out/ (git
ignored); the big one is kept and reused across runs (delete it to regenerate).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlite_utils

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.application import Ledger, open_ledger  # noqa: E402
from ledger.config import projections_path  # noqa: E402
from ledger.domain import Indicator, Item, Narrative, Programme  # noqa: E402
from ledger.periods import Period  # noqa: E402
from ledger.scales import RAG  # noqa: E402
from ledger.store.events import event_page_reader  # noqa: E402
from projections.decoding import EventDecoder  # noqa: E402
from projections.projector import BUILD_PAGE_SIZE  # noqa: E402
from projections.queries import get_exceptions, get_periods, get_summary  # noqa: E402
from projections.scratch import discard  # noqa: E402
from projections.system import build_into_place, open_system  # noqa: E402

OUT = ROOT / "bench" / "out"
ACTIONS_PER_PROGRAMME = 100
SAVE_BATCH = 1000  # events per ledger.save
STATUSES = ["Green"] * 6 + ["Amber"] * 2 + ["Red", "Not yet due", "Complete", "To be added"]
WORDS = [
    *("delivery", "plan", "on", "track", "milestones", "partners", "funding", "review"),
    *("consultation", "housing", "schools", "transport", "budget", "recruitment"),
    *("agreed", "approved", "delayed", "procurement"),
]


def _text(rng: random.Random, words: int) -> str:
    # rng.choice(WORDS) inlined (CPython's _randbelow: getrandbits of n's bit length until
    # below n), so the same words come out at under half the cost; generate's hottest line.
    getrandbits, count, bits = rng.getrandbits, len(WORDS), len(WORDS).bit_length()
    drawn = []
    for _ in range(words):
        index = getrandbits(bits)
        while index >= count:
            index = getrandbits(bits)
        drawn.append(WORDS[index])
    return " ".join(drawn).capitalize() + "."


def generate(ledger: Ledger, events: int, *, seed: int = 1) -> int:
    """Write about `events` events of realistic history: programmes of 100 actions under
    priorities and aims, rated every period with updates (mitigation for Amber/Red),
    some corrections, indicator values and narrative sections. Returns events written.

    Memory stays flat however many events: once a period is done its ratings and values are
    let go (no later command reads them: a rating or correction consults only its own
    period), so the 10,000 items of a 2M-event log no longer carry every period's rating."""
    rng = random.Random(seed)
    programmes = max(1, events // 20_000)
    pending: dict[int, Any] = {}  # id() -> aggregate with unsaved events, in first-touched order
    written = 0

    def flush(force: bool = False) -> None:
        nonlocal written
        count = sum(len(a.pending_events) for a in pending.values())
        if count and (force or count >= SAVE_BATCH):
            ledger.save(*pending.values())
            written += count
            pending.clear()

    def touch(aggregate: Any) -> None:
        pending.setdefault(id(aggregate), aggregate)

    estate: list[tuple[Programme, list[Item], list[Indicator]]] = []
    for p in range(programmes):
        programme = Programme.register(
            slug=f"programme-{p:03d}",
            name=f"Programme {p}",
            cadence="quarterly",
            scale=RAG,
            requires_mitigation=True,
            description="",
            contact={},
            actor="bench",
        )
        touch(programme)
        items: list[Item] = []
        for a in range(1, 4):
            aim = Item.register(
                programme=programme,
                ref=f"AIM{a}",
                kind="aim",
                title=f"Aim {a}",
                parent_ref="",
                lead_officer="",
                committee="",
                actor="bench",
            )
            touch(aim)
            for pr in range(1, 8):
                priority = Item.register(
                    programme=programme,
                    ref=f"P{a}.{pr}",
                    kind="priority",
                    title=f"Priority {a}.{pr}",
                    parent_ref=aim.ref,
                    lead_officer="",
                    committee="",
                    actor="bench",
                )
                touch(priority)
                for n in range(1, 6):
                    if len(items) < ACTIONS_PER_PROGRAMME:
                        action = Item.register(
                            programme=programme,
                            ref=f"A{a}.{pr}.{n}",
                            kind="action",
                            title=f"Action {a}.{pr}.{n}",
                            parent_ref=priority.ref,
                            lead_officer=f"Officer {rng.randrange(20)}",
                            committee=rng.choice(["CPC", "E+C", "E+G", "C+F", "A+H"]),
                            actor="bench",
                        )
                        touch(action)
                        items.append(action)
        indicators = []
        for ref, better in (("FTE", "neither"), ("VAC", "lower"), ("BUD", "lower")):
            indicator = Indicator.define(programme, ref=ref, name=ref, unit="", better=better, actor="bench")
            touch(indicator)
            indicators.append(indicator)
        estate.append((programme, items, indicators))
        flush()

    period = Period.parse("2000/01 Q1", "quarterly")
    while written + sum(len(a.pending_events) for a in pending.values()) < events:
        label = period.label
        for _, items, indicators in estate:
            forget_earlier_periods(items, indicators)
        for programme, items, indicators in estate:
            for item in items:
                status = rng.choice(STATUSES)
                mitigation = _text(rng, 8) if status in ("Amber", "Red") else ""
                item.record_status(
                    programme,
                    period=label,
                    status=status,
                    update=_text(rng, 20),
                    mitigation=mitigation,
                    actor=f"officer{rng.randrange(50)}",
                )
                if rng.random() < 0.03:
                    item.correct_status(
                        programme,
                        period=label,
                        status="Green",
                        update=_text(rng, 12),
                        mitigation="",
                        actor="officer",
                        reason="Corrected after review",
                    )
                touch(item)
            for indicator in indicators:
                for breakdown in ("", "Place", "People"):
                    indicator.record_value(
                        programme,
                        period=label,
                        value=f"{rng.uniform(0, 3000):.2f}",
                        breakdown=breakdown,
                        actor="analyst",
                    )
                touch(indicator)
            narrative = Narrative(programme_id=programme.id, period=label, actor="manager", reason="")
            for section in ("achievements", "challenges"):
                narrative.write(section=section, text=_text(rng, 40), actor="manager")
            touch(narrative)
            flush()
        period = period.next()
    flush(force=True)
    return written


def forget_earlier_periods(items: list[Item], indicators: list[Indicator]) -> None:
    """Drop the generator's copies of earlier periods' ratings and values: the events
    hold them, and `generate` only ever rates, corrects or records the current period."""
    for item in items:
        item.ratings.clear()
    for indicator in indicators:
        indicator.values.clear()


def ledger_with_history(directory: Path, events: int, *, keep: bool) -> tuple[Path, float | None]:
    """A data directory holding about `events` events; reused if `keep` and present."""
    marker = directory / "GENERATED"
    if keep and marker.exists() and int(marker.read_text()) >= events:
        return directory, None
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    ledger = open_ledger(directory)
    try:
        started = time.perf_counter()
        written = generate(ledger, events)
        rate = written / (time.perf_counter() - started)
    finally:
        ledger.close()
    marker.write_text(str(written))
    return directory, rate


# The baseline's read: the first rows of the event store, in log order.
READ_STORED = (
    "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid LIMIT ?"
)


def raw_baseline(events_db: Path, rows: int, scratch: Path) -> tuple[float, float]:
    """rows/s (wall, CPU): read `rows` stored events with raw sqlite3 and insert_all them
    into a new table with sqlite-utils, in one transaction."""
    scratch.unlink(missing_ok=True)
    started, cpu = time.perf_counter(), time.process_time()
    source = sqlite3.connect(str(events_db))
    target = sqlite_utils.Database(str(scratch))
    target.execute("PRAGMA journal_mode=WAL")
    cursor = source.execute(READ_STORED, (rows,))
    copied = 0
    with target.atomic():
        while page := cursor.fetchmany(1000):
            insert_stored(target, page)
            copied += len(page)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    source.close()
    target.close()
    scratch.unlink(missing_ok=True)
    return copied / elapsed, copied / cpu


def insert_stored(target: sqlite_utils.Database, page: list[Any]) -> None:
    """The baseline's write: stored rows (position, originator id, version, topic, state)
    into the "copy" table with `insert_all`. PostgreSQL gives the id as a UUID, stored as
    its text (SQLite's is text already)."""
    target["copy"].insert_all(
        (
            {
                "position": r[0],
                "originator_id": str(r[1]) if isinstance(r[1], UUID) else r[1],
                "originator_version": r[2],
                "topic": r[3],
                "state": r[4],
            }
            for r in page
        ),
        pk="position",
    )


def pull_and_decode(ledger: Ledger) -> float:
    """events/s: only pulling the log through eventsourcing's API (select_notifications)
    and decoding each event with its mapper, nothing else."""
    started = time.perf_counter()
    position, count = 0, 0
    while notifications := ledger.recorder.select_notifications(
        start=position, limit=1000, inclusive_of_start=False
    ):
        for notification in notifications:
            ledger.mapper.to_domain_event(notification)
        position, count = notifications[-1].id, count + len(notifications)
    return count / (time.perf_counter() - started)


def fast_pull_and_decode(ledger: Ledger) -> float:
    """events/s: the projector's own pull and decode (ledger.store.events, a page per
    query, and projections.decoding), nothing else: the floor under its replay."""
    read, decode = event_page_reader(ledger.recorder), EventDecoder(ledger.mapper)
    started = time.perf_counter()
    position, count = 0, 0
    while rows := read(position, BUILD_PAGE_SIZE, None):
        for row in rows:
            decode(row)
        position, count = rows[-1][0], count + len(rows)
    return count / (time.perf_counter() - started)


def timed(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds over `repeat` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def summary_read_time(db: Path) -> tuple[float, int]:
    """Median seconds to read one programme's current summary + exceptions."""
    programme = "programme-000"
    latest = get_periods(db, programme)[-1]["period"]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)

    def read() -> None:
        get_summary(conn, programme, latest)
        get_exceptions(conn, programme, latest)

    read()  # warm the page cache: we measure the query, not the disk
    seconds = timed(read, 200)
    exceptions = len(get_exceptions(conn, programme, latest))
    conn.close()
    return seconds, exceptions


def measure(directory: Path, label: str, repeat: int) -> dict[str, Any]:
    events_db = directory / "events.db"
    with sqlite3.connect(str(events_db)) as conn:
        total = conn.execute("SELECT count(*) FROM stored_events").fetchone()[0]
    conn.close()
    # Baseline and rebuild alternate, best of `repeat` each: the machine is shared and
    # noisy, and the best run is the one least disturbed by other work.
    baseline = baseline_cpu = rebuild_rate = rebuild_cpu = floor = fast_floor = 0.0
    rebuild_seconds = float("inf")
    for _ in range(repeat):
        wall, cpu = raw_baseline(events_db, total, OUT / "baseline.db")
        baseline, baseline_cpu = max(baseline, wall), max(baseline_cpu, cpu)
        ledger = open_ledger(directory)
        try:
            floor = max(floor, pull_and_decode(ledger))
            fast_floor = max(fast_floor, fast_pull_and_decode(ledger))
            started, cpu_started = time.perf_counter(), time.process_time()
            applied = build_into_place(ledger, projections_path(directory))
            seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        finally:
            ledger.close()
        rebuild_seconds = min(rebuild_seconds, seconds)
        rebuild_rate = max(rebuild_rate, applied / seconds)
        rebuild_cpu = max(rebuild_cpu, applied / cpu_seconds)

    # Catch-up after one command: the read-your-own-write path through open_system.
    system = open_system(directory)
    try:
        catch_up_times: list[float] = []
        command_times: list[float] = []
        projector_catch_up = system.projector.catch_up

        def timed_catch_up(*args: Any, **kwargs: Any) -> int:
            started = time.perf_counter()
            result = projector_catch_up(*args, **kwargs)
            catch_up_times.append(time.perf_counter() - started)
            return result

        system.projector.catch_up = timed_catch_up  # type: ignore[method-assign]
        period = get_periods(system.projections_db, "programme-000")[-1]["period"]
        for n in range(21):
            command_started = time.perf_counter()
            system.ledger.record_status(
                "programme-000",
                "A1.1.1",
                period=period,
                status="Red" if n % 2 else "Amber",
                update=f"Bench: slipped ({n})",
                mitigation="Recovery plan",
                actor="bench",
                reason="Bench re-rating",
            )
            command_times.append(time.perf_counter() - command_started)
    finally:
        system.close()
    read_seconds, exceptions = summary_read_time(projections_path(directory))
    alone_seconds, peak_rss_mb = rebuild_peak_rss(directory)
    return {
        "alone_seconds": alone_seconds,
        "peak_rss_mb": peak_rss_mb,
        "label": label,
        "events": total,
        "baseline_rate": baseline,
        "baseline_cpu": baseline_cpu,
        "rebuild_cpu": rebuild_cpu,
        "cpu_ratio": rebuild_cpu / baseline_cpu,
        "floor_rate": floor,
        "fast_floor_rate": fast_floor,
        "rebuild_rate": rebuild_rate,
        "rebuild_seconds": rebuild_seconds,
        "ratio": rebuild_rate / baseline,
        "catch_up_ms": statistics.median(catch_up_times) * 1000,
        "command_ms": statistics.median(command_times) * 1000,
        "read_ms": read_seconds * 1000,
        "exceptions": exceptions,
        "size_mb": projections_path(directory).stat().st_size / 1e6,
        "bytes_per_event": projections_path(directory).stat().st_size / total,
    }


def breakdown(directory: Path) -> dict[str, float]:
    """CPU microseconds per event spent in each part of one build into a new file."""
    import projections.projector as projector_module
    import projections.system as system_module

    spent: dict[str, float] = dict.fromkeys(
        (
            *("pull", "decode", "handlers", "status rows", "writes", "commit", "chain heads"),
            *("ratings at end", "indexes at end"),
        ),
        0.0,
    )
    originals: list[tuple[Any, str, Any]] = []

    def timing(owner: Any, name: str, part: str) -> None:
        original = getattr(owner, name)
        originals.append((owner, name, original))

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[part] += time.process_time() - started

        setattr(owner, name, timed)

    def timing_made(owner: Any, name: str, part: str) -> None:
        """Time the calls of the functions `owner.name(...)` makes (the page readers)."""
        original = getattr(owner, name)
        originals.append((owner, name, original))

        def make(*args: Any, **kwargs: Any) -> Any:
            made = original(*args, **kwargs)

            def timed(*args: Any, **kwargs: Any) -> Any:
                started = time.process_time()
                try:
                    return made(*args, **kwargs)
                finally:
                    spent[part] += time.process_time() - started

            return timed

        setattr(owner, name, make)

    def timing_appliers(part: str) -> None:
        """Time the status rows a build applies from their stored fields (RatingsAtEnd.appliers)."""
        owner, name = system_module.RatingsAtEnd, "appliers"
        original = getattr(owner, name)
        originals.append((owner, name, original))

        def appliers(self: Any, mapper: Any) -> dict[str, Any]:
            def timed(apply: Callable[..., Any]) -> Callable[..., Any]:
                def run(*args: Any) -> Any:
                    started = time.process_time()
                    try:
                        return apply(*args)
                    finally:
                        spent[part] += time.process_time() - started

                return run

            return {topic: timed(apply) for topic, apply in original(self, mapper).items()}

        setattr(owner, name, appliers)

    ledger = open_ledger(directory)
    target = OUT / "breakdown.db"
    discard(target)
    try:
        timing_made(projector_module, "event_page_reader", "pull")
        timing(projector_module.EventDecoder, "__call__", "decode")
        timing(projector_module.Projector, "_apply", "handlers")
        timing(projector_module.State, "flush", "writes")
        timing(projector_module.State, "commit", "commit")
        timing_made(projector_module, "_chain_heads", "chain heads")
        timing(system_module, "finish_bulk_load", "indexes at end")
        timing(system_module.RatingsAtEnd, "finish", "ratings at end")
        timing_appliers("status rows")
        started = time.process_time()
        events = system_module.build(ledger, target, ratings_at_end=True)
        total = time.process_time() - started
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)
        ledger.close()
        discard(target)
    per_event = {part: seconds / events * 1e6 for part, seconds in spent.items()}
    per_event["other"] = total / events * 1e6 - sum(per_event.values())
    per_event["total"] = total / events * 1e6
    return per_event


def rebuild_peak_rss(directory: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `govledger rebuild`'s work (projections.system.rebuild)
    in a process of its own, so nothing else this benchmark holds counts in its peak."""
    script = (
        "import re, sys, time; sys.path.insert(0, sys.argv[1])\n"
        "from projections.system import rebuild\n"
        "started = time.perf_counter(); rebuild(sys.argv[2]); seconds = time.perf_counter() - started\n"
        "status = open('/proc/self/status').read()\n"
        "print(seconds, int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) / 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT), str(directory)], capture_output=True, text=True, check=True
    )
    seconds, megabytes = done.stdout.split()
    return float(seconds), float(megabytes)


def report(result: dict[str, Any]) -> None:
    print(f"\n== {result['label']}: {result['events']:,} events (best of the runs; wall clock, CPU time)")
    print(
        f"  raw baseline (read + insert_all)  {result['baseline_rate']:>9,.0f} rows/s    "
        f"CPU {result['baseline_cpu']:>9,.0f} rows/s"
    )
    print(f"  eventsourcing pull + decode only  {result['floor_rate']:>9,.0f} events/s")
    print(f"  projector's pull + decode only    {result['fast_floor_rate']:>9,.0f} events/s")
    print(
        f"  rebuild in place                  {result['rebuild_rate']:>9,.0f} events/s  "
        f"CPU {result['rebuild_cpu']:>9,.0f} events/s  ({result['rebuild_seconds']:.1f} s)"
    )
    print(
        f"  rebuild / baseline                {result['ratio']:>9.0%}           "
        f"CPU {result['cpu_ratio']:>9.0%}"
    )
    print(
        f"  catch-up after one command        {result['catch_up_ms']:>9.2f} ms median of 21 "
        f"(whole command incl. save {result['command_ms']:.2f} ms)"
    )
    print(
        f"  summary + exceptions read         {result['read_ms']:>9.3f} ms median of 200 "
        f"({result['exceptions']} exceptions)"
    )
    print(
        f"  rebuild in its own process        {result['alone_seconds']:>9.1f} s, "
        f"peak RSS (VmHWM) {result['peak_rss_mb']:,.0f} MB"
    )
    print(
        f"  projections.db                    {result['size_mb']:>9.1f} MB "
        f"({result['bytes_per_event']:,.0f} bytes per event)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=100_000, help="events in the main run (default 100,000)"
    )
    parser.add_argument("--small-events", type=int, default=10_000, help="history for the small read figure")
    parser.add_argument(
        "--big-events",
        type=int,
        default=0,
        help="also measure with this much history (e.g. 1000000); kept in bench/out/",
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of this many rebuilds and baselines")
    parser.add_argument("--breakdown", action="store_true", help="also time each part of a build (main run)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"bench_projections {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs"
    )

    results = []
    for label, events, keep in (
        ("small", args.small_events, False),
        ("main", args.events, False),
        *([("big", args.big_events, True)] if args.big_events else []),
    ):
        directory, write_rate = ledger_with_history(OUT / f"ledger-{label}", events, keep=keep)
        if write_rate:
            print(f"(generated {label} ledger at {write_rate:,.0f} events/s with batched save)")
        load_before = os.getloadavg()[0]
        result = measure(directory, label, 1 if label == "big" else args.repeat)
        report(result)
        print(f"  load average {load_before:.2f} -> {os.getloadavg()[0]:.2f} during this size")
        results.append(result)
        if args.breakdown and label == "main":
            parts = breakdown(directory)
            print("  CPU per event in one build: " + ", ".join(f"{k} {v:.1f} µs" for k, v in parts.items()))
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)

    small = results[0]
    print("\n== targets (issue 14)")
    for run in results[1:]:
        rate, ratio = run["rebuild_rate"], run["ratio"]
        print(
            f"  {run['events']:>9,} events: rebuild >= 50,000 events/s: {rate:,.0f} "
            f"{'ok' if rate >= 50_000 else 'MISSED'}; >= 50% of baseline (wall): {ratio:.0%} "
            f"{'ok' if ratio >= 0.5 else 'MISSED'}"
        )
    if args.big_events:
        big = results[-1]
        factor = big["read_ms"] / small["read_ms"]
        print(
            f"  summary read at {big['events']:,} within 1.5x of {small['events']:,}: "
            f"{big['read_ms']:.3f} ms vs {small['read_ms']:.3f} ms = {factor:.2f}x "
            f"{'ok' if factor <= 1.5 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
