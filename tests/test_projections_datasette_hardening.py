"""Datasette hardened (issue 9, findings 4 and 7): bounded answers, debug pages for
administrators only, CSV with formulas neutralised, bad parameters answered 400."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from datasette.app import Datasette
from datasette.utils import MultiParams
from datasette.views.base import DatasetteError
from test_projections_support import PLAN, Q1, record_plan

from ledger.domain import ROLES
from projections.datasette_config import make_datasette
from projections.datasette_csv import _Records
from projections.datasette_errors import SERVER_ERROR_MESSAGE, replacement
from projections.datasette_limits import MAX_RESULT_BYTES, MAX_VALUE_BYTES
from projections.system import open_system
from web.audit import neutralise

ANALYST = {"id": "al.analyst", "roles": ["analyst"]}
AUDITOR = {"id": "ann.auditor", "roles": ["auditor"]}
# The formula triggers the app's own CSV export guards against, each stored in an update.
# (The ledger trims leading whitespace from an update, so tab and CR come from SQL below.)
FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)"]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("hardening")
    with open_system(data_dir) as system:
        record_plan(system.ledger)
        for n, formula in enumerate(FORMULAS):
            ref = f"F{n}"
            system.ledger.register_item(PLAN, ref, kind="action", title=f"Formula {n}", actor="perf.team")
            system.ledger.record_status(PLAN, ref, period=Q1, status="Green", update=formula, actor="jo.lead")
        yield system.projections_db


@pytest.fixture(scope="module")
def ds(db: Path) -> Datasette:
    return make_datasette(db)


def actor_for(role: str | None) -> dict[str, Any] | None:
    return None if role is None else {"id": f"demo-{role}", "roles": [role]}


def get(ds: Datasette, path: str, actor: dict[str, Any] | None = None) -> Any:
    async def request() -> Any:
        cookies = {"ds_actor": ds.sign({"a": actor}, "actor")} if actor else None
        return await ds.client.get(path, cookies=cookies)

    return asyncio.run(request())


def sql(db: Path, query: str, fmt: str = "json", **extra: str) -> str:
    args = "".join(f"&{k}={v}" for k, v in extra.items())
    return f"/{db.stem}.{fmt}?sql={quote(query)}{args}"


# ------------------------------------------------------------------ finding 4: bounded answers


def test_a_giant_value_is_refused_at_once_with_a_clear_message(ds: Datasette, db: Path) -> None:
    response = get(ds, sql(db, "select randomblob(1000000000) as b"), ANALYST)
    assert response.status_code == 400
    assert len(response.content) < 5_000
    error = response.json()["error"]
    assert "too large" in error and f"{MAX_VALUE_BYTES:,} bytes" in error
    # The HTML page says the same, and is small too.
    page = get(ds, sql(db, "select randomblob(1000000000) as b", fmt="html").replace(".html", ""), ANALYST)
    assert page.status_code == 400 and "too large" in page.text and len(page.content) < 50_000


def test_a_giant_value_in_a_csv_export_is_a_400_not_an_empty_file(ds: Datasette, db: Path) -> None:
    response = get(ds, sql(db, "select randomblob(1000000000) as b", fmt="csv"), ANALYST)
    assert response.status_code == 400 and len(response.content) < 50_000
    assert "too large" in response.text
    mistyped = get(ds, sql(db, "select 1 from nowhere", fmt="csv"), ANALYST)
    assert mistyped.status_code == 400 and "no such table: nowhere" in mistyped.text


def test_many_moderate_values_cannot_add_up_to_gigabytes(ds: Datasette, db: Path) -> None:
    rows = MAX_RESULT_BYTES // 900_000 + 5
    query = (
        f"with recursive n(i) as (select 1 union all select i + 1 from n where i < {rows}) "
        "select zeroblob(900000) as b from n"
    )
    response = get(ds, sql(db, query, _size="max"), ANALYST)
    assert response.status_code == 400
    assert len(response.content) < 5_000
    assert f"{MAX_RESULT_BYTES:,} bytes" in response.json()["error"]


def test_after_a_refused_giant_query_other_users_pages_still_work(ds: Datasette, db: Path) -> None:
    assert get(ds, sql(db, "select randomblob(1000000000)"), ANALYST).status_code == 400
    rows = get(ds, f"/{db.stem}/status_history.json?_shape=array&programme={PLAN}", AUDITOR)
    assert rows.status_code == 200
    assert {r["ref"] for r in rows.json()} >= {"A1.1.1", "F0"}
    # And the analyst's own ordinary query still answers.
    mine = get(ds, sql(db, "select count(*) as n from status_history", _shape="array"), ANALYST)
    assert mine.status_code == 200 and mine.json()[0]["n"] >= len(FORMULAS)


def test_an_ordinary_full_page_is_within_the_bounds(ds: Datasette, db: Path) -> None:
    response = get(ds, f"/{db.stem}/audit_log.json?_size=max&_shape=array", AUDITOR)
    assert response.status_code == 200 and len(response.json()) > 20


# ------------------------------------------------------------ finding 7: debug pages


DEBUG_PAGES = [
    "/-/allow-debug",
    "/-/threads",
    "/-/threads.json",
    "/-/versions.json",
    "/-/settings.json",
    "/-/config.json",
    "/-/plugins.json",
    "/-/databases.json",
    "/-/metadata.json",
    "/-/permissions",
    "/-/messages",
    "/-/patterns",
]


@pytest.mark.parametrize("role", [None, *ROLES])
def test_debug_pages_are_for_administrators_only(ds: Datasette, role: str | None) -> None:
    for page in DEBUG_PAGES:
        response = get(ds, page, actor_for(role))
        if role == "administrator":
            assert response.status_code in (200, 301, 302), page
        else:
            assert response.status_code == 403, (role, page)
            # Nothing of the page leaks into the refusal.
            assert "ThreadPoolExecutor" not in response.text and "sqlite_version" not in response.text
            if role is not None:
                assert "This page is for administrators." in response.text, page


def test_the_refusal_for_someone_not_signed_in_offers_sign_in(db: Path) -> None:
    ds = make_datasette(db, sign_in_url="/login")
    response = get(ds, "/-/allow-debug")
    assert response.status_code == 403 and "/login?next=" in response.text


def test_administrators_see_the_debug_pages_themselves(ds: Datasette, db: Path) -> None:
    admin = actor_for("administrator")
    assert "num_threads" in get(ds, "/-/threads.json", admin).json()
    assert [d["name"] for d in get(ds, "/-/databases.json", admin).json()] == [db.stem]
    assert "Debug allow rules" in get(ds, "/-/allow-debug", admin).text
    assert get(ds, "/-/permissions", admin).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_everyone_signed_in_still_sees_who_they_are(ds: Datasette, role: str) -> None:
    response = get(ds, "/-/actor.json", actor_for(role))
    assert response.status_code == 200 and response.json()["actor"]["roles"] == [role]
    assert get(ds, "/-/actor.json").status_code == 403


# ------------------------------------------------------------ finding 7: CSV formulas


def cells(text: str, column: str) -> list[str]:
    return [row[column] for row in csv.DictReader(io.StringIO(text, newline=""))]


@pytest.mark.parametrize("extra", ["", "&_stream=on&_size=2", "&_dl=1", "&_trace=1"])
def test_the_table_csv_neutralises_formulas_like_the_apps_own_export(
    ds: Datasette, db: Path, extra: str
) -> None:
    response = get(ds, f"/{db.stem}/status_history.csv?ref__startswith=F&_sort=ref{extra}", AUDITOR)
    assert response.status_code == 200
    assert cells(response.text, "update") == [neutralise(f) for f in FORMULAS]
    assert all(cell.startswith("'") for cell in cells(response.text, "update"))


def test_the_query_csv_neutralises_formulas_and_leaves_numbers(ds: Datasette, db: Path) -> None:
    query = (
        "select \"update\", -5 as n, '-12.16%' as pct, 'plain' as t, char(9) || '=1+2' as tab, "
        "char(13) || '=1+2' as cr from status_history where ref like 'F%' order by ref"
    )
    for extra in ("", "&_stream=on"):
        response = get(ds, sql(db, query, fmt="csv") + extra, ANALYST)
        assert response.status_code == 200
        assert cells(response.text, "update") == [neutralise(f) for f in FORMULAS]
        assert set(cells(response.text, "tab")) == {"'\t=1+2"}
        assert set(cells(response.text, "cr")) == {"'\r=1+2"}
        assert set(cells(response.text, "n")) == {"-5"}
        assert set(cells(response.text, "pct")) == {"-12.16%"} and set(cells(response.text, "t")) == {"plain"}


def test_csv_records_split_in_any_chunks_come_out_whole() -> None:
    original = 'a,b\r\n"=x\r\n""y""",+A1\r\n@z,-5\r\n'
    records = _Records()
    chunks = [records.feed(original.encode()[i : i + 1]) for i in range(len(original))]
    out = b"".join(chunks) + records.finish()
    assert list(csv.reader(io.StringIO(out.decode(), newline=""))) == [
        ["a", "b"],
        ['\'=x\r\n"y"', "'+A1"],
        ["'@z", "-5"],
    ]


