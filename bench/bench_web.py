"""Benchmark the web pages officers and auditors use most, at 10k and at ~1M events:
server time for the dashboard, an item's timeline (a typical item and the busiest) and
the status update POST, each beside the raw SQLite query it stands on.

    .venv/bin/python bench/bench_web.py --events 100000     # development
    .venv/bin/python bench/bench_web.py --events 1000000    # the issue's figure

Everything runs in one process through Flask's test client against the real app
(`web.create_app`) on real SQLite files, CSRF on, signed in as an officer assigned to
the programme. Server time is measured around the WSGI app (request in, whole body
out), so the test client's own work is not counted. Both ledgers are open at once and
the requests alternate between them, so both see the same moment of a shared machine.

Mind the data's shape: `generate` puts 10k events in one programme (89 quarters) but 1M
in 50 programmes of ~178 quarters, so an item's history doubles; `--small-events 20000`
gives a small ledger of the big one's shape. Timelines also print ms per event shown.

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
from collections.abc import Callable, Iterable, Sequence
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

from ledger.application import open_ledger  # noqa: E402
from ledger.config import projections_path  # noqa: E402
from projections import queries  # noqa: E402
from projections.system import System, build_into_place, open_system  # noqa: E402
from web import create_app  # noqa: E402
from web.accounts import create_account  # noqa: E402
from web.credentials import CredentialStore  # noqa: E402

OUT = ROOT / "bench" / "out"
PROGRAMME = "programme-000"  # the officer's programme: dashboard and POSTs
OFFICER = "bench-officer"
PASSWORD = "correct horse battery staple"
FAST_HASH = "pbkdf2:sha256:1000"  # sign-in is not what is measured
WARM_UP = 3  # requests per page before timing: template compile, page cache

# The raw baselines: the one query each page stands on.
DASHBOARD_SQL = (
    "SELECT status, count(*) FROM status_history WHERE programme = ? AND period = ? GROUP BY status"
)
TIMELINE_SQL = (
    "SELECT * FROM audit_log WHERE programme = ? AND subject_ref = ? AND aggregate_kind = 'Item' "
    "ORDER BY position"
)
HISTORY_SQL = (
    "SELECT s.* FROM audit_log a JOIN status_events s ON s.position = a.position "
    "WHERE a.programme = ? AND a.subject_ref = ? AND a.aggregate_kind = 'Item' "
    "ORDER BY s.period_start, s.position"
)


# ---------------------------------------------------------------- data


def prepared_ledger(events: int) -> Path:
    """A cached data directory of about `events` events with its projections.db built."""
    directory, rate = ledger_with_history(OUT / f"web-ledger-{events}", events, keep=True)
    if rate:
        print(f"(generated {events:,} events at {rate:,.0f} events/s)")
    if not projections_path(directory).exists():
        started = time.perf_counter()
        ledger = open_ledger(directory)
        try:
            # The bulk rebuild (indexes built once at the end), not open_system's live
            # catch-up: same rows, much faster from zero.
            build_into_place(ledger, projections_path(directory))
        finally:
            ledger.close()
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
        system.ledger,
        credentials,
        username=OFFICER,
        display_name="Bench Officer",
        role="officer",
        password=PASSWORD,
        actor="bench",
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
class Site:
    """One ledger's working copy, opened: its system, app, signed-in client and a raw
    read-only connection for the baselines."""

    events: int
    data_dir: Path
    system: System
    subjects: Subjects
    app: Flask
    timer: ServerTimer
    client: FlaskClient
    conn: sqlite3.Connection

    @property
    def db(self) -> Path:
        return Path(self.system.projections_db)

    def get(self, url: str) -> float:
        get_page(self.client, url)
        return self.timer.last

    def close(self, keep: bool) -> None:
        self.conn.close()
        self.system.close()
        if not keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def open_site(events: int) -> Site:
    data_dir = working_copy(prepared_ledger(events), events)
    system = open_system(data_dir)
    subjects = choose_subjects(Path(system.projections_db))
    app, timer = make_app(system, data_dir)
    client = app.test_client()
    sign_in(client)
    conn = sqlite3.connect(f"file:{system.projections_db}?mode=ro", uri=True)
    return Site(events, data_dir, system, subjects, app, timer, client, conn)


@dataclass
class Figure:
    name: str
    baseline_name: str
    note: str = ""
    entries: int = 0  # timelines: events on the page, which the page's work grows with
    project: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
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


@dataclass(frozen=True)
class ReadPage:
    """A page to time and the raw query it stands on, for a given site."""

    key: str
    name: str
    url: str
    sql: str
    params: tuple[Any, ...]
    baseline_name: str
    note: str = ""
    entries: int = 0


def read_pages(site: Site) -> list[ReadPage]:
    s = site.subjects
    ref, n = s.typical
    busy_programme, busy_ref, busy_n = s.busiest
    return [
        ReadPage(
            "dashboard",
            "dashboard",
            f"/programmes/{PROGRAMME}/dashboard?period={s.period}",
            DASHBOARD_SQL,
            (PROGRAMME, s.period),
            "SELECT status, count(*) … GROUP BY",
        ),
        ReadPage(
            "timeline",
            "timeline, typical item",
            f"/programmes/{s.timeline_programme}/items/{ref}/timeline",
            TIMELINE_SQL,
            (s.timeline_programme, ref),
            "SELECT * FROM audit_log … ORDER BY position",
            f"{s.timeline_programme} {ref}, {n} events",
            n,
        ),
        ReadPage(
            "busiest",
            "timeline, busiest item",
            f"/programmes/{busy_programme}/items/{busy_ref}/timeline",
            TIMELINE_SQL,
            (busy_programme, busy_ref),
            "SELECT * FROM audit_log … ORDER BY position",
            f"{busy_programme} {busy_ref}, {busy_n} events",
            busy_n,
        ),
    ]


def measure_reads(sites: list[Site], repeat: int) -> list[dict[str, Figure]]:
    """Each page on each site `repeat` times, round-robin: every sample of the big
    ledger sits between samples of the small one, and each request is followed by its
    raw baseline, so all of them see the same machine (it is shared and noisy)."""
    pages = [read_pages(site) for site in sites]
    figures = [
        {p.key: Figure(p.name, p.baseline_name, p.note, p.entries) for p in site_pages}
        for site_pages in pages
    ]
    for site, site_pages in zip(sites, pages, strict=True):
        for page in site_pages:
            for _ in range(WARM_UP):
                site.get(page.url)
                site.conn.execute(page.sql, page.params).fetchall()
    for _ in range(repeat):
        for index in range(len(pages[0])):
            for site, site_pages, site_figures in zip(sites, pages, figures, strict=True):
                page = site_pages[index]
                figure = site_figures[page.key]
                figure.project.append(site.get(page.url))
                started = time.perf_counter()
                site.conn.execute(page.sql, page.params).fetchall()
                figure.baseline.append(time.perf_counter() - started)
    return figures


def insert_baseline(path: Path, synchronous: str) -> tuple[Callable[[], None], sqlite3.Connection]:
    """One INSERT in its own transaction, as raw sqlite3 does it (WAL, like both DBs)."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_raw_insert (position INTEGER PRIMARY KEY, "
        'programme TEXT, ref TEXT, period TEXT, status TEXT, "update" TEXT)'
    )
    row = (PROGRAMME, "A1.1.1", "2024/25 Q1", "Amber", "Bench: a raw insert about the size of an update.")

    def insert() -> None:
        conn.execute("BEGIN")
        conn.execute(
            'INSERT INTO bench_raw_insert (programme, ref, period, status, "update") VALUES (?, ?, ?, ?, ?)',
            row,
        )
        conn.execute("COMMIT")

    return insert, conn


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


