"""Datasette's hardening through the served app at /data/, signed in through Flask as each
demo role (issue 9, findings 4 and 7)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_web_serve import _get, _run

from web.backend import System
from web.serve import Dispatcher, make_asgi_app


@pytest.fixture
def served(data_dir: Path, system: System) -> Iterator[Dispatcher]:
    yield make_asgi_app(
        data_dir, config={"SECRET_KEY": "served", "SESSION_COOKIE_SECURE": False}, system=system
    )


@pytest.mark.parametrize("role", [None, "officer", "programme manager", "auditor", "analyst"])
def test_debug_pages_are_refused_to_all_but_administrators(served: Dispatcher, role: str | None) -> None:
    pages = ["/data/-/allow-debug", "/data/-/threads", "/data/-/versions.json", "/data/-/settings.json"]
    responses = _run(served, *(_get(page) for page in pages), login=role)
    assert [r.status_code for r in responses] == [403] * len(pages)
    assert all("num_threads" not in r.text and "sql_time_limit_ms" not in r.text for r in responses)


def test_an_administrator_sees_the_debug_pages(served: Dispatcher) -> None:
    threads, settings = _run(
        served, _get("/data/-/threads.json"), _get("/data/-/settings.json"), login="administrator"
    )
    assert threads.status_code == 200 and "num_threads" in threads.json()
    assert settings.json()["sql_time_limit_ms"] == 5000


def test_a_giant_answer_is_refused_and_the_next_user_is_served(served: Dispatcher) -> None:
    (giant,) = _run(
        served, _get("/data/projections.json", sql="select randomblob(1000000000)"), login="analyst"
    )
    assert giant.status_code == 400 and len(giant.content) < 5_000
    assert "too large" in giant.json()["error"]
    (accounts,) = _run(served, _get("/data/projections/accounts.json", _shape="array"), login="auditor")
    assert accounts.status_code == 200 and len(accounts.json()) >= 5


def test_csv_from_data_is_neutralised(served: Dispatcher) -> None:
    (export,) = _run(
        served, _get("/data/projections.csv", sql="select '=1+2' as f, '@A1' as g, -5 as n"), login="analyst"
    )
    assert export.status_code == 200
    assert list(csv.DictReader(io.StringIO(export.text, newline=""))) == [
        {"f": "'=1+2", "g": "'@A1", "n": "-5"}
    ]


def test_sorting_the_audit_log_by_rowid_is_a_400(served: Dispatcher) -> None:
    (response,) = _run(served, _get("/data/projections/audit_log.json", _sort_desc="rowid"), login="auditor")
    assert response.status_code == 400 and "Cannot sort table by rowid" in response.json()["error"]


def test_datasette_pages_carry_their_content_security_policy(served: Dispatcher) -> None:
    (refused,) = _run(served, _get("/data/"))
    (table,) = _run(served, _get("/data/projections/accounts"), login="auditor")
    for response in (refused, table):
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "object-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy
