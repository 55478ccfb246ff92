"""Benchmark the web pages officers and auditors use most, at 10k and at ~1M events:
server time for the dashboard, an item's timeline (a typical item and the busiest) and
the status update POST, each beside the raw SQLite query it stands on.

    .venv/bin/python bench/bench_web.py --events 100000     # development
    .venv/bin/python bench/bench_web.py --events 1000000    # the issue's figure

Everything runs in one process through Flask's test client against the real app
(`web.create_app`) on real SQLite files, CSRF on, signed in as an officer assigned to
the programme. Server time is measured around the WSGI app (request in, whole body
out), so the test client's own work is not counted.

Baselines, in the same run, on a read-only connection to the same projections.db:
- dashboard: `SELECT status, count(*) FROM status_history WHERE programme AND period
  GROUP BY status` (the current rows of the period, counted);
- timeline: `SELECT * FROM audit_log WHERE programme AND subject_ref AND aggregate_kind
  ORDER BY position` (the item's events);
- update POST: one INSERT in its own transaction into a scratch table of projections.db
  with the projector's settings (WAL, synchronous=NORMAL), and, because the POST also
  commits the event store, one into a scratch file with the event store's
  synchronous=FULL.

Ledgers are generated with bench_projections.generate into bench/out/web-ledger-<N>
(kept and reused; delete to regenerate), and each run works on a fresh copy
(bench/out/web-run-<N>, removed afterwards unless --keep), so the POSTs never grow the
cached history.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_projections import ledger_with_history  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from ledger.config import projections_path  # noqa: E402
from projections import queries  # noqa: E402
from projections.system import System, open_system  # noqa: E402
from web import create_app  # noqa: E402
from web.accounts import create_account  # noqa: E402
from web.credentials import CredentialStore  # noqa: E402

OUT = ROOT / "bench" / "out"
PROGRAMME = "programme-000"  # the officer's programme: dashboard and POSTs
OFFICER = "bench-officer"
PASSWORD = "correct horse battery staple"
FAST_HASH = "pbkdf2:sha256:1000"  # sign-in is not what is measured
WARM_UP = 3  # requests per page before timing: template compile, page cache

Sample = tuple[float, float]  # (project seconds, baseline seconds), taken together


# ---------------------------------------------------------------- data


def prepared_ledger(events: int) -> Path:
    """A cached data directory of about `events` events with its projections.db built."""
    directory, rate = ledger_with_history(OUT / f"web-ledger-{events}", events, keep=True)
    if rate:
        print(f"(generated {events:,} events at {rate:,.0f} events/s)")
    if not projections_path(directory).exists():
        started = time.perf_counter()
        open_system(directory).close()  # builds projections.db from zero
        print(f"(built projections.db in {time.perf_counter() - started:.1f} s)")
    return directory


def working_copy(pristine: Path, events: int) -> Path:
    """A fresh copy to write to: the POSTs must not grow the cached history."""
    target = OUT / f"web-run-{events}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(pristine, target)
    return target


@dataclass
class Subjects:
    period: str
    timeline_programme: str
    typical: tuple[str, int]  # ref, events in its timeline
    busiest: tuple[str, str, int]  # programme, ref, events
    items: list[str] = field(default_factory=list)  # leaf items of PROGRAMME, for POSTs


def choose_subjects(db: Path) -> Subjects:
    """The pages to time: the officer's programme's latest period; a typical item (the
    median history) in another programme where there is one, so the POSTs don't touch
    it; and the item with the most events anywhere."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        period = conn.execute(
            "SELECT period FROM periods WHERE programme = ? ORDER BY period_start DESC LIMIT 1",
            (PROGRAMME,),
        ).fetchone()[0]
        programmes = [r[0] for r in conn.execute("SELECT programme FROM programmes ORDER BY programme")]
        other = next((p for p in programmes if p != PROGRAMME), PROGRAMME)
        counts = conn.execute(
            "SELECT programme, subject_ref, count(*) AS n FROM audit_log "
            "WHERE aggregate_kind = 'Item' GROUP BY programme, subject_ref ORDER BY n, subject_ref"
        ).fetchall()
        items = [
            r[0]
            for r in conn.execute(
                "SELECT ref FROM items WHERE programme = ? AND child_count = 0 ORDER BY sort_key",
                (PROGRAMME,),
            )
        ]
    in_other = [(ref, n) for p, ref, n in counts if p == other]
    typical = in_other[len(in_other) // 2]
    busiest = counts[-1]
    return Subjects(period, other, typical, (busiest[0], busiest[1], busiest[2]), items)


# ---------------------------------------------------------------- the app


class ServerTimer:
    """WSGI middleware: the time from the request entering the app to the last byte of
    the body, i.e. what a server would spend, without the test client's own work."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.last = 0.0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started = time.perf_counter()
        result = self.app(environ, start_response)
        try:
            body = list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self.last = time.perf_counter() - started
        return body


def make_app(system: System, data_dir: Path) -> tuple[Flask, ServerTimer]:
    credentials = CredentialStore(data_dir / "credentials.db", method=FAST_HASH)
    create_account(
        system.ledger, credentials, username=OFFICER, display_name="Bench Officer",
        role="officer", password=PASSWORD, actor="bench",
    )
    system.ledger.assign_programme(OFFICER, PROGRAMME, actor="bench")
    app = create_app(
        {
            "SECRET_KEY": "bench-secret",
            "DATA_DIR": data_dir,
            "WTF_CSRF_ENABLED": True,  # the real thing: every POST carries the token
            "SESSION_COOKIE_SECURE": False,  # the test client speaks http
            "PASSWORD_HASH_METHOD": FAST_HASH,
        },
        system=system,
    )
    timer = ServerTimer(app.wsgi_app)
    app.wsgi_app = timer  # type: ignore[method-assign]
    return app, timer


def hidden_value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0)) if tag else None
    if value is None:
        raise RuntimeError(f"No {name} field in the page")
    return value.group(1)


def sign_in(client: FlaskClient) -> None:
    token = hidden_value(client.get("/login").get_data(as_text=True), "csrf_token")
    response = client.post("/login", data={"username": OFFICER, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"Sign-in failed: {response.status_code}")


def get_page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code}")
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- measuring


@dataclass
class Figure:
    name: str
    project: list[float]
    baseline: list[float]
    baseline_name: str
    note: str = ""
    extra_baseline: list[float] = field(default_factory=list)
    extra_baseline_name: str = ""

    @staticmethod
    def p95(samples: list[float]) -> float:
        return statistics.quantiles(samples, n=20, method="inclusive")[-1]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.project) * 1000

    @property
    def p95_ms(self) -> float:
        return self.p95(self.project) * 1000

    @property
    def baseline_ms(self) -> float:
        return statistics.median(self.baseline) * 1000


def interleaved(
    request: Callable[[], float], baseline: Callable[[], None], repeat: int
) -> tuple[list[float], list[float]]:
    """`repeat` samples of each, alternating, so both see the same machine."""
    project: list[float] = []
    raw: list[float] = []
    for _ in range(repeat):
        project.append(request())
        started = time.perf_counter()
        baseline()
        raw.append(time.perf_counter() - started)
    return project, raw


def timed_get(client: FlaskClient, timer: ServerTimer, url: str) -> Callable[[], float]:
    def run() -> float:
        get_page(client, url)
        return timer.last

    return run


def read_figure(
    name: str,
    client: FlaskClient,
    timer: ServerTimer,
    url: str,
    conn: sqlite3.Connection,
    sql: str,
    params: tuple[Any, ...],
    baseline_name: str,
    repeat: int,
    note: str = "",
) -> Figure:
    def baseline() -> None:
        conn.execute(sql, params).fetchall()

    for _ in range(WARM_UP):
        get_page(client, url)
        baseline()
    project, raw = interleaved(timed_get(client, timer, url), baseline, repeat)
    return Figure(name, project, raw, baseline_name, note)


def insert_baseline(path: Path, synchronous: str) -> Callable[[], None]:
    """One INSERT in its own transaction, as raw sqlite3 does it (WAL, like both DBs)."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_raw_insert "
        '(position INTEGER PRIMARY KEY, programme TEXT, ref TEXT, period TEXT, status TEXT, "update" TEXT)'
    )

    def insert() -> None:
        conn.execute("BEGIN")
        conn.execute(
            'INSERT INTO bench_raw_insert (programme, ref, period, status, "update") VALUES (?, ?, ?, ?, ?)',
            (PROGRAMME, "A1.1.1", "2024/25 Q1", "Amber", "Bench: a raw insert of about the size of an update."),
        )
        conn.execute("COMMIT")

    return insert