EVENTS_PER_POST = 2  # Item.StatusRecorded, Review.Submitted (or Resubmitted)


def measure_posts(sites: list[Site], posts: int) -> list[dict[str, Figure]]:
    """Per site, round-robin: open the update form (GET: the CSRF token and the item's
    current seen_version come from it), then POST a valid status update. Each POST must
    record exactly its events (the status, and its submission for review: Save submits
    since issue 13) and leave the projections caught up before its redirect."""
    figures = [
        {
            "form": Figure(
                "update form GET",
                "SELECT the item's status_events",
                "what the officer opens before each POST; no target",
            ),
            "post": Figure(
                "update POST",
                "1 INSERT/txn, sync=NORMAL",
                "command + event store commit + projector catch-up, then 302",
                extra_baseline_name="1 INSERT/txn, sync=FULL",
            ),
        }
        for _ in sites
    ]
    # Baselines: projections.db with the projector's settings, and a scratch file with
    # the event store's synchronous=FULL (the POST commits to both).
    inserts = [
        (insert_baseline(site.db, "NORMAL"), insert_baseline(site.data_dir / "bench-raw-full.db", "FULL"))
        for site in sites
    ]
    statuses = ("Amber", "Red", "Green")
    for n in range(posts + WARM_UP):
        for site, site_figures, ((normal, _), (full, _)) in zip(sites, figures, inserts, strict=True):
            ref = site.subjects.items[n % len(site.subjects.items)]
            url = f"/programmes/{PROGRAMME}/items/{ref}/update"
            html = get_page(site.client, url)
            form_time = site.timer.last
            started = time.perf_counter()
            site.conn.execute(HISTORY_SQL, (PROGRAMME, ref)).fetchall()
            form_raw = time.perf_counter() - started
            before = queries.get_projection_position(site.db)
            status = statuses[n % len(statuses)]
            response = site.client.post(
                url,
                data={
                    "csrf_token": hidden_value(html, "csrf_token"),
                    "seen_version": hidden_value(html, "seen_version"),
                    "period": site.subjects.period,
                    "status": status,
                    "update": f"Bench update {n}: delivery continues, partners engaged.",
                    "mitigation": "Recovery plan agreed with partners." if status != "Green" else "",
                    "reason": "Bench re-rating after review.",
                },
            )
            post_time = site.timer.last
            if response.status_code != 302:
                raise RuntimeError(f"POST {url}: {response.status_code}\n{response.get_data(as_text=True)}")
            recorded = queries.get_projection_position(site.db) - before
            if recorded != EVENTS_PER_POST:
                raise RuntimeError(f"POST {url} recorded {recorded} events, expected {EVENTS_PER_POST}")
            normal_time, full_time = timed(normal), timed(full)
            if n >= WARM_UP:
                site_figures["form"].project.append(form_time)
                site_figures["form"].baseline.append(form_raw)
                site_figures["post"].project.append(post_time)
                site_figures["post"].baseline.append(normal_time)
                site_figures["post"].extra_baseline.append(full_time)
    for (_, normal_conn), (_, full_conn) in inserts:
        normal_conn.close()
        full_conn.close()
    return figures


