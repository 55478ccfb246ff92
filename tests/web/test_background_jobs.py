"""Rebuilds and large report builds run as background jobs (issue 14, item 3): asked for
on the web, run by a real worker (in this process, or `govledger project --follow` in its
own for the kill test), shown on one job page with its progress, and retried once failed.

Report downloads for programmes over REPORT_JOB_ITEMS items are jobs; the threshold is
set low here. Below it they are built in the request (tests/web/test_report_papers_web.py)."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

import pytest
from flask.testing import FlaskClient
from test_import_jobs import job_row, start_worker, wait_until
from test_reports_support import Q1, record_plan
from test_transfer import download, items, text
from web_helpers import DEMO_USERS, PROGRAMME, AuthActions

import govledger.jobs
from govledger.jobs import Worker
from ledger.transfer.importing import prepare, record
from projections.projector import ProjectionFailed
from projections.queries.connection import rows
from projections.reports import build_report
from projections.reports.model import AsAt
from projections.reports.word import DOCX_TYPE, render_docx
from web.backend import System

__all__ = ["start_worker"]  # the fixture, shared with the import jobs' tests

THRESHOLD = 3  # items: the test plan holds more, so its reports are built by jobs
REPORT = f"/reports/{PROGRAMME}/committee"
WIDE = "wide-plan"  # a programme of its own: no officer or programme manager is assigned to it
WIDE_REPORT = f"/reports/{WIDE}/committee"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"REPORT_JOB_ITEMS": THRESHOLD}


def job_of(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    match = re.fullmatch(r"/jobs/([0-9a-f-]{36})", response.headers["Location"])
    assert match, response.headers["Location"]
    return match[1]


def ask_for_paper(client: FlaskClient, report: str = REPORT) -> str:
    """Follow the Word paper's download link to the page that offers the job, and queue it."""
    page = client.get(f"{report}/download.docx?period={quote(Q1)}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "built in the background" in text(html)
    fields = dict(re.findall(r'<input[^>]*name="(period|as_at|format)"[^>]*value="([^"]*)"', html))
    assert fields == {"period": Q1, "as_at": "", "format": "docx"}
    return job_of(client.post(f"{report}/build", data={**fields, "submit": "Build the report"}))


def paper_as_built(system: System, programme: str, job: str) -> bytes:
    """The paper the job should have built: the report as it stands (nothing but jobs was
    recorded since), stamped with the log position the job says it was built from."""
    result = json.loads(job_row(system, job)["result"])
    assert result["position"] < system.ledger.get_log_position()  # before its Finished event
    stamp = AsAt(result["position"], result["recorded_at"])
    return render_docx(replace(build_report(system.projections_db, programme, "committee", Q1), as_at=stamp))


def names(system: System, job: str) -> list[str]:
    return [type(e).__name__ for e in system.ledger.events.get(UUID(job)) if type(e).__name__ != "Progressed"]


def test_a_large_reports_paper_is_built_by_a_job_and_downloaded_by_its_readers(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    record_plan(system.ledger, programme=WIDE)
    auth.login("auditor")  # auditors read every programme's reports
    job = ask_for_paper(client, WIDE_REPORT)
    page = client.get(f"/jobs/{job}").get_data(as_text=True)
    assert "Queued" in text(page) and '<noscript><meta http-equiv="refresh"' in page
    assert client.get(f"/jobs/{job}/download").status_code == 404  # nothing built yet

    assert Worker(system, name="node-1:test", in_child=True).run_once()  # as the worker loop runs it
    page = client.get(f"/jobs/{job}").get_data(as_text=True)
    assert "Done" in text(page) and "http-equiv" not in page
    assert "Built the performance report for 2024/25 Q1 as a Word committee paper (DOCX)" in text(page)
    with client.get(f"/jobs/{job}/download") as response:
        assert response.status_code == 200 and response.mimetype == DOCX_TYPE
        assert "filename=wide-plan-committee-2024-25-q1.docx" in response.headers["Content-Disposition"]
        assert response.get_data() == paper_as_built(system, WIDE, job)
    assert names(system, job) == ["Queued", "Started", "Finished"]

    # Whoever may read the programme's reports (everyone signed in: web.permissions.can_read)
    # sees its job and downloads the same paper, not only who asked; no one signed out.
    auth.logout()
    assert client.get(f"/jobs/{job}/download").headers["Location"].startswith("/login")
    auth.login("officer")
    with client.get(f"/jobs/{job}/download") as response:
        assert response.get_data() == paper_as_built(system, WIDE, job)

    # A built report waits a week to be downloaded, then its job page says to ask again.
    worker = Worker(system)
    assert worker.forget_old_reports(now=datetime.now(UTC) + timedelta(days=6)) == 0
    assert worker.forget_old_reports(now=datetime.now(UTC) + timedelta(days=8)) == 1
    response = client.get(f"/jobs/{job}/download", follow_redirects=True)
    assert "This report is no longer kept here: ask for it again" in text(response.get_data(as_text=True))


def test_a_failed_report_job_shows_why_and_retries_cleanly(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    auth.login("officer")
    job = ask_for_paper(client)
    system.ledger.start_job(UUID(job), worker="node-9", lease_seconds=30)
    system.ledger.fail_job(UUID(job), worker="node-9", problem="The disk was full.")
    page = client.get(f"/jobs/{job}").get_data(as_text=True)
    assert "Failed" in text(page) and "The disk was full." in text(page)
    assert client.get(f"/jobs/{job}/download").status_code == 404

    assert client.post(f"/jobs/{job}/retry", data={"submit": "Retry"}).status_code == 302
    assert job_row(system, job)["state"] == "queued"
    assert client.post(f"/jobs/{job}/retry", data={"submit": "Retry"}).status_code == 302  # not failed
    assert Worker(system).run_once()
    with client.get(f"/jobs/{job}/download") as response:
        assert response.get_data() == paper_as_built(system, PROGRAMME, job)
    assert names(system, job) == ["Queued", "Started", "Failed", "Retried", "Started", "Finished"]


def test_a_large_reports_spreadsheet_as_at_a_position_is_built_by_a_job(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    position = system.ledger.get_log_position()
    auth.login("analyst")
    page = client.get(f"{REPORT}/download.xlsx?period={quote(Q1)}&as_at={position}").get_data(as_text=True)
    assert f"as at {position}" in text(page)
    form = {"period": Q1, "as_at": str(position), "format": "xlsx", "submit": "Build the report"}
    job = job_of(client.post(f"{REPORT}/build", data=form))
    assert Worker(system).run_once()
    page = text(client.get(f"/jobs/{job}").get_data(as_text=True))
    assert f"from the ledger as at log position {position}," in page
    book = download(client, f"/jobs/{job}/download")
    cells = {c.value for sheet in book.worksheets for r in sheet.iter_rows() for c in r}
    assert {"A1.1.1", "Publish decisions"} <= cells, sorted(map(str, cells))[:40]


def test_an_import_jobs_own_page_is_where_its_job_page_leads(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    job = system.ledger.queue_job(
        "import", file_sha256="e" * 64, file_name="items.csv", file_size=2000,
        options={"stored": "items.csv"}, actor=DEMO_USERS["programme manager"],
    )
    auth.login("administrator")
    assert client.get(f"/jobs/{job}").status_code == 404  # only who asked sees an import
    auth.logout()
    auth.login("programme manager")
    assert client.get(f"/jobs/{job}").headers["Location"] == f"/import/jobs/{job}"


def test_a_bad_request_to_build_a_report_records_nothing(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    auth.login("programme manager")
    for bad in ({"period": "2024/25 Q9", "format": "docx"}, {"period": Q1, "format": "pdf"},
                {"period": Q1, "format": "xlsx", "as_at": "yesterday-ish"}):
        response = client.post(f"{REPORT}/build", data={**bad, "submit": "Build the report"})
        assert response.status_code == 400, bad
    assert rows(system.projections_db, "SELECT * FROM jobs") == []


def drop_one_item(system: System) -> str:
    """Take one row out of the read model (never the log): a rebuild puts it back."""
    sql = "SELECT ref FROM items WHERE programme = ? ORDER BY ref LIMIT 1"
    ref = rows(system.projections_db, sql, (PROGRAMME,))[0]["ref"]
    with sqlite3.connect(system.projections_db) as conn:
        conn.execute("DELETE FROM items WHERE programme = ? AND ref = ?", (PROGRAMME, ref))
    conn.close()
    return ref


def item_shown(system: System, ref: str) -> bool:
    sql = "SELECT 1 FROM items WHERE programme = ? AND ref = ?"
    return bool(rows(system.projections_db, sql, (PROGRAMME, ref)))


def item_count(system: System) -> int:
    return len(rows(system.projections_db, "SELECT ref FROM items"))


def ask_for_rebuild(client: FlaskClient) -> str:
    page = client.get("/admin/rebuild").get_data(as_text=True)
    assert "Rebuild the read model" in page and "csrf_token" in page
    return job_of(client.post("/admin/rebuild", data={"submit": "Rebuild the read model"}))


def test_an_administrator_rebuilds_the_read_model_in_the_background(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    missing = drop_one_item(system)
    auth.login("administrator")
    assert client.post("/admin/rebuild", data={}).status_code == 200  # no button: nothing queued
    job = ask_for_rebuild(client)
    assert "Queued" in text(client.get(f"/jobs/{job}").get_data(as_text=True))
    assert not item_shown(system, missing)

    assert Worker(system, in_child=True).run_once()  # in a process of its own, as the loop runs it
    page = text(client.get(f"/jobs/{job}").get_data(as_text=True))
    applied = int(re.search(r"Rebuilt the read model from ([\d,]+) events\.", page)[1].replace(",", ""))
    assert 0 < applied <= system.ledger.get_log_position()
    assert item_shown(system, missing)  # the new read model is the one in use
    assert names(system, job) == ["Queued", "Started", "Finished"]
    assert f"/jobs/{job}" in client.get("/admin/rebuild").get_data(as_text=True)  # recent rebuilds

    auth.logout()
    auth.login("programme manager")  # administrators only
    assert client.get(f"/jobs/{job}").status_code == 404


def test_a_running_rebuilds_page_shows_its_progress_and_reloads_itself(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    auth.login("administrator")
    job = UUID(ask_for_rebuild(client))
    system.ledger.start_job(job, worker="node-1", lease_seconds=60)
    system.ledger.job_progress(
        job, worker="node-1", stage="replaying events", done=400, total=1000, lease_seconds=60
    )
    page = client.get(f"/jobs/{job}").get_data(as_text=True)
    assert "Running" in text(page) and "Replaying events: 400 of 1,000 events (40%)" in text(page)
    bar = r'<progress id="job-progress" class="app-progress" max="1000"\s+value="400">40%</progress>'
    assert re.search(bar, page)
    assert 'data-job-refresh="2"' in page and '<noscript><meta http-equiv="refresh" content="2">' in page
    assert "The pages and Datasette show the read model in use until the new one is complete" in text(page)


def test_a_rebuild_that_cannot_project_an_event_fails_and_retries_cleanly(
    client: FlaskClient, auth: AuthActions, system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth.login("administrator")
    job = ask_for_rebuild(client)

    def broken_build(*args: Any, **kwargs: Any) -> int:
        raise ProjectionFailed("Projecting Item.Registered at position 7 failed: disk I/O error", 7)

    monkeypatch.setattr(govledger.jobs, "build_into_place", broken_build)
    assert Worker(system).run_once()
    page = text(client.get(f"/jobs/{job}").get_data(as_text=True))
    assert "Failed" in page and (
        "The rebuild stopped and the read model in use was not replaced: "
        "Projecting Item.Registered at position 7 failed: disk I/O error"
    ) in page
    monkeypatch.undo()
    assert client.post(f"/jobs/{job}/retry", data={"submit": "Retry"}).status_code == 302
    assert Worker(system).run_once()
    assert "Rebuilt the read model from" in text(client.get(f"/jobs/{job}").get_data(as_text=True))
    assert names(system, job) == ["Queued", "Started", "Failed", "Retried", "Started", "Finished"]


def test_a_rebuild_killed_mid_way_leaves_the_old_read_model_in_use_and_retries(
    client: FlaskClient, auth: AuthActions, system: System, data_dir: Path, start_worker: Any
) -> None:
    # A log long enough that the worker is seen replaying it into its scratch file.
    csv = data_dir / "many-items.csv"
    csv.write_bytes(items(*(f"K{n:05d}" for n in range(8_000))))
    result = record(system.ledger, prepare(system.ledger, csv), actor="setup")
    assert result.recorded, result.problems[:1]
    missing = drop_one_item(system)
    shown = item_count(system)
    auth.login("administrator")
    job = ask_for_rebuild(client)
    worker = start_worker(lease=1.0)

    def scratch() -> list[Path]:
        """The worker's scratch file, once it has begun writing into it."""
        found = list(data_dir.glob(".projections.db.rebuild-*"))
        return [p for p in found if p.exists() and p.stat().st_size]

    def replaying() -> bool:
        return job_row(system, job)["state"] == "running" and bool(scratch())

    wait_until(replaying, "the rebuild to start replaying", worker)
    worker.kill()  # SIGKILL: no clean-up of any kind
    assert scratch(), "the rebuild finished before the kill: nothing was cut short"

    # The read model in use is the old one, whole: nothing of the scratch file is in it.
    assert not item_shown(system, missing)
    assert item_count(system) == shown
    with sqlite3.connect(system.projections_db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    assert "Rebuilding the read model" in text(client.get(f"/jobs/{job}").get_data(as_text=True))

    def shown_failed() -> str | None:
        page = client.get(f"/jobs/{job}").get_data(as_text=True)
        return page if "Failed" in text(page) else None

    page = text(wait_until(shown_failed, "the page to show the job failed"))
    assert "stopped before it finished. The read model in use was not replaced." in page
    assert client.post(f"/jobs/{job}/retry", data={"submit": "Retry"}).status_code == 302
    assert job_row(system, job)["retried_by"] == DEMO_USERS["administrator"]

    start_worker()
    wait_until(lambda: job_row(system, job)["state"] == "done", "the retried rebuild to finish")
    assert item_shown(system, missing)
    assert not list(data_dir.glob(".projections.db.rebuild-*"))  # the killed one's scratch is gone
    assert names(system, job) == ["Queued", "Started", "Failed", "Retried", "Started", "Finished"]
