"""One web worker's memory after a large web import (issue 14 item 8; target < 250 MB).

    python bench/bench_web_import.py --rows 150000

`govledger serve` runs on loopback as production runs it with no projector service: one
process holding the web app and the background job worker. A programme manager signs in
and uploads a statuses.csv of --rows rows (bench_import's shape; the upload limit is
20 MB, about 160,000 rows) for a programme and items recorded beforehand. Being over the
job threshold, the import runs as a background job, in a short-lived process that the
server's job worker starts for it (`govledger job run`). The server's VmRSS and VmHWM are
read from /proc before the upload (signed in, idle: the baseline) and after the job is
done; the job process's peak is the one it prints as it ends (its getrusage maxrss, which
is its VmHWM). Scratch files go in bench/out/ and are removed unless --keep.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from bench_import import generate

from ledger.application import open_ledger
from ledger.transfer.importing import import_file

USER, PASSWORD = "bench.pm", "bench password 1234"
# The raw baseline: a fresh process reads the same CSV whole and inserts it with one
# executemany in one transaction (bench_import.raw_insert); prints its VmHWM (MB) and seconds.
RAW = """
import csv, resource, sys
from pathlib import Path
from bench_import import raw_insert
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    rows = [tuple(row) for row in csv.reader(handle)][1:]
seconds = raw_insert(Path(sys.argv[2]), rows)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, seconds)
"""
WAIT = 1800.0  # seconds: a bound on the wait for the job


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) // 1024
    return found


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def csrf(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert match, "no CSRF token on the page"
    return match[1]


def prepare_data(data: Path, source: Path) -> None:
    """The programme and its items recorded, and a programme manager assigned to it."""
    setup = source.parent / "setup"
    setup.mkdir()
    for kind in ("programmes", "items"):
        shutil.copy(source / f"{kind}.csv", setup / f"{kind}.csv")
    env = {**os.environ, "GOVLEDGER_PASSWORD": PASSWORD}
    subprocess.run(
        [sys.executable, "-m", "govledger", "--data-dir", str(data), "account", "create", "--username", USER,
         "--name", "Bench Manager", "--role", "programme manager"],
        check=True, env=env, capture_output=True,
    )
    ledger = open_ledger(data)
    try:
        assert import_file(ledger, setup, actor="setup").ok
        ledger.assign_programme(USER, "bench", actor="setup", reason="Bench")
    finally:
        ledger.close()
    subprocess.run([sys.executable, "-m", "govledger", "--data-dir", str(data), "project"],
                   check=True, capture_output=True)


def job_state(data: Path, job: str) -> str:
    with sqlite3.connect(data / "projections.db") as conn:
        row = conn.execute("SELECT state FROM jobs WHERE job = ?", (job,)).fetchone()
    return row[0] if row else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    os.environ.pop("PERSISTENCE_MODULE", None)
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="web-import-", dir=out))
    server = None
    try:
        generate(scratch / "in", args.rows)
        data = scratch / "data"
        prepare_data(data, scratch / "in")
        statuses = (scratch / "in" / "statuses.csv").read_bytes()
        port = free_port()
        log_path = scratch / "serve.log"
        log = log_path.open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "govledger", "--data-dir", str(data), "serve", "--port", str(port),
             "--insecure-cookies"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=120) as client:
            for _ in range(600):
                try:
                    if client.get("/login").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            page = client.get("/login").text
            signed = client.post(
                "/login", data={"username": USER, "password": PASSWORD, "csrf_token": csrf(page)}
            )
            assert signed.status_code in (200, 302), signed.status_code
            token = csrf(client.get("/import").text)
            idle = proc_status(server.pid)
            start = time.perf_counter()
            sent = client.post("/import", data={"csrf_token": token},
                               files={"file": ("statuses.csv", statuses, "text/csv")})
            assert sent.status_code == 302, sent.text[:500]
            job = sent.headers["Location"].rsplit("/", 1)[-1]
            deadline = time.monotonic() + WAIT
            while job_state(data, job) not in ("done", "failed") and time.monotonic() < deadline:
                time.sleep(0.5)
            seconds = time.perf_counter() - start
            state = job_state(data, job)
            after = proc_status(server.pid)
            page = client.get(f"/import/jobs/{job}").text
        n = len(statuses.splitlines()) - 1
        print(f"# bench_web_import {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs")
        print(f"statuses.csv: {n:,} rows, {len(statuses) / 2**20:.1f} MB; job {state} in {seconds:.1f} s "
              f"({n / seconds:,.0f} rows/s; {load()})")
        print(f"serve process (web app + job worker): signed in, idle: VmRSS {idle['VmRSS']} MB, VmHWM "
              f"{idle['VmHWM']} MB; after the import: VmRSS {after['VmRSS']} MB, peak (VmHWM) "
              f"{after['VmHWM']} MB (target < 250 MB)")
        said = rf"Job {job} \(import\): \w+ in ([\d.]+) s; peak memory (\d+) MB"
        child = re.search(said, log_path.read_text())
        print(f"the job's own process: peak (VmHWM) {child[2]} MB, {child[1]} s" if child
              else "the job's own process: no report in serve.log (the job ran in the server)")
        raw = subprocess.run(
            [sys.executable, "-c", RAW, str(scratch / "in" / "statuses.csv"), str(scratch / "raw.db")],
            cwd=Path(__file__).resolve().parent, capture_output=True, text=True, check=True,
        ).stdout.split()
        ratio = f"; the job process's peak is {int(child[2]) / int(raw[0]):.1f}x" if child else ""
        print(f"raw baseline (a fresh process: csv.reader, one executemany, one transaction): peak (VmHWM) "
              f"{raw[0]} MB, {float(raw[1]):.2f} s{ratio} ({load()})")
        assert state == "done", re.sub(r"<[^>]+>", " ", page)[:2000]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