def profile_pages(site: Site) -> None:
    """Where the read pages spend their time (pyinstrument, if installed)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("(--profile needs pyinstrument: pip install pyinstrument)")
        return
    for page in read_pages(site)[:2]:
        profiler = Profiler(interval=0.0002)
        with profiler:
            for _ in range(20):
                site.get(page.url)
        print(f"\n== profile: 20 x GET {page.url} ({site.events:,} events)")
        print(profiler.output_text(unicode=True, color=False, show_all=False))


# ---------------------------------------------------------------- report


def print_site(site: Site, figures: dict[str, Figure]) -> None:
    size_mb = site.db.stat().st_size / 1e6
    events = queries.get_projection_position(site.db)
    print(f"\n== {events:,} events: projections.db {size_mb:,.0f} MB, period {site.subjects.period}")
    print(f"  {'':24} {'median':>9} {'p95':>9} {'raw':>9} {'ratio':>6}  raw baseline (median)")
    for f in figures.values():
        ratio = f.median_ms / f.baseline_ms
        print(
            f"  {f.name:24} {f.median_ms:7.2f}ms {f.p95_ms:7.2f}ms {f.baseline_ms:7.3f}ms {ratio:5.0f}x  "
            f"{f.baseline_name}"
        )
        if f.extra_baseline:
            extra = statistics.median(f.extra_baseline) * 1000
            print(f"  {'':44} {extra:7.3f}ms {f.median_ms / extra:5.1f}x  {f.extra_baseline_name}")
        if f.entries:
            print(f"  {'':24} ({f.note}: {f.median_ms / f.entries:.3f} ms per event shown)")
        elif f.note:
            print(f"  {'':24} ({f.note})")


def print_comparison(small: dict[str, Figure], big: dict[str, Figure], events: tuple[int, int]) -> None:
    print(f"\n== {events[1]:,} / {events[0]:,} events")
    print(f"  {'':24} {'median':>7} {'p95':>7} {'raw':>7} {'per event shown':>16}")
    for key, f in big.items():
        other = small[key]
        per_event = (
            f"{(f.median_ms / f.entries) / (other.median_ms / other.entries):15.2f}x" if f.entries else ""
        )
        print(
            f"  {f.name:24} {f.median_ms / other.median_ms:6.2f}x {f.p95_ms / other.p95_ms:6.2f}x "
            f"{f.baseline_ms / other.baseline_ms:6.2f}x {per_event}"
        )
    print("\n== targets: median < 50 ms on the big ledger, and <= 1.5x the small ledger's")
    for key in ("dashboard", "timeline", "busiest"):
        f, other = big[key], small[key]
        factor = f.median_ms / other.median_ms
        verdict = "ok" if f.median_ms < 50 and factor <= 1.5 else "MISSED"
        print(f"  {f.name:24} {f.median_ms:7.2f} ms, {factor:.2f}x of {other.median_ms:.2f} ms  {verdict}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="the big ledger (default 100,000)")
    parser.add_argument("--small-events", type=int, default=10_000, help="the small ledger (default 10,000)")
    parser.add_argument("--repeat", type=int, default=200, help="timed requests per page (default 200)")
    parser.add_argument("--posts", type=int, default=100, help="timed update POSTs per ledger (default 100)")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the big ledger's read pages")
    parser.add_argument("--keep", action="store_true", help="keep the working copies in bench/out/")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"bench_web {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; "
        f"{args.repeat} requests per page, {args.posts} POSTs per ledger"
    )
    sites: list[Site] = []
    try:
        for events in (args.small_events, args.events):
            sites.append(open_site(events))
        reads = measure_reads(sites, args.repeat)
        if args.profile:
            profile_pages(sites[-1])
        writes = measure_posts(sites, args.posts)
        results = [{**r, **w} for r, w in zip(reads, writes, strict=True)]
        for site, figures in zip(sites, results, strict=True):
            print_site(site, figures)
        print_comparison(results[0], results[1], (sites[0].events, sites[1].events))
    finally:
        for site in sites:
            site.close(args.keep)


if __name__ == "__main__":
    main()
