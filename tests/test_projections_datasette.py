"""Datasette over projections.db: described, locked down by role, with canned queries and
a chart that work on a demo-ish data set."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from datasette.app import Datasette
from test_projections_support import PLAN, Q1, Q2, SEND, publish_pack, record_plan, record_send

from projections.datasette_config import CANNED_QUERIES, make_datasette, metadata
from projections.queries.flags import get_flags, register_flags_function
from projections.system import open_system

AUDITOR = {"id": "ann.auditor", "roles": ["auditor"]}
ANALYST = {"id": "al.analyst", "roles": ["analyst"]}
OFFICER = {"id": "jo.lead", "roles": ["officer"]}
ADMINISTRATOR = {"id": "ada.admin", "roles": ["administrator"]}  # Datasette's debug pages


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """projections.db for both demo programmes, with a correction after publication."""
    data_dir = tmp_path_factory.mktemp("datasette")
    with open_system(data_dir) as system:
        record_plan(system.ledger)
        record_send(system.ledger)
        publish_pack(system.ledger)
        system.ledger.correct_status(
            PLAN,
            "A1.1.1",
            period=Q1,
            status="Red",
            update="Worse than reported",
            mitigation="Escalated",
            actor="jo.lead",
            reason="Late information",
        )
        system.ledger.record_status(
            PLAN,
            "A1.1.9",
            period=Q2,
            status="Red",
            update="Stalled",
            mitigation="Escalated",
            actor="sam.head",
        )
        yield system.projections_db


@pytest.fixture(scope="module")
def ds(demo: Path) -> Datasette:
    return make_datasette(demo)


def get(ds: Datasette, path: str, actor: dict[str, Any] | None = None) -> Any:
    async def request() -> Any:
        cookies = {"ds_actor": ds.sign({"a": actor}, "actor")} if actor else None
        return await ds.client.get(path, cookies=cookies)

    return asyncio.run(request())


def test_every_table_view_and_column_is_described(demo: Path) -> None:
    tables = metadata(demo.stem)["databases"][demo.stem]["tables"]
    conn = sqlite3.connect(demo)
    register_flags_function(conn)  # as Datasette's connections have it, for the flags view
    try:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
            )
            # FTS5 shadow tables (x_fts_data, _idx, _docsize, _config) are SQLite's own.
            if not any(
                name.startswith(f"{t}_fts_") for t in ("audit_log", "report_sections", "risks_and_issues")
            )
        ]
        missing = []
        for name in names:
            meta = tables.get(name, {})
            if not meta.get("description"):
                missing.append(name)
            for column in (row[1] for row in conn.execute(f'PRAGMA table_xinfo("{name}")')):
                if not meta.get("columns", {}).get(column):
                    missing.append(f"{name}.{column}")
    finally:
        conn.close()
    assert missing == []
    assert {
        "programmes",
        "items",
        "status_history",
        "status_events",
        "current_status",
        "rag_summary",
        "transitions",
        "risks",
        "issues",
        "dependencies",
        "indicators",
        "report_sections",
        "publications",
        "changed_after_publication",
        "accounts",
        "audit_log",
        "flags",
    } <= set(names)


def test_the_flags_view_shows_what_the_dashboards_show(tmp_path: Path) -> None:
    """Issue 13: one flag per row, worked out by the same function the dashboards call."""
    with open_system(tmp_path) as system:
        ledger = system.ledger
        ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="pm")
        for ref in ("A1", "A2"):
            ledger.register_item(PLAN, ref, kind="action", title=f"Action {ref}", actor="pm")
            for period in (Q1, Q2):
                text = "Same words each time." if ref == "A1" else f"Progress in {period}: step {period[-1]}."
                ledger.record_status(PLAN, ref, period=period, status="Green", update=text, actor="jo")
        ledger.set_item_due_date(PLAN, "A2", due_date="2024-08-01", actor="pm")
        db = system.projections_db
    page = get(make_datasette(db), f"/{db.stem}/flags.json?_shape=array&_sort=ref", AUDITOR)
    assert page.status_code == 200, page.text
    shown = sorted((r["ref"], r["period"], r["kind"], r["why"]) for r in page.json())
    flags = [f for period in (Q1, Q2) for f in get_flags(db, PLAN, period, today=date.today())]
    assert shown == sorted((f.ref, f.period, f.kind, f.why) for f in flags)
    assert [row[:3] for row in shown] == [
        ("A1", Q2, "stale update"), ("A2", Q1, "watermelon"), ("A2", Q2, "watermelon"),
    ]


def test_internal_tables_are_hidden_and_the_rest_have_facets(ds: Datasette, demo: Path) -> None:
    tables = metadata(demo.stem)["databases"][demo.stem]["tables"]
    hidden = {name for name, meta in tables.items() if meta.get("hidden")}
    assert {"projection_position", "subjects", "audit_log_fts"} <= hidden
    listing = get(ds, f"/{demo.stem}.json", ANALYST).json()
    visible = {t["name"] for t in listing["tables"] if not t["hidden"]}
    assert not visible & {"projection_position", "subjects", "audit_log_fts", "audit_log_fts_data"}
    assert {"programme", "period", "status", "lead_officer", "committee"} <= set(
        tables["current_status"]["facets"]
    )
    page = get(ds, f"/{demo.stem}/current_status.json?_facet=lead_officer", AUDITOR).json()
    assert {f["value"] for f in page["facet_results"]["lead_officer"]["results"]} >= {"Jo Lead", "Sam Head"}


def test_anonymous_visitors_are_refused_everything(ds: Datasette, demo: Path) -> None:
    for path in (
        "/",
        f"/{demo.stem}",
        f"/{demo.stem}/items.json",
        f"/{demo.stem}/exceptions.json?programme={PLAN}&period={Q1}",
        "/-/dashboards",
    ):
        assert get(ds, path).status_code == 403, path


def test_an_auditor_reads_tables_and_canned_queries_but_cannot_run_sql(ds: Datasette, demo: Path) -> None:
    assert get(ds, f"/{demo.stem}/audit_log.json", AUDITOR).status_code == 200
    assert get(ds, f"/{demo.stem}/exceptions.json?programme={PLAN}&period={Q1}", AUDITOR).status_code == 200
    assert get(ds, f"/{demo.stem}.json?sql=select+1", AUDITOR).status_code == 403
    assert get(ds, f"/{demo.stem}/items.json?_where=1=1", AUDITOR).status_code == 403
    assert get(ds, f"/{demo.stem}.json?sql=select+1", OFFICER).status_code == 403


def test_an_analyst_can_run_sql(ds: Datasette, demo: Path) -> None:
    response = get(ds, f"/{demo.stem}.json?sql=select+count(*)+as+n+from+audit_log&_shape=array", ANALYST)
    assert response.status_code == 200
    assert response.json()[0]["n"] > 50


def test_nobody_downloads_the_file_and_the_event_store_is_not_served(ds: Datasette, demo: Path) -> None:
    assert get(ds, f"/{demo.stem}.db", ANALYST).status_code in (403, 404)
    assert [d["name"] for d in get(ds, "/-/databases.json", ADMINISTRATOR).json()] == [demo.stem]
    assert get(ds, "/events.json", ANALYST).status_code == 404


def canned(ds: Datasette, demo: Path, name: str, **params: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = get(ds, f"/{demo.stem}/{name}.json?_shape=array&{query}", AUDITOR)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_canned_queries_answer_the_reports_questions(ds: Datasette, demo: Path) -> None:
    summary = canned(ds, demo, "rag_summary_for_period", programme=PLAN, period=Q1)
    assert [(r["status"], r["count"]) for r in summary] == [
        ("Green", 2),
        ("Amber", 1),
        ("Red", 1),
        ("To be added", 0),
        ("Not yet due", 1),
        ("Complete", 0),
    ]
    exceptions = canned(ds, demo, "exceptions", programme=PLAN, period=Q1)
    assert [(r["ref"], r["status"], r["mitigation"]) for r in exceptions] == [
        ("A1.1.10", "Amber", "Contractor replaced"),
        ("A1.1.1", "Red", "Escalated"),
    ]
    deteriorated = canned(ds, demo, "deteriorated", programme=PLAN, period=Q2)
    assert [(r["ref"], r["previous_status"], r["status"]) for r in deteriorated] == [
        ("A1.1.9", "Green", "Red")
    ]
    no_update = canned(ds, demo, "no_update", programme=PLAN, period=Q2)
    assert [r["ref"] for r in no_update] == ["A1.1.1", "A1.1.2", "A1.1.10", "A1.1.11"]
    changed = canned(ds, demo, "changed_after_publication_for_programme", programme=PLAN)
    assert [(r["subject_ref"], r["from_value"], r["to_value"], r["reason"]) for r in changed] == [
        ("A1.1.1", "Amber", "Red", "Late information"),
    ]
    by_period = canned(ds, demo, "statuses_by_period", programme=SEND)
    assert [(r["period"], r["status"], r["count"]) for r in by_period][:3] == [
        ("2025-12", "Green", 2),
        ("2025-12", "Amber/Green", 1),
        ("2025-12", "Amber", 1),
    ]
    assert set(CANNED_QUERIES) == {
        "rag_summary_for_period",
        "exceptions",
        "deteriorated",
        "no_update",
        "changed_after_publication_for_programme",
        "statuses_by_period",
        "categories_by_period",  # tests/test_scales.py
        "overdue",  # tests/test_cycle_projections.py
        "awaiting_my_review",  # tests/test_review_projections.py
        "approved_then_changed",
        "dependency_disagreements",  # tests/test_dependency_sides_transfer.py
    }


def test_the_statuses_by_period_chart(ds: Datasette, demo: Path) -> None:
    # The dashboard (datasette-dashboards) is for analysts: its chart runs SQL from the browser.
    # It opens on one programme (each has its own scale), the first when none is chosen.
    opened = get(ds, "/-/dashboards/statuses-by-period", ANALYST)
    assert opened.status_code == 302 and opened.headers["location"].endswith("?programme=" + PLAN)
    assert "set-cookie" not in opened.headers
    page = get(ds, f"/-/dashboards/statuses-by-period?programme={PLAN}", ANALYST)
    assert page.status_code == 200
    assert "Items by status and period" in page.text and "vega" in page.text
    chart = metadata(demo.stem)["plugins"]["datasette-dashboards"]["statuses-by-period"]["charts"]["statuses"]
    response = get(
        ds,
        f"/{demo.stem}.json?_shape=array&programme={PLAN}&sql=" + chart["query"].replace(" ", "+"),
        ANALYST,
    )
    assert response.status_code == 200
    assert {(r["period"], r["status"]) for r in response.json()} >= {(Q1, "Green"), (Q2, "Red")}
    assert get(ds, "/-/dashboards/statuses-by-period", AUDITOR).status_code == 403
    # Everyone else charts the canned query with datasette-vega on its page.
    html = get(ds, f"/{demo.stem}/statuses_by_period?programme={PLAN}", AUDITOR).text
    assert "datasette_vega" in html


def test_the_web_apps_own_sign_in_can_name_the_actor(demo: Path) -> None:
    def from_header(request: Any) -> dict[str, Any] | None:
        # A header only tests send: the web app reads its signed session instead.
        name = request.headers.get("x-test-user")
        return {"id": name, "roles": ["auditor"]} if name else None

    ds = make_datasette(demo, actor_from_request=from_header)

    async def requests() -> tuple[int, int, str]:
        signed_in = await ds.client.get("/-/actor.json", headers={"x-test-user": "ann"})
        anonymous = await ds.client.get(f"/{demo.stem}/items.json")
        return signed_in.status_code, anonymous.status_code, signed_in.text

    ok, refused, actor = asyncio.run(requests())
    assert (ok, refused) == (200, 403)
    assert '"id": "ann"' in actor


def test_the_instance_is_titled_and_mutable(ds: Datasette, demo: Path) -> None:
    info = get(ds, "/-/metadata.json", ADMINISTRATOR).json()
    assert info["title"] == "Governance Ledger"
    databases = get(ds, "/-/databases.json", ADMINISTRATOR).json()
    assert databases[0]["is_mutable"] is True


def test_live_writes_show_without_restarting(tmp_path: Path) -> None:
    with open_system(tmp_path) as system:
        system.ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="a")
        ds = make_datasette(system.projections_db)
        assert len(get(ds, "/projections/programmes.json?_shape=array", AUDITOR).json()) == 1
        system.ledger.register_programme(SEND, "SEND", cadence="monthly", actor="a")
        assert len(get(ds, "/projections/programmes.json?_shape=array", AUDITOR).json()) == 2
