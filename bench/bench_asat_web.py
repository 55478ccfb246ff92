"""bench_asat's web and command cases: the as-at page in a web worker, and
`govledger snapshot --programme` as a whole command. Each starts from an empty snapshot
cache (<data dir>/cache/as-at), so the first page of a programme is built from zero.

The web case runs the real app (`web.create_app` over `open_system`) through Flask's
test client, signed in as an auditor (opened in the ledger once, `ensure_auditor`: its
events are at the log's end); it times each page around the WSGI app (bench_web.ServerTimer) with the
process's CPU time, and reads the worker's RSS after each page (VmRSS) and its peak
(VmHWM). Beside each page, in the same process, the raw SQLite baseline reads the rows
that page replayed and inserts them into a fresh table (bench_asat.raw_programme).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils
from bench_web import FAST_HASH, PASSWORD, ServerTimer, hidden_value

from ledger.config import projections_path
from projections.asat import programme_records
from projections.system import open_system
from web import create_app
from web.accounts import create_account
from web.credentials import CredentialStore

AUDITOR = "bench-auditor"
CHUNK = 500  # ids per query
ROOT = Path(__file__).resolve().parent.parent


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def raw_programme(
    directory: Path, programme: str, stop: int, scratch: Path, after: int = 0
) -> tuple[float, int]:
    """Seconds and rows: the programme's stored rows (and no programme's) after `after`
    up to `stop`, read by originator id with raw sqlite3 and insert_all'd into a new table."""
    started = time.perf_counter()
    ids = [i.replace("-", "") for i in programme_records(projections_path(directory), programme)]
    source = sqlite3.connect(str(directory / "events.db"))
    target = sqlite_utils.Database(str(scratch))
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows += source.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
            f"WHERE originator_id IN ({','.join('?' * len(chunk))}) AND rowid > ? AND rowid <= ?",
            (*chunk, after, stop),
        ).fetchall()
    rows.sort()
    names = ("position", "originator_id", "originator_version", "topic", "state")
    with target.atomic():
        target["copy"].insert_all((dict(zip(names, r, strict=True)) for r in rows), pk="position")
    seconds = time.perf_counter() - started
    source.close()
    target.close()
    return seconds, len(rows)


def clear_cache(directory: Path) -> None:
    shutil.rmtree(directory / "cache" / "as-at", ignore_errors=True)


Page = tuple[str, str, int, int]


def ensure_auditor(directory: Path) -> None:
    """The bench's auditor account, opened in the ledger once (its events are at the end
    of the log from then on: run before the log's end is read)."""
    with open_system(directory) as system:
        credentials = CredentialStore(directory / "credentials.db", method=FAST_HASH)
        if not credentials.has_password(AUDITOR):
            create_account(
                system.ledger, credentials, username=AUDITOR, display_name="Bench Auditor",
                role="auditor", password=PASSWORD, actor="bench",
            )  # fmt: skip


def web_pages(directory: Path, programme: str, pages: list[Page]) -> list[dict[str, Any]]:
    """`pages`: (label, when, stop, replayed after): each as-at page in turn, measured."""

    clear_cache(directory)
    system = open_system(directory)
    try:
        app = create_app(
            {"SECRET_KEY": "bench-secret", "DATA_DIR": directory, "SESSION_COOKIE_SECURE": False,
             "PASSWORD_HASH_METHOD": FAST_HASH},
            system=system,
        )  # fmt: skip
        timer = ServerTimer(app.wsgi_app)
        app.wsgi_app = timer  # type: ignore[method-assign]
        client = app.test_client()
        token = hidden_value(client.get("/login").get_data(as_text=True), "csrf_token")
        signed = client.post("/login", data={"username": AUDITOR, "password": PASSWORD, "csrf_token": token})
        if signed.status_code != 302:
            raise RuntimeError(f"Sign-in failed: {signed.status_code}")
        results = []
        for label, when, stop, after in pages:
            cpu = time.process_time()
            response = client.get(f"/programmes/{programme}/as-at?when={quote(when)}")
            cpu = time.process_time() - cpu
            if response.status_code != 200 or "As recorded at" not in response.get_data(as_text=True):
                raise RuntimeError(f"{label}: {response.status_code}")
            rss = status_mb("VmRSS")
            raw_seconds, raw_rows = 0.0, 0
            if after < stop:  # a page from the cache replays nothing
                with tempfile.TemporaryDirectory(dir=directory) as temp:
                    scratch = Path(temp) / "raw.db"
                    raw_seconds, raw_rows = raw_programme(directory, programme, stop, scratch, after)
            results.append(
                {"label": label, "seconds": timer.last, "cpu": cpu, "rss_mb": rss,
                 "raw_seconds": raw_seconds, "raw_rows": raw_rows}
            )  # fmt: skip
        results.append({"label": "worker peak", "peak_mb": status_mb("VmHWM")})
        return results
    finally:
        system.close()


def command(directory: Path, programme: str, as_at: str) -> dict[str, Any]:
    """`govledger snapshot --programme` from an empty cache, as a user runs it: wall time
    of the whole process and its peak RSS (GNU time's maximum resident set)."""
    clear_cache(directory)
    with tempfile.TemporaryDirectory(dir=directory) as temp:
        out = Path(temp) / "as-at.db"
        govledger = Path(sys.executable).parent / "govledger"
        started = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", str(govledger), "--data-dir", str(directory), "snapshot",
             "--programme", programme, "--as-at", as_at, "--out", str(out)],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        peak_kb, user, system = done.stderr.strip().splitlines()[-1].split()
        return {
            "seconds": seconds, "cpu": float(user) + float(system), "peak_mb": int(peak_kb) / 1024,
            "file_mb": out.stat().st_size / 1e6, "said": done.stdout.strip(),
        }  # fmt: skip