def post_figures(
    client: FlaskClient, timer: ServerTimer, system: System, subjects: Subjects, posts: int, data_dir: Path
) -> tuple[Figure, Figure]:
    """The update form (GET, untimed by the target) and the POST of a valid status update
    with the seen_version and CSRF token the form carries. Each POST must record exactly
    one event and leave the projections caught up before the redirect."""
    db = system.projections_db
    normal = insert_baseline(db, "NORMAL")  # the projector's setting
    full_file = data_dir / "bench-raw-full.db"
    full = insert_baseline(full_file, "FULL")  # the event store's setting
    statuses = ("Amber", "Red", "Green")
    form_times: list[float] = []
    post_times: list[float] = []
    raw_normal: list[float] = []
    raw_full: list[float] = []
    form_raw: list[float] = []
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        for n in range(posts + WARM_UP):
            ref = subjects.items[n % len(subjects.items)]
            url = f"/programmes/{PROGRAMME}/items/{ref}/update"
            html = get_page(client, url)
            form_time = timer.last
            started = time.perf_counter()
            conn.execute(
                'SELECT s.* FROM audit_log a JOIN status_events s ON s.position = a.position '
                "WHERE a.programme = ? AND a.subject_ref = ? AND a.aggregate_kind = 'Item' "
                "ORDER BY s.period_start, s.position",
                (PROGRAMME, ref),
            ).fetchall()
            form_raw_time = time.perf_counter() - started
            before = queries.get_projection_position(db)
            status = statuses[n % len(statuses)]
            response = client.post(
                url,
                data={
                    "csrf_token": hidden_value(html, "csrf_token"),
                    "seen_version": hidden_value(html, "seen_version"),
                    "period": subjects.period,
                    "status": status,
                    "update": f"Bench update {n}: delivery continues, partners engaged.",
                    "mitigation": "Recovery plan agreed with partners." if status != "Green" else "",
                    "reason": "Bench re-rating after review.",
                },
            )
            post_time = timer.last
            if response.status_code != 302:
                raise RuntimeError(f"POST {url}: {response.status_code}\n{response.get_data(as_text=True)[:2000]}")
            after = queries.get_projection_position(db)
            if after != before + 1:
                raise RuntimeError(f"POST recorded {after - before} events, expected exactly 1")
            started = time.perf_counter()
            normal()
            normal_time = time.perf_counter() - started
            started = time.perf_counter()
            full()
            full_time = time.perf_counter() - started
            if n >= WARM_UP:
                form_times.append(form_time)
                form_raw.append(form_raw_time)
                post_times.append(post_time)
                raw_normal.append(normal_time)
                raw_full.append(full_time)
    full_file.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{full_file}{suffix}").unlink(missing_ok=True)
    form = Figure(
        "update form GET", form_times, form_raw, "SELECT the item's status_events",
        note="untimed by target; what the officer opens before each POST",
    )
    post = Figure(
        "update POST", post_times, raw_normal, "1 INSERT/txn, sync=NORMAL",
        note="command + event store commit + projector catch-up, then 302",
        extra_baseline=raw_full, extra_baseline_name="1 INSERT/txn, sync=FULL",
    )
    return form, post


