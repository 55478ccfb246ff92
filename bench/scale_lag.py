"""bench_scale's processes: each step a child process that reports its own peak RSS and
CPU time as it exits, the paced writers, and the follower-lag run (an observer polling
projections.db's tracking row every millisecond). Run through bench/bench_scale.py."""

from __future__ import annotations

import atexit
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

BENCH_SCALE = Path(__file__).resolve().with_name("bench_scale.py")
OUT = BENCH_SCALE.parent / "out" / "scale"
PEAK_FILE_ENV = "BENCH_SCALE_PEAK_FILE"  # where a child writes its VmHWM (MB) as it exits
POLL = 0.001  # seconds between the lag observer's reads of the tracking row
PROJECT = ("ledger", "projections", "govledger")  # the packages PhaseSampler attributes memory to


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


class Child:
    """One measured process: this script again with --child (the govledger command itself
    with `--child cli`), writing its own VmHWM to a file as it exits."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.peak_file = OUT / f"peak-{args[0]}-{time.monotonic_ns()}"
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH_SCALE), "--child", *args],
            env={**env, PEAK_FILE_ENV: str(self.peak_file)},
            stdout=subprocess.PIPE,
            text=True,
        )
        self.cpu = float("nan")
        self.phases = ""  # PhaseSampler's summary: peak RSS per function of the project
        self.stdout: IO[str] = self.process.stdout  # type: ignore[assignment]

    def finish(self) -> tuple[int, float, float]:
        """Wait for it: (exit status, wall seconds, peak RSS in MB)."""
        status = self.process.wait()
        wall = time.perf_counter() - self.started
        written = self.peak_file.read_text().split() if self.peak_file.exists() else ["nan", "nan"]
        peak, self.cpu = float(written[0]), float(written[1])  # MB, CPU seconds
        phases = Path(f"{self.peak_file}.phases")
        self.phases = phases.read_text() if phases.exists() else ""
        return status, wall, peak


def run_measured(args: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """Run a child to its end: (stdout, wall seconds, peak RSS in MB). Prints where its
    memory went (PhaseSampler)."""
    child = Child(args, env)
    out = child.stdout.read()
    status, wall, peak = child.finish()
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed with exit status {status}:\n{out}")
    print(f"         RSS by function ({' '.join(args)}): {child.phases}")
    return out, wall, peak


def record_peak_at_exit() -> None:
    """Write this process's VmHWM (MB) and CPU seconds to $BENCH_SCALE_PEAK_FILE as it exits,
    and beside it (.phases) the peak RSS seen in each of the project's functions."""
    path = os.environ.get(PEAK_FILE_ENV)
    if path:
        phases = PhaseSampler()
        phases.start()
        atexit.register(lambda: Path(path).write_text(f"{own_peak_mb():.1f} {time.process_time():.3f}"))
        atexit.register(lambda: Path(f"{path}.phases").write_text(phases.summary()))


