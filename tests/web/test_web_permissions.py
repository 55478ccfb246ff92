"""Every route has a declared permission, and every role gets what the table says.

Adding a route? Add a row to MATRIX: the completeness test fails until you do.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_helpers import DEMO_USERS, OTHER_PROGRAMME, PROGRAMME, AuthActions, app_test_config

import web.home
from ledger.domain import ROLES
from web import create_app
from web.backend import open_system
from web.permissions import can_write, permission_of, undeclared_endpoints

ANONYMOUS = "anonymous"
WHO = (ANONYMOUS, *ROLES)


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(WHO, status)


def signed_in(status: int = 200) -> dict[str, int]:
    """Any signed-in role gets `status`; anonymous is sent to sign in."""
    return {ANONYMOUS: 302, **dict.fromkeys(ROLES, status)}


def only(*roles: str, status: int = 200) -> dict[str, int]:
    """`roles` get `status`; other signed-in roles 403; anonymous is sent to sign in."""
    assert set(roles) <= set(ROLES)
    return {ANONYMOUS: 302, **{r: status if r in roles else 403 for r in ROLES}}


def signed_out(status: int) -> dict[str, int]:
    """Pages for signing in: anonymous gets `status`; the signed-in are sent home."""
    return {ANONYMOUS: status, **dict.fromkeys(ROLES, 302)}


ADMIN = only("administrator")
# Administrators manage access, not content: they do not publish.
PUBLISHERS = only("programme manager")
REPORTS = f"/reports/{PROGRAMME}/committee"
Q1 = "period=2024/25%20Q1"
NO_POST = everyone(405)
ACCOUNT = f"/admin/accounts/{DEMO_USERS['officer']}"
WRITERS = only("officer", "programme manager")
# The seeded programmes hold no items, risks... yet: writers get past the permission
# check to "not found"; everyone else is stopped before it.
WRITERS_404 = only("officer", "programme manager", status=404)
UPDATES = f"/programmes/{PROGRAMME}"
NO_JOB = "00000000-0000-4000-8000-000000000000"
AUDIT_READERS = only("auditor", "analyst", "administrator", "programme manager")


@dataclass(frozen=True)
class Row:
    endpoint: str
    url: str
    get: dict[str, int]
    post: dict[str, int]

    def __str__(self) -> str:
        return self.endpoint


# POSTs send an empty form: a permitted user gets the form back with errors (200), so
# nothing is ever recorded by this test.
MATRIX: list[Row] = [
    Row("auth.login", "/login", get=signed_out(200), post=signed_out(200)),
    Row("auth.logout", "/logout", get=everyone(405), post=signed_in(302)),
    Row("auth.change_password", "/account/password", get=signed_in(), post=signed_in()),
    Row("home.index", "/", get=signed_in(), post=NO_POST),
    Row("home.static", "/static/govledger.css", get=everyone(200), post=NO_POST),
    Row("home.assets", "/assets/images/favicon.svg", get=everyone(200), post=NO_POST),
    Row("home.favicon", "/favicon.ico", get=everyone(200), post=NO_POST),
    Row("admin.accounts", "/admin/accounts", get=ADMIN, post=NO_POST),
    Row("admin.new_account", "/admin/accounts/new", get=ADMIN, post=ADMIN),
    Row("admin.account", ACCOUNT, get=ADMIN, post=NO_POST),
    Row("admin.grant_role", f"{ACCOUNT}/grant-role", get=ADMIN, post=ADMIN),
    Row("admin.revoke_role", f"{ACCOUNT}/revoke-role", get=ADMIN, post=ADMIN),
    Row("admin.assign_programme", f"{ACCOUNT}/assign-programme", get=ADMIN, post=ADMIN),
    Row("admin.unassign_programme", f"{ACCOUNT}/unassign-programme", get=ADMIN, post=ADMIN),
    Row("admin.deactivate", f"{ACCOUNT}/deactivate", get=ADMIN, post=ADMIN),
    Row("admin.reactivate", f"{ACCOUNT}/reactivate", get=ADMIN, post=ADMIN),
    Row("admin.set_password", f"{ACCOUNT}/password", get=ADMIN, post=ADMIN),
    Row("admin.set_email", f"{ACCOUNT}/email", get=ADMIN, post=ADMIN),
    # Leads are accounts (tests/web/test_cycle_pages.py repeats these with real records):
    # nothing is seeded, so administrators reach "not found" on one lead or item.
    Row("scales.scales", "/admin/scales", get=ADMIN, post=NO_POST),
    Row("scales.new_scale", "/admin/scales/new", get=ADMIN, post=ADMIN),
    Row("scales.revise_scale", "/admin/scales/rag/revise", get=ADMIN, post=ADMIN),
    Row("scales.programme_scale", f"/admin{UPDATES}/scale", get=ADMIN, post=ADMIN),
    Row("leads.leads", "/admin/leads", get=ADMIN, post=NO_POST),
    Row("leads.link_lead", "/admin/leads/link?lead_officer=Nobody", get=only("administrator", status=404),
        post=only("administrator", status=404)),
    Row("leads.item_lead", f"/admin{UPDATES}/items/A1/lead", get=only("administrator", status=404),
        post=only("administrator", status=404)),
    Row("reports.index", "/reports/", get=signed_in(), post=NO_POST),
    Row("reports.programme", f"/reports/{PROGRAMME}/", get=signed_in(), post=NO_POST),
    Row("reports.report", f"{REPORTS}?{Q1}", get=signed_in(), post=NO_POST),
    Row("reports.document", f"{REPORTS}/document?{Q1}", get=signed_in(), post=NO_POST),
    Row("reports.download", f"{REPORTS}/download.xlsx?{Q1}", get=signed_in(), post=NO_POST),
    Row("reports.download_docx", f"{REPORTS}/download.docx?{Q1}", get=signed_in(), post=NO_POST),
    Row("reports.publish_report", f"{REPORTS}/publish?{Q1}", get=PUBLISHERS, post=PUBLISHERS),
    Row("reports.publications", f"/reports/{PROGRAMME}/publications", get=signed_in(), post=NO_POST),
    Row("reports.published", f"{REPORTS}/published?{Q1}", get=signed_in(404), post=NO_POST),
    Row("reports.changes", f"{REPORTS}/changes?{Q1}", get=signed_in(404), post=NO_POST),
    Row("reports.record", f"{REPORTS}/record?{Q1}", get=signed_in(404), post=NO_POST),
    # Open data (issue 13): public, read-only; nothing is published in the seeded data.
    Row("published.index", "/published/", get=everyone(200), post=NO_POST),
    Row("published.period", f"/published/{PROGRAMME}/2024-25-Q1", get=everyone(404), post=NO_POST),
    Row("published.document_file", f"/published/{PROGRAMME}/2024-25-Q1/committee.csv", get=everyone(404),
        post=NO_POST),
    # Officers' updates (tests/web/test_updates_access.py repeats these with real records).
    Row("updates.my_items", "/my-items", get=WRITERS, post=NO_POST),
    Row("updates.update_item", f"{UPDATES}/items/A1/update", get=WRITERS_404, post=WRITERS_404),
    Row("updates.correct_item", f"{UPDATES}/items/A1/correct", get=WRITERS_404, post=WRITERS_404),
    # Retire, merge or reinstate an item (issue 11): programme managers; no items are seeded.
    Row("updates.retire_item", f"{UPDATES}/items/A1/retire", get=only("programme manager", status=404),
        post=only("programme manager", status=404)),
    Row("updates.move_item", f"{UPDATES}/items/A1/move", get=only("programme manager", status=404),
        post=only("programme manager", status=404)),
    Row("updates.programme_details", f"{UPDATES}/details", get=only("programme manager"),
        post=only("programme manager")),
    Row("updates.change_item_kind", f"{UPDATES}/items/A1/kind", get=only("programme manager", status=404),
        post=only("programme manager", status=404)),
    Row("updates.risks", f"{UPDATES}/risks", get=WRITERS, post=NO_POST),
    Row("updates.raise_risk", f"{UPDATES}/risks/new", get=WRITERS, post=WRITERS),
    Row("updates.rerate_risk", f"{UPDATES}/risks/risk/R1/rerate", get=WRITERS_404, post=WRITERS_404),
    Row("updates.close_risk", f"{UPDATES}/risks/risk/R1/close", get=WRITERS_404, post=WRITERS_404),
    Row("updates.reopen_risk", f"{UPDATES}/risks/issue/I1/reopen", get=WRITERS_404, post=WRITERS_404),
    Row("updates.dependencies", f"{UPDATES}/dependencies", get=WRITERS, post=NO_POST),
    Row("updates.register_dependency", f"{UPDATES}/dependencies/new", get=WRITERS, post=WRITERS),
    Row("updates.review_dependency", f"{UPDATES}/dependencies/D1/review", get=WRITERS_404, post=WRITERS_404),
    # The dependency register (issue 12): anyone signed in reads it; writers name the sides
    # and confirm one (which programme's writers: tests/web/test_dependency_register.py).
    Row("dependencies.register", "/dependencies", get=signed_in(), post=NO_POST),
    Row("dependencies.name_sides", f"/dependencies/{PROGRAMME}/D1/sides", get=WRITERS_404, post=WRITERS_404),
    Row("dependencies.confirm_side", f"/dependencies/{PROGRAMME}/D1/confirm/provider", get=WRITERS_404,
        post=WRITERS_404),
    Row("updates.indicators", f"{UPDATES}/indicators", get=WRITERS, post=NO_POST),
    Row("updates.record_indicator", f"{UPDATES}/indicators/FTE/record", get=WRITERS_404, post=WRITERS_404),
    Row("updates.define_indicator", f"{UPDATES}/indicators/FTE/definition",
        get=only("programme manager", status=404), post=only("programme manager", status=404)),
    Row("updates.narrative", f"{UPDATES}/narrative", get=WRITERS, post=WRITERS),
    # Opening a period and extending it: programme managers of the programme.
    Row("updates.periods", f"{UPDATES}/periods", get=PUBLISHERS, post=PUBLISHERS),
    Row("updates.extend_period", f"{UPDATES}/periods/extend", get=PUBLISHERS, post=PUBLISHERS),
    # Review (tests/web/test_review_pages.py repeats these with real records): programme
    # managers; nothing is submitted in the seed, so they reach "not found" on an item.
    Row("updates.review_queue", "/review", get=PUBLISHERS, post=NO_POST),
    Row("updates.review_item", f"{UPDATES}/items/A1/review?{Q1}", get=only("programme manager", status=404),
        post=only("programme manager", status=404)),
    # An item's due date and indicators (issue 13): programme managers; no items are seeded.
    Row("updates.item_measures", f"{UPDATES}/items/A1/measures", get=only("programme manager", status=404),
        post=only("programme manager", status=404)),
    # Dashboards: every signed-in role reads every programme (tests/web/test_dashboards.py).
    Row("dashboards.programmes", "/programmes", get=signed_in(), post=NO_POST),
    Row("dashboards.dashboard", f"{UPDATES}/dashboard", get=signed_in(), post=NO_POST),
    Row("dashboards.history", f"{UPDATES}/history", get=signed_in(), post=NO_POST),
    Row("dashboards.search", "/search?q=plan", get=signed_in(), post=NO_POST),
    # Auditors' pages (tests/web/test_audit.py repeats these with real records). The
    # timeline is for everyone signed in: no items are seeded, so readers reach 404.
    Row("audit.timeline", f"{UPDATES}/items/A1/timeline", get=signed_in(404), post=NO_POST),
    Row("audit.why", f"{UPDATES}/items/A1/why?{Q1}", get=signed_in(404), post=NO_POST),
    Row("audit.narrative_diff", f"{UPDATES}/narrative-diff", get=AUDIT_READERS, post=NO_POST),
    Row("audit.as_at", f"{UPDATES}/as-at?when=1", get=AUDIT_READERS, post=NO_POST),
    Row("audit.changed_after_publication", f"{UPDATES}/changed-after-publication", get=AUDIT_READERS,
        post=NO_POST),
    Row("audit.verify_record", "/audit/verify", get=AUDIT_READERS, post=NO_POST),
    Row("audit.checkpoint", "/audit/verify/checkpoint", get=NO_POST,
        post=only("auditor", "administrator", status=302)),
    Row("audit.checkpoint_download", "/audit/verify/checkpoint.txt", get=AUDIT_READERS, post=NO_POST),
    # A kept C2SP checkpoint: none is kept in the seed, so readers reach "not found".
    Row("audit.kept_checkpoint_download", "/audit/verify/checkpoints/checkpoint-20260101T000000000000Z.txt",
        get=only("auditor", "analyst", "administrator", "programme manager", status=404), post=NO_POST),
    Row("audit.inclusion_proof_download", "/audit/proofs/1.json", get=AUDIT_READERS, post=NO_POST),
    Row("audit.log", "/audit/log", get=AUDIT_READERS, post=NO_POST),
    Row("audit.log_csv", "/audit/log.csv", get=AUDIT_READERS, post=NO_POST),
    # Spreadsheets in and out (tests/web/test_transfer.py): anyone signed in downloads;
    # programme managers import. An empty POST gets the form back with its error.
    Row("transfer.index", "/import-export", get=signed_in(), post=NO_POST),
    Row("transfer.export_xlsx", "/export.xlsx", get=signed_in(), post=NO_POST),
    Row("transfer.template_xlsx", "/import/template.xlsx", get=signed_in(), post=NO_POST),
    Row("transfer.upload", "/import", get=only("programme manager"), post=only("programme manager")),
    Row("transfer.confirm", "/import/confirm", get=everyone(405), post=only("programme manager")),
    # Background import jobs (tests/web/test_import_jobs.py): only the uploader's own; this
    # id is nobody's, so a programme manager gets past the role check to "not found".
    Row("transfer.job", f"/import/jobs/{NO_JOB}", get=only("programme manager", status=404), post=NO_POST),
    Row("transfer.retry_job", f"/import/jobs/{NO_JOB}/retry", get=everyone(405),
        post=only("programme manager", status=404)),
    # Rebuild and report jobs (tests/web/test_background_jobs.py): who sees one depends on
    # its kind, so anyone signed in gets past the sign-in check to "not found" for this id.
    Row("jobs.rebuild", "/admin/rebuild", get=ADMIN, post=ADMIN),
    Row("jobs.job", f"/jobs/{NO_JOB}", get=signed_in(404), post=NO_POST),
    Row("jobs.retry_job", f"/jobs/{NO_JOB}/retry", get=everyone(405), post=signed_in(404)),
    Row("jobs.download", f"/jobs/{NO_JOB}/download", get=signed_in(404), post=NO_POST),
    # An empty form is not a report to build: refused whole.
    Row("reports.build_in_background", f"{REPORTS}/build", get=everyone(405), post=signed_in(400)),
]

CASES = [
    pytest.param(row, method, who, id=f"{row}-{method}-{who}")
    for row in MATRIX
    for method in ("GET", "POST")
    for who in WHO
]


def test_every_view_declares_a_permission(app: Flask) -> None:
    assert undeclared_endpoints(app) == []


def test_the_matrix_covers_every_route(app: Flask) -> None:
    """Like GOV.UK Notify's route list: a route cannot appear or vanish unnoticed."""
    assert sorted(row.endpoint for row in MATRIX) == sorted(app.view_functions)
    assert len({row.endpoint for row in MATRIX}) == len(MATRIX)