# ------------------------------------------------------------ finding 7: bad parameters


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/{db}/audit_log.json?_sort_desc=rowid", "Cannot sort table by rowid"),
        ("/{db}/audit_log.json?_sort=rowid", "Cannot sort table by rowid"),
        ("/{db}/audit_log.csv?_sort_desc=rowid", "Cannot sort table by rowid"),
        ("/{db}/audit_log?_sort_desc=rowid", "Cannot sort table by rowid"),
        ("/{db}/items.json?_sort=nope", "Cannot sort table by nope"),
        ("/{db}/items.json?_sort=ref&_sort_desc=ref", "Cannot use _sort and _sort_desc"),
        ("/{db}/current_status.json?_sort_desc=rowid", "Cannot sort table by rowid"),
        ("/{db}/current_status.json?_next=abc", "_next must be"),
        ("/{db}/items.json?_timelimit=abc", "_timelimit must be"),
        ("/{db}/items.json?_through=nope", "_through must be"),
        ("/{db}/items.json?_through={{}}", "_through must be"),
        ('/{db}/items.json?_through={{"table":"x","column":"y","value":1}}', "Invalid _through"),
        ("/{db}/items.csv?_timelimit=-5", "time limit"),
    ],
)
def test_a_bad_parameter_is_a_400_that_says_what_to_change(
    ds: Datasette, db: Path, path: str, message: str
) -> None:
    response = get(ds, path.format(db=db.stem), AUDITOR)
    assert response.status_code == 400, response.text[:300]
    assert message in response.text
    assert "Traceback" not in response.text


def test_any_other_failure_shows_nothing_of_the_servers_internals() -> None:
    class Request:
        args = MultiParams({})

    shown = replacement(Request(), RuntimeError("no such file /srv/secret/projections.db"))
    assert isinstance(shown, DatasetteError) and shown.status == 500
    assert shown.message == SERVER_ERROR_MESSAGE and "/srv" not in shown.message