@dataclass
class Run:
    events: int
    figures: dict[str, Figure]
    subjects: Subjects
    size_mb: float


def measure(events: int, repeat: int, posts: int, keep: bool, profile: bool) -> Run:
    pristine = prepared_ledger(events)
    data_dir = working_copy(pristine, events)
    system = open_system(data_dir)
    try:
        total = queries.get_projection_position(system.projections_db)
        subjects = choose_subjects(system.projections_db)
        app, timer = make_app(system, data_dir)
        client = app.test_client()
        sign_in(client)
        db = system.projections_db
        figures: dict[str, Figure] = {}
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            figures["dashboard"] = read_figure(
                "dashboard",
                client,
                timer,
                f"/programmes/{PROGRAMME}/dashboard?period={subjects.period}",
                conn,
                "SELECT status, count(*) FROM status_history WHERE programme = ? AND period = ? GROUP BY status",
                (PROGRAMME, subjects.period),
                "SELECT status, count(*) … GROUP BY",
                repeat,
            )
            ref, n = subjects.typical
            figures["timeline"] = read_figure(
                "timeline, typical item",
                client,
                timer,
                f"/programmes/{subjects.timeline_programme}/items/{ref}/timeline",
                conn,
                "SELECT * FROM audit_log WHERE programme = ? AND subject_ref = ? AND aggregate_kind = 'Item' "
                "ORDER BY position",
                (subjects.timeline_programme, ref),
                "SELECT * FROM audit_log … ORDER BY position",
                repeat,
                note=f"{subjects.timeline_programme} {ref}, {n} events",
            )
            programme, ref, n = subjects.busiest
            figures["busiest"] = read_figure(
                "timeline, busiest item",
                client,
                timer,
                f"/programmes/{programme}/items/{ref}/timeline",
                conn,
                "SELECT * FROM audit_log WHERE programme = ? AND subject_ref = ? AND aggregate_kind = 'Item' "
                "ORDER BY position",
                (programme, ref),
                "SELECT * FROM audit_log … ORDER BY position",
                repeat,
                note=f"{programme} {ref}, {n} events",
            )
        if profile:
            profile_pages(client, subjects)
        figures["form"], figures["post"] = post_figures(client, timer, system, subjects, posts, data_dir)
        size_mb = Path(db).stat().st_size / 1e6
    finally:
        system.close()
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return Run(total, figures, subjects, size_mb)