def test_a_view_without_a_permission_stops_the_app_starting(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = web.home.init_app

    def init_app_with_an_open_route(new_app: Flask) -> None:
        original(new_app)
        new_app.add_url_rule("/open", "open", lambda: "anyone can see this")

    monkeypatch.setattr(web.home, "init_app", init_app_with_an_open_route)
    with pytest.raises(RuntimeError, match="without a declared permission: open"):
        create_app(app_test_config(app.config["DATA_DIR"]), system=app.extensions["govledger"].system)


@pytest.fixture(scope="module")
def matrix_app(seeded_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for every case: building an app per case made this test most of the
    suite's run time. Each case still gets its own client (cookies, session). Empty
    POSTs record nothing; rows whose POST does act (a checkpoint) must not change any
    other row's outcome."""
    data_dir = Path(shutil.copytree(seeded_data_dir, tmp_path_factory.mktemp("matrix") / "data"))
    system = open_system(data_dir)
    # Every case signs in afresh: lift the sign-in rate limit, not the rest.
    unlimited = {"LOGIN_RATE_LIMIT": "100000/minute", "LOGIN_RATE_LIMIT_PER_IP": "100000/minute"}
    yield create_app(app_test_config(data_dir, **unlimited), system=system)
    system.close()


@pytest.mark.parametrize(("row", "method", "who"), CASES)
def test_access(matrix_app: Flask, row: Row, method: str, who: str) -> None:
    client = matrix_app.test_client()
    if who != ANONYMOUS:
        assert AuthActions(client).login(who).status_code == 302
    expected = row.get[who] if method == "GET" else row.post[who]
    with client.open(row.url, method=method, data={}) as response:
        assert response.status_code == expected, response.get_data(as_text=True)[:500]
    if expected == 302 and who == ANONYMOUS and row.endpoint != "auth.login":
        assert response.headers["Location"].startswith("/login")


def test_permissions_are_described(app: Flask) -> None:
    described = {e: permission_of(v).describe() for e, v in app.view_functions.items()}
    assert described["admin.accounts"] == "administrator"
    assert described["home.index"] == "signed in"
    assert described["auth.login"] == "public"


def _user(roles: tuple[str, ...], programmes: tuple[str, ...] = (), active: bool = True):
    return SimpleNamespace(
        is_authenticated=True,
        is_active=active,
        roles=roles,
        programmes=programmes,
        has_role=lambda *wanted: any(r in roles for r in wanted),
    )


@pytest.mark.parametrize(
    ("roles", "programmes", "programme", "allowed"),
    [
        (("officer",), (PROGRAMME,), PROGRAMME, True),
        (("officer",), (PROGRAMME,), OTHER_PROGRAMME, False),
        (("officer",), (), PROGRAMME, False),
        (("programme manager",), (PROGRAMME,), PROGRAMME, True),
        (("programme manager",), (PROGRAMME,), OTHER_PROGRAMME, False),
        (("auditor",), (PROGRAMME,), PROGRAMME, False),
        (("analyst",), (PROGRAMME,), PROGRAMME, False),
        (("administrator",), (PROGRAMME,), PROGRAMME, False),
        (("officer", "auditor"), (PROGRAMME,), PROGRAMME.upper(), True),
    ],
)
def test_can_write(roles, programmes, programme, allowed) -> None:
    assert can_write(_user(roles, programmes), programme) is allowed


def test_deactivated_and_anonymous_users_never_write() -> None:
    assert not can_write(_user(("officer",), (PROGRAMME,), active=False), PROGRAMME)
    assert not can_write(SimpleNamespace(is_authenticated=False), PROGRAMME)


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("officer", {"Home", "Data"}),
        ("programme manager", {"Home", "Data"}),
        ("auditor", {"Home", "Data"}),
        ("analyst", {"Home", "Data"}),
        ("administrator", {"Home", "Accounts", "Data"}),
    ],
)
def test_navigation_shows_only_what_the_role_can_use(
    client: FlaskClient, auth: AuthActions, role: str, visible: set[str]
) -> None:
    auth.login(role)
    html = client.get("/").get_data(as_text=True)
    nav = html.split('id="navigation"')[1].split("</ul>")[0]
    for text in ("Home", "Accounts", "Data"):
        assert (f">{text}<" in nav or f">\n                    {text}\n" in nav) is (text in visible), text


def test_the_matrix_agrees_with_every_method_each_route_accepts(app: Flask) -> None:
    """Generated from the url_map: a route accepts exactly the methods its row expects to
    reach a view (anything other than 405 for someone), and only GET and POST exist."""
    rows = {row.endpoint: row for row in MATRIX}
    for rule in app.url_map.iter_rules():
        accepted = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        assert accepted <= {"GET", "POST"}, f"{rule.endpoint} accepts {accepted}: add those methods"
        row = rows[rule.endpoint]
        expected = {m for m, table in (("GET", row.get), ("POST", row.post)) if set(table.values()) != {405}}
        assert expected == accepted, f"{rule.endpoint}: table {expected}, route {accepted}"
