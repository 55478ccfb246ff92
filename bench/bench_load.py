"""Load: concurrent signed-in officers on loopback against `govledger serve --workers N`
on the demo's data, with locust (headless), beside a raw baseline in the same run.

    .venv/bin/python bench/bench_load.py --duration 300            # the issue's figure
    .venv/bin/python bench/bench_load.py --duration 30 --baseline 15  # development
    .venv/bin/python bench/bench_load.py --duration 60 --profile bench/out/load.speedscope

What each officer does (bench/load_officers.py): signs in once, then between think
times (uniform, --think, default 1-3 s) opens the dashboard 35%, an item's timeline
30%, My items 15%, or updates their own item 20% (update form GET, then the POST with
its CSRF token and fresh seen_version). Every POST must redirect (saved); anything
else is an error.

Baseline, in the same run: the same locust users, proportions and think time against
bench/load_baseline.py, a bare ASGI app under the same uvicorn worker count that
answers each request with the one SQLite statement its page stands on (the POST: one
INSERT with the event store's synchronous=FULL).

The demo (`govledger demo`) plus --users officer accounts, each assigned to a
programme and owning one leaf item, is kept in bench/out/load-pristine (delete it to
rebuild); each run works on a fresh copy, bench/out/load-run, removed afterwards.
Runs are bounded: ramp-up, then --duration seconds; stats are reset once all users
have started, so sign-ins are not counted in the figures. Beside the latencies: each
server's CPU (its processes' user + system time over the measured window) per request,
a figure the shared machine's other load disturbs far less than wall-clock latency, and
each worker's peak RSS.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from projections.system import open_system  # noqa: E402
from web.accounts import create_account  # noqa: E402
from web.credentials import CredentialStore  # noqa: E402

OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent
PASSWORD = "correct horse battery staple"
FAST_HASH = "pbkdf2:sha256:1000"  # sign-in is not what is measured
SPAWN_RATE = 10  # users started per second
NAMES = ["dashboard", "timeline", "my items", "update form", "update POST", "Aggregated"]


def pristine(users: int) -> tuple[Path, dict]:
    """The demo plus `users` officers, built once; the plan the locust users read."""
    directory = OUT / f"load-pristine-{users}"
    plan_file = directory / "load-plan.json"
    if plan_file.exists():
        return directory, json.loads(plan_file.read_text())
    shutil.rmtree(directory, ignore_errors=True)
    subprocess.run(
        [BIN / "govledger", "demo", "--no-serve", "--yes", "--data-dir", str(directory)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    system = open_system(directory)
    try:
        import sqlite3

        with sqlite3.connect(f"file:{system.projections_db}?mode=ro", uri=True) as conn:
            leaves = conn.execute(
                "SELECT programme, ref FROM items WHERE child_count = 0 ORDER BY programme, sort_key"
            ).fetchall()
            periods = dict(
                conn.execute(
                    "SELECT programme, period FROM periods p WHERE period_start = "
                    "(SELECT max(period_start) FROM periods WHERE programme = p.programme)"
                ).fetchall()
            )
        if len(leaves) < users:
            raise SystemExit(f"the demo has {len(leaves)} leaf items, fewer than {users} officers")
        credentials = CredentialStore(directory / "credentials.db", method=FAST_HASH)
        officers = []
        for n in range(users):
            programme, ref = leaves[n * len(leaves) // users]
            username = f"load-officer-{n:03d}"
            create_account(
                system.ledger,
                credentials,
                username=username,
                display_name=f"Load Officer {n}",
                role="officer",
                password=PASSWORD,
                actor="bench",
            )
            system.ledger.assign_programme(username, programme, actor="bench")
            officers.append(
                {
                    "username": username,
                    "programme": programme,
                    "item": ref,
                    "period": periods[programme],
                    "items": [r for p, r in leaves if p == programme],
                }
            )
    finally:
        system.close()
    plan = {"password": PASSWORD, "officers": officers}
    plan_file.write_text(json.dumps(plan))
    return directory, plan


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen, path: str) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not come up in 60 s")


def workers(process: subprocess.Popen) -> list[psutil.Process]:
    """The server's worker processes: its children that serve (not multiprocessing's
    resource tracker)."""
    found = []
    for child in psutil.Process(process.pid).children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


def peak_rss_mb(process: subprocess.Popen) -> list[float]:
    """Peak RSS (VmHWM) of each of the server's worker processes, in MB."""
    peaks = []
    for child in workers(process):
        try:
            for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peaks


def cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU the server's processes (it and its workers) have used so far."""
    total = 0.0
    for each in [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]:
        try:
            times = each.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