def profile_pages(client: FlaskClient, subjects: Subjects) -> None:
    """Where the read pages spend their time (pyinstrument, if installed)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("(--profile needs pyinstrument: pip install pyinstrument)")
        return
    ref = subjects.typical[0]
    for url in (
        f"/programmes/{PROGRAMME}/dashboard?period={subjects.period}",
        f"/programmes/{subjects.timeline_programme}/items/{ref}/timeline",
    ):
        profiler = Profiler(interval=0.0002)
        with profiler:
            for _ in range(20):
                get_page(client, url)
        print(f"\n== profile: 20 x GET {url}")
        print(profiler.output_text(unicode=True, color=False, show_all=False))


# ---------------------------------------------------------------- report


def print_run(run: Run) -> None:
    print(f"\n== {run.events:,} events (projections.db {run.size_mb:,.0f} MB, latest period {run.subjects.period})")
    print(f"  {'':24} {'median':>9} {'p95':>9} {'raw':>9}  ratio  baseline")
    for figure in run.figures.values():
        print(
            f"  {figure.name:24} {figure.median_ms:7.2f}ms {figure.p95_ms:7.2f}ms {figure.baseline_ms:7.3f}ms "
            f"{figure.median_ms / figure.baseline_ms:6.0f}x  {figure.baseline_name}"
        )
        if figure.extra_baseline:
            extra = statistics.median(figure.extra_baseline) * 1000
            print(
                f"  {'':24} {'':9} {'':9} {extra:7.3f}ms {figure.median_ms / extra:6.1f}x  "
                f"{figure.extra_baseline_name}"
            )
        if figure.note:
            print(f"  {'':24} ({figure.note})")


def print_comparison(small: Run, big: Run) -> None:
    print(f"\n== {big.events:,} / {small.events:,} events")
    print(f"  {'':24} {'median':>7} {'p95':>7} {'raw':>7}")
    for key, figure in big.figures.items():
        other = small.figures[key]
        print(
            f"  {figure.name:24} {figure.median_ms / other.median_ms:6.2f}x {figure.p95_ms / other.p95_ms:6.2f}x "
            f"{figure.baseline_ms / other.baseline_ms:6.2f}x"
        )
    print("\n== targets (median at the big ledger < 50 ms, and <= 1.5x the small ledger's)")
    for key in ("dashboard", "timeline", "busiest"):
        figure, other = big.figures[key], small.figures[key]
        factor = figure.median_ms / other.median_ms
        ok = figure.median_ms < 50 and factor <= 1.5
        print(
            f"  {figure.name:24} {figure.median_ms:7.2f} ms, {factor:.2f}x of {other.median_ms:.2f} ms "
            f"{'ok' if ok else 'MISSED'}"
        )


def main(argv: Iterator[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="the big ledger (default 100,000)")
    parser.add_argument("--small-events", type=int, default=10_000, help="the small ledger (default 10,000)")
    parser.add_argument("--repeat", type=int, default=200, help="timed requests per page (default 200)")
    parser.add_argument("--posts", type=int, default=100, help="timed update POSTs per ledger (default 100)")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the big ledger's read pages")
    parser.add_argument("--keep", action="store_true", help="keep the working copies in bench/out/")
    args = parser.parse_args(list(argv) if argv is not None else None)
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"bench_web {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; "
        f"{args.repeat} requests per page, {args.posts} POSTs"
    )
    small = measure(args.small_events, args.repeat, args.posts, args.keep, profile=False)
    print_run(small)
    big = measure(args.events, args.repeat, args.posts, args.keep, profile=args.profile)
    print_run(big)
    print_comparison(small, big)


if __name__ == "__main__":
    main()