def own_peak_mb(field: str = "VmHWM") -> float:
    """This process's VmHWM (or another /proc status field, VmRSS) in MB (Linux)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split(f"{field}:")[1].split()[0]) / 1024


class PhaseSampler(threading.Thread):
    """Where the memory goes: twice a second, the RSS and the innermost function of the
    project (ledger/, projections/, govledger/) the main thread is in; per function, the
    largest RSS seen there. Costs nothing measurable, so every measured child runs it."""

    PACKAGES = tuple(str(BENCH_SCALE.parent.parent / package) + os.sep for package in PROJECT)

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.main = threading.main_thread().ident
        self.peaks: dict[str, tuple[float, float, int]] = {}  # function -> (MB, first seen s, samples)
        self.started = time.monotonic()

    def run(self) -> None:
        while True:
            frame = sys._current_frames().get(self.main)  # type: ignore[arg-type]
            while frame is not None and not frame.f_code.co_filename.startswith(self.PACKAGES):
                frame = frame.f_back
            if frame is not None:
                code = frame.f_code
                where = f"{Path(code.co_filename).stem}.{code.co_name}"
                mb, first, samples = self.peaks.get(where, (0.0, time.monotonic() - self.started, 0))
                self.peaks[where] = (max(mb, own_peak_mb("VmRSS")), first, samples + 1)
            time.sleep(0.5)

    def summary(self, top: int = 6) -> str:
        largest = sorted(self.peaks.items(), key=lambda kv: (-kv[1][0], -kv[1][2]))[:top]  # MB, then time
        return "; ".join(
            f"{where} {mb:.0f} MB (from {first:.0f} s, {n} samples)" for where, (mb, first, n) in largest
        )


# --- the lag run ----------------------------------------------------------------------------


def child_pace(events: int, rate: float, duration: float, writers: int, index: int, start_at: float) -> None:
    """Writer `index` of `writers` sharing one schedule of `rate` writes/s for `duration`
    seconds from `start_at` (CLOCK_MONOTONIC), one record_status command a write. Prints
    "position commit_time" for each, then its totals as JSON. The position is the log's
    head just after the commit: another writer's later event can make it a little high,
    so a lag measured from it errs long, never short."""
    from ledger.application import open_ledger

    ledger = open_ledger()
    # The generator's programmes (bench_projections.generate: one per 20,000 events).
    programmes = [f"programme-{p:03d}" for p in range(max(1, events // 20_000))]
    refs = [f"A{a}.{pr}.{n}" for a in range(1, 4) for pr in range(1, 8) for n in range(1, 6)][:100]
    count = int(rate * duration)
    late, started = 0.0, start_at
    for i in range(index, count, writers):
        due = started + i / rate
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        else:
            late = max(late, now - due)
        # A new period for each item, so each write is an ordinary first rating.
        programme, ref = programmes[i % len(programmes)], refs[(i // len(programmes)) % len(refs)]
        quarter = i // (len(programmes) * len(refs))
        year = 2100 + quarter // 4
        period = f"{year}/{(year + 1) % 100:02d} Q{quarter % 4 + 1}"
        ledger.record_status(
            programme,
            ref,
            period=period,
            status="Amber",
            update="Paced write.",
            mitigation="In hand.",
            actor="bench",
        )
        committed = time.monotonic()
        print(ledger.get_log_position(), committed, flush=True)
    elapsed = time.monotonic() - started
    ledger.close()
    print(json.dumps({"seconds": elapsed, "late_max": late}), flush=True)


# --- the lag run ----------------------------------------------------------------------------


class Observer(threading.Thread):
    """Polls projections.db's tracking row; keeps (time first seen, position) per change."""

    def __init__(self, projections_db: Path) -> None:
        super().__init__(daemon=True)
        self.conn = sqlite3.connect(f"file:{projections_db}?mode=ro", uri=True, check_same_thread=False)
        self.seen: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        last = -1
        while not self.stop.is_set():
            (position,) = self.conn.execute("SELECT max(position) FROM projection_position").fetchone()
            if position != last:
                self.seen.append((time.monotonic(), position))
                last = position
            time.sleep(POLL)

    def reached(self, position: int) -> float | None:
        for at, seen in self.seen:
            if seen >= position:
                return at
        return None


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def lag_run(
    env: dict[str, str], data_dir: Path, events: int, rate: float, duration: float, writers: int
) -> dict[str, Any]:
    follower = Child(["cli", "project", "--follow"], env)
    print("  follower:", follower.stdout.readline().strip())
    observer = Observer(data_dir / "projections.db")
    observer.start()
    writes: list[tuple[int, float]] = []
    # Several writer processes (as several web workers), one schedule between them.
    start_at = time.monotonic() + 5  # time enough for each to import and connect
    pace = ["pace", "--events", str(events), "--rate", str(rate), "--duration", str(duration)]
    pace += ["--writers", str(writers), "--start-at", str(start_at)]
    children = [Child([*pace, "--index", str(index)], env) for index in range(writers)]
    totals: list[dict[str, Any]] = []
    lock = threading.Lock()

    def read(child: Child) -> None:
        for line in child.stdout:
            with lock:
                if line.startswith("{"):
                    totals.append(json.loads(line))
                else:
                    position, committed = line.split()
                    writes.append((int(position), float(committed)))

    readers = [threading.Thread(target=read, args=(child,), daemon=True) for child in children]
    for reader in readers:
        reader.start()
    from govledger.support import progress_bar

    with progress_bar("Paced writes") as progress:
        while any(reader.is_alive() for reader in readers):
            progress(len(writes), int(rate * duration))
            time.sleep(0.5)
    finished = [child.finish() for child in children]
    writer_status = max(status for status, _, _ in finished)
    writer_mb = max(peak for _, _, peak in finished)
    writer_cpu = sum(child.cpu for child in children)
    writes.sort()
    last = writes[-1][0] if writes else 0
    deadline = time.monotonic() + 30
    while observer.reached(last) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    observer.stop.set()
    observer.join()
    follower.process.send_signal(signal.SIGTERM)
    follower.stdout.read()
    follower_status, _, follower_mb = follower.finish()
    lags, missing = [], 0
    for position, committed in writes:
        at = observer.reached(position)
        if at is None:
            missing += 1
        else:
            lags.append(max(0.0, at - committed))
    return {
        "writes": len(writes),
        "rate": len(writes) / max(t["seconds"] for t in totals) if totals else 0.0,
        "late_max": max((t["late_max"] for t in totals), default=0.0),
        "writers": writers,
        "missing": missing,
        "p50": percentile(lags, 50),
        "p95": percentile(lags, 95),
        "p99": percentile(lags, 99),
        "max": max(lags),
        "mean": statistics.fmean(lags),
        "writer_mb": writer_mb,
        "follower_mb": follower_mb,
        "writer_status": writer_status,
        "follower_status": follower_status,
        # CPU ms a write (process start included): what 100 writes/s costs whatever the load.
        "writer_cpu_ms": writer_cpu / max(1, len(writes)) * 1000,
        "follower_cpu_ms": follower.cpu / max(1, len(writes)) * 1000,
    }