def run_locust(
    user_class: str,
    port: int,
    args: argparse.Namespace,
    plan_file: Path,
    prefix: Path,
    server: subprocess.Popen,
) -> tuple[dict, float]:
    """Run locust headless for ramp-up + duration: per request name, its stats row, and
    the server's CPU seconds over the measured window (after ramp-up, as the stats)."""
    ramp = ramp_seconds(args.users)
    env = {**os.environ, "LOAD_PLAN": str(plan_file), "LOAD_THINK": args.think}
    locust = subprocess.Popen(
        [
            BIN / "locust",
            "-f",
            str(ROOT / "bench" / "load_officers.py"),
            "--headless",
            "--only-summary",
            "-u",
            str(args.users),
            "-r",
            str(SPAWN_RATE),
            "-t",
            f"{ramp + args.duration_for(user_class)}s",
            "--reset-stats",
            "--csv",
            str(prefix),
            "--host",
            f"http://127.0.0.1:{port}",
            "--loglevel",
            "WARNING",
            user_class,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    time.sleep(ramp)
    start = cpu_seconds(server)
    locust.wait()
    used = cpu_seconds(server) - start
    with open(f"{prefix}_stats.csv", newline="") as f:
        return {row["Name"]: row for row in csv.DictReader(f)}, used


def ramp_seconds(users: int) -> int:
    return -(-users // SPAWN_RATE) + 2


def profiler(server: subprocess.Popen, args: argparse.Namespace) -> subprocess.Popen:
    """py-spy on the server and its workers for the measured window, after ramp-up."""
    record = [
        str(BIN / "py-spy"),
        "record",
        "--subprocesses",
        "--nonblocking",
        "-f",
        "speedscope",
        "-o",
        str(args.profile),
        "-p",
        str(server.pid),
        "-d",
        str(args.duration - 2),
    ]
    return subprocess.Popen(
        ["sh", "-c", f'sleep {ramp_seconds(args.users) + 2} && exec "$@"', "profiler", *record],
        stdout=subprocess.DEVNULL,
    )


def serve(command: list[str], env: dict[str, str], port: int, path: str) -> subprocess.Popen:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    wait_until_up(port, process, path)
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def report(
    project: dict, raw: dict, args: argparse.Namespace, peaks: list[float], loads: list[str], cpu: dict
) -> None:
    print(
        f"\n{args.users} officers, think {args.think} s, --workers {args.workers}, "
        f"{args.duration} s measured (baseline {args.baseline} s); load average {' -> '.join(loads)}"
    )
    print(
        f"{'request':<13}{'count':>7}{'errors':>7}{'req/s':>7}{'p50':>7}{'p95':>7}{'p99':>7}   |"
        f"{'raw p50':>8}{'raw p95':>8}{'raw p99':>8}{'p95 ratio':>10}"
    )
    for name in NAMES:
        p, r = project.get(name), raw.get(name)
        if p is None or r is None or "N/A" in (p["95%"], r["95%"]):
            continue
        ratio = float(p["95%"]) / max(float(r["95%"]), 1.0)
        print(
            f"{name:<13}{p['Request Count']:>7}{p['Failure Count']:>7}{float(p['Requests/s']):>7.1f}"
            f"{p['50%']:>7}{p['95%']:>7}{p['99%']:>7}   |"
            f"{r['50%']:>8}{r['95%']:>8}{r['99%']:>8}{ratio:>9.1f}x"
        )
    total = project["Aggregated"]
    verdict = "met" if float(total["95%"]) < 200 and int(total["Failure Count"]) == 0 else "MISSED"
    per_request = {
        side: 1000 * cpu[side] / max(int(stats["Aggregated"]["Request Count"]), 1)
        for side, stats in (("project", project), ("raw", raw))
    }
    print(
        f"(ms; raw = the baseline server; ratio = project p95 / raw p95, raw floored at 1 ms)\n"
        f"server CPU per request: {per_request['project']:.1f} ms, raw {per_request['raw']:.1f} ms "
        f"({per_request['project'] / max(per_request['raw'], 0.01):.1f}x)\n"
        f"target p95 < 200 ms and 0 errors: {verdict}; server workers' peak RSS: "
        f"{', '.join(f'{mb:.0f} MB' for mb in peaks)} (target < 250 MB each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=300, help="seconds measured on the app (default 300)")
    parser.add_argument(
        "--baseline", type=int, default=60, help="seconds measured on the baseline (default 60)"
    )
    parser.add_argument("--think", default="1,3", help="think time between requests, min,max seconds")
    parser.add_argument("--profile", type=Path, help="py-spy the server's workers into this speedscope file")
    parser.add_argument("--keep", action="store_true", help="keep bench/out/load-run")
    args = parser.parse_args()
    if not 10 <= args.duration <= 600 or not 5 <= args.baseline <= 600:
        raise SystemExit("--duration and --baseline are bounded: 10-600 and 5-600 s")
    args.duration_for = lambda cls: args.baseline if cls == "RawOfficer" else args.duration

    source, _ = pristine(args.users)
    run_dir = OUT / "load-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(source, run_dir)
    plan_file = run_dir / "load-plan.json"
    loads = [" ".join(f"{x:.2f}" for x in os.getloadavg())]
    env = {**os.environ, "GOVLEDGER_SECRET_KEY": "load-bench-secret", "LOAD_DATA_DIR": str(run_dir)}
    try:
        port = free_port()
        baseline = serve(
            [
                str(BIN / "uvicorn"),
                "--app-dir",
                str(ROOT / "bench"),
                "load_baseline:app",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            env,
            port,
            "/my-items?programme=x",
        )
        try:
            raw, raw_cpu = run_locust("RawOfficer", port, args, plan_file, run_dir / "raw", baseline)
        finally:
            stop(baseline)
        port = free_port()
        server = serve(
            [
                str(BIN / "govledger"),
                "--data-dir",
                str(run_dir),
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--insecure-cookies",
            ],
            env,
            port,
            "/login",
        )
        # Sampled once every user is working, so sign-ins and first renders are left out.
        spy = profiler(server, args) if args.profile else None
        try:
            project, project_cpu = run_locust("Officer", port, args, plan_file, run_dir / "project", server)
            peaks = peak_rss_mb(server)
        finally:
            stop(server)
            if spy is not None:
                spy.wait()
        loads.append(" ".join(f"{x:.2f}" for x in os.getloadavg()))
        report(project, raw, args, peaks, loads, {"project": project_cpu, "raw": raw_cpu})
    finally:
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
