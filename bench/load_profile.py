"""CPU per request for the load benchmark's pages, in one process (no server, no
network): what each page of bench/load_officers.py costs Flask to answer, beside the
raw SQLite statement bench/load_baseline.py answers it with, in the same run.

    .venv/bin/python bench/load_profile.py                    # CPU ms per request
    .venv/bin/python bench/load_profile.py --cprofile bench/out/load.prof

Works on a copy of bench_load's pristine demo (bench/out/load-profile), one officer,
the same mix of pages and update POSTs; Flask's test client, so what is measured is
the app's own work: routing, session, queries, templates.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import OUT, pristine  # noqa: E402
from bench_web import hidden_value as field  # noqa: E402
from load_baseline import READS  # noqa: E402
from load_forms import selected_period, statuses  # noqa: E402

from projections.system import open_system  # noqa: E402
from web import create_app  # noqa: E402

PAGES = {
    "dashboard": "/programmes/{programme}/dashboard",
    "timeline": "/programmes/{programme}/items/{item}/timeline",
    "my items": "/my-items",
    "update form": "/programmes/{programme}/items/{item}/update",
}
RAW = {
    "dashboard": "/dashboard", "timeline": "/timeline", "my items": "/my-items", "update form": "/update-form"
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=40, help="times each page is asked for (default 40)")
    parser.add_argument("--cprofile", type=Path, help="write a cProfile of the measured rounds here")
    args = parser.parse_args()
    source, plan = pristine(50)
    data = OUT / "load-profile"
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(source, data)
    me = plan["officers"][0]
    system = open_system(data)
    try:
        app = create_app(
            {"DATA_DIR": data, "SECRET_KEY": "profile", "SESSION_COOKIE_SECURE": False}, system=system
        )
        client = app.test_client()
        token = field(client.get("/login").get_data(as_text=True), "csrf_token")
        signed_in = client.post(
            "/login", data={"username": me["username"], "password": plan["password"], "csrf_token": token}
        )
        assert signed_in.status_code == 302, signed_in.status_code
        raw = sqlite3.connect(f"file:{data / 'projections.db'}?mode=ro", uri=True)
        params = {"programme": me["programme"], "period": me["period"], "ref": me["item"]}

        def page(name: str) -> str:
            response = client.get(PAGES[name].format(**me))
            assert response.status_code == 200, (name, response.status_code)
            return response.get_data(as_text=True)

        def update(n: int) -> None:
            form = page("update form")
            choices = statuses(form)
            response = client.post(
                PAGES["update form"].format(**me),
                data={
                    "csrf_token": field(form, "csrf_token"),
                    "seen_version": field(form, "seen_version"),
                    "period": selected_period(form),
                    "status": choices[n % len(choices)],
                    "update": f"Profile update {n}: delivery continues.",
                    "mitigation": "Recovery plan agreed.",
                    "reason": "Re-rated after the monthly review.",
                },
            )
            assert response.status_code == 302, response.status_code

        for name in PAGES:  # warm: templates compiled, caches filled
            page(name)
        cpu: dict[str, float] = dict.fromkeys([*PAGES, "update POST"], 0.0)
        raw_cpu: dict[str, float] = dict.fromkeys(PAGES, 0.0)
        profile = None
        if args.cprofile:
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        for n in range(args.rounds):
            for name in PAGES:
                start = time.process_time()
                page(name)
                cpu[name] += time.process_time() - start
                start = time.process_time()
                raw.execute(READS[RAW[name]], params).fetchall()
                raw_cpu[name] += time.process_time() - start
            start = time.process_time()
            form_cpu = cpu["update form"]
            update(n)
            cpu["update POST"] += time.process_time() - start
            cpu["update form"] = form_cpu  # the POST's own form GET is counted in the POST
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.cprofile)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{args.rounds} rounds, one officer; load average {load}")
        print(f"{'request':<13}{'CPU ms':>8}{'raw ms':>8}{'ratio':>8}")
        for name, total in cpu.items():
            mine = 1000 * total / args.rounds
            base = 1000 * raw_cpu.get(name, 0.0) / args.rounds
            ratio = f"{mine / base:7.0f}x" if base else "      -"
            print(f"{name:<13}{mine:>8.1f}{base:>8.2f}{ratio}")
        print("(update POST: its form GET and the POST, saved and projected)")
    finally:
        system.close()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
