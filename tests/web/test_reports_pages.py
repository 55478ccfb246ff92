"""The reports pages: choose, view (live or as at), download, publish, prove, and who may."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_reports_support import Q1, record_plan
from web_helpers import DEMO_PASSWORD, DEMO_USERS, OTHER_PROGRAMME, PROGRAMME, AuthActions, words

import web.reports
from projections.reports import build_report, publish, render_html, render_xlsx
from web.backend import System

PERIOD = quote(Q1)
REPORT = f"/reports/{PROGRAMME}/committee"
DOCUMENT = f"{REPORT}/document?period={PERIOD}"
PUBLISH = f"{REPORT}/publish?period={PERIOD}"


@pytest.fixture
def app(app: Flask) -> Flask:
    # Until the lead registers the blueprint in create_app.
    if "reports" not in app.blueprints:
        web.reports.init_app(app)
    return app


@pytest.fixture
def plan(system: System) -> System:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    return system


def live_html(system: System) -> bytes:
    return render_html(build_report(system.projections_db, PROGRAMME, "committee", Q1))


def confirm_position(client: FlaskClient) -> str:
    html = client.get(PUBLISH).get_data(as_text=True)
    return re.search(r'name="position" type="hidden" value="(\d+)"', html)[1]


def test_a_reader_chooses_a_programme_then_a_period_then_a_report(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("auditor")
    index = client.get("/reports/").get_data(as_text=True)
    assert "Test plan" in index and "Other plan" in index
    programme = client.get(f"/reports/{PROGRAMME}/").get_data(as_text=True)
    assert "2024/25 Q1" in programme and "2023/24 Q4" in programme
    assert f'href="{REPORT}?period=2024/25+Q1"' in programme
    page = client.get(f"{REPORT}?period={PERIOD}").get_data(as_text=True)
    assert f'href="{REPORT}/document?period=2024/25+Q1"' in page
    assert f'href="{REPORT}/download.xlsx?period=2024/25+Q1"' in page
    assert "Publish this report" not in page  # auditors read; they never publish


def test_the_report_document_is_the_report_itself(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("analyst")
    response = client.get(DOCUMENT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.get_data() == live_html(plan)


def test_report_documents_allow_nothing_but_their_own_stylesheet(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    publish.publish(plan, PROGRAMME, "committee", Q1, actor="demo-programme-manager")
    auth.login("analyst")
    for url in (DOCUMENT, f"{REPORT}/published?period={PERIOD}"):
        response = client.get(url)
        style = re.search(rb"<style>(.*?)</style>", response.get_data(), re.S)[1]
        digest = base64.b64encode(hashlib.sha256(style).digest()).decode()
        assert response.headers["Content-Security-Policy"].split("; ") == [
            "default-src 'none'",
            f"style-src 'sha256-{digest}'",
            "img-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
            "sandbox",
        ], url


def test_the_spreadsheet_download(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    auth.login("analyst")
    response = client.get(f"{REPORT}/download.xlsx?period={PERIOD}")
    assert response.status_code == 200
    assert response.mimetype == web.reports.XLSX_TYPE
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="test-plan-committee-2024-25-q1.xlsx"'
    )
    assert response.get_data() == render_xlsx(build_report(plan.projections_db, PROGRAMME, "committee", Q1))


def test_a_report_as_at_an_earlier_log_position_shows_what_was_recorded_then(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    before = plan.ledger.get_log_position()
    then = live_html(plan)
    plan.ledger.record_status(
        PROGRAMME,
        "A1.1.1",
        period=Q1,
        status="Red",
        update="Rejected by committee.",
        mitigation="Redraft.",
        actor="officer",
        reason="Rejected",
    )
    auth.login("auditor")
    as_at = client.get(f"{DOCUMENT}&as_at={before}")
    assert as_at.status_code == 200
    assert as_at.get_data() == then  # the same bytes as the report built at that position
    assert b"Rejected by committee." in client.get(DOCUMENT).get_data()
    assert b"Rejected by committee." not in as_at.get_data()
    # A date works too; long before the programme was registered there is no report.
    assert client.get(f"{DOCUMENT}&as_at=2999-12-31").get_data() == client.get(DOCUMENT).get_data()
    assert client.get(f"{DOCUMENT}&as_at=2001-01-01").status_code == 404


def test_an_unreadable_as_at_or_period_is_explained_on_the_report_page(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("auditor")
    page = client.get(f"{REPORT}?period=Q9&as_at=yesterday").get_data(as_text=True)
    assert "There is a problem" in page
    assert "Enter a period like 2024/25 Q1" in page
    assert "neither a log position" in page
    assert client.get(f"{DOCUMENT}&as_at=yesterday").status_code == 400
    assert client.get(f"{REPORT}/document?period=Q9").status_code == 404


def test_officers_read_every_programmes_reports_but_do_not_publish(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("officer")
    index = client.get("/reports/").get_data(as_text=True)
    assert "Test plan" in index and "Other plan" in index
    assert client.get(DOCUMENT).status_code == 200
    assert client.get(f"/reports/{OTHER_PROGRAMME}/").status_code == 200
    assert client.get(f"/reports/{OTHER_PROGRAMME}/highlight/document?period=2026-01").status_code == 200
    assert client.get(PUBLISH).status_code == 403  # officers read; they do not publish


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("officer", 403),
        ("auditor", 403),
        ("analyst", 403),
        ("programme manager", 200),
        ("administrator", 403),  # administrators manage access, not content
    ],
)
def test_only_programme_managers_may_publish(
    client: FlaskClient, auth: AuthActions, plan: System, role: str, status: int
) -> None:
    auth.login(role)
    assert client.get(PUBLISH).status_code == status
    assert client.post(PUBLISH, data={}).status_code == status
    assert (
        publish.list_editions(plan.ledger, PROGRAMME, "committee", Q1) == []
    )  # an empty form records nothing


def test_a_programme_manager_publishes_after_confirming_and_the_edition_is_served_as_published(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    confirm = client.get(PUBLISH).get_data(as_text=True)
    assert "Publish the performance report for 2024/25 Q1" in confirm
    expected = live_html(plan)

    response = client.post(PUBLISH, data={"position": confirm_position(client), "reason": ""})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/reports/{PROGRAMME}/publications"
    [edition] = publish.list_editions(plan.ledger, PROGRAMME, "committee", Q1)
    assert edition.content_sha256 == hashlib.sha256(expected).hexdigest()
    listing = client.get(f"/reports/{PROGRAMME}/publications").get_data(as_text=True)
    assert "published (edition 1, from log position" in listing
    assert re.sub(r"<wbr>", "", listing).count(edition.content_sha256) == 1
    assert f'<td class="govuk-table__cell">{edition.log_position}</td>' in listing

    plan.ledger.record_status(
        PROGRAMME, "A2.1.2", period=Q1, status="Green", update="Planted.", actor="officer"
    )
    served = client.get(f"{REPORT}/published?period={PERIOD}&edition=1")
    assert served.status_code == 200
    assert served.get_data() == expected  # the stored bytes, untouched
    assert served.headers["Content-Type"] == "text/html; charset=utf-8"
    assert served.headers["X-Content-SHA256"] == edition.content_sha256
    assert served.headers["X-Govledger-Source"] == "stored"


def test_publishing_again_needs_a_reason(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    publish.publish(plan, PROGRAMME, "committee", Q1, actor="demo-programme-manager")
    auth.login("programme manager")
    page = client.post(PUBLISH, data={"position": confirm_position(client), "reason": ""})
    assert page.status_code == 200
    assert "Give a reason: why the report is published again." in page.get_data(as_text=True)
    response = client.post(
        PUBLISH, data={"position": confirm_position(client), "reason": "Corrected figures"}
    )
    assert response.status_code == 302
    assert len(publish.list_editions(plan.ledger, PROGRAMME, "committee", Q1)) == 2


def test_publishing_is_refused_when_the_ledger_moved_on_after_the_confirm_page(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("programme manager")
    seen = confirm_position(client)
    plan.ledger.record_status(
        PROGRAMME, "A2.1.2", period=Q1, status="Green", update="Planted.", actor="officer"
    )
    page = client.post(PUBLISH, data={"position": seen, "reason": ""})
    assert page.status_code == 200
    assert "The ledger has changed since you looked" in page.get_data(as_text=True)
    assert publish.list_editions(plan.ledger, PROGRAMME, "committee", Q1) == []
    assert confirm_position(client) == str(plan.ledger.get_log_position())


def test_changes_after_publication_are_listed(client: FlaskClient, auth: AuthActions, plan: System) -> None:
    publish.publish(plan, PROGRAMME, "committee", Q1, actor="demo-programme-manager")
    auth.login("auditor")
    changes = f"{REPORT}/changes?period={PERIOD}"
    before = client.get(changes).get_data(as_text=True)
    assert "Nothing has been recorded for 2024/25 Q1 since this edition was built." in before
    assert "now says the same as this edition" in before

    plan.ledger.record_status(
        PROGRAMME,
        "A1.2.1",
        period=Q1,
        status="Amber",
        update="Recovering.",
        mitigation="Board review.",
        actor="demo-officer",
        reason="Proposals arrived",
    )
    after = client.get(changes).get_data(as_text=True)
    assert "now differs from this edition" in after
    assert "Item A1.2.1" in after and "demo-officer" in after and "Proposals arrived" in after
    assert "Changes to the programme's records since" in after
    assert "None since this edition was built." in after

    # A move belongs to no period: it is listed apart, as every later report shows it.
    plan.ledger.move_item(PROGRAMME, "A1.2.1", "", actor="demo-programme-manager", reason="Now corporate")
    moved = words(client.get(changes).get_data(as_text=True))
    records = moved[moved.index("Changes to the programme's records since"):]
    assert "Item A1.2.1 moved to the top of the programme Now corporate" in records
    assert "moved to the top" not in moved[:moved.index("Changes to the programme's records since")]


def test_a_tampered_published_copy_is_rebuilt_or_refused(
    client: FlaskClient, auth: AuthActions, plan: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    edition = publish.publish(plan, PROGRAMME, "committee", Q1, actor="demo-programme-manager")
    original = publish.get_published(plan, PROGRAMME, "committee", Q1)
    stored = publish.stored_path(plan.data_dir, edition.content_sha256)
    stored.chmod(0o644)
    stored.write_bytes(original.replace(b"Deliver the savings", b"Deliver the bonuses"))
    auth.login("auditor")
    url = f"{REPORT}/published?period={PERIOD}"

    rebuilt = client.get(url)
    assert (rebuilt.status_code, rebuilt.get_data()) == (200, original)
    assert rebuilt.headers["X-Govledger-Source"] == "rebuilt"

    monkeypatch.setattr(publish, "render_html", lambda report: b"<p>changed templates</p>")
    refused = client.get(url)
    assert refused.status_code == 409
    assert "cannot be proven" in refused.get_data(as_text=True)


def test_unpublished_reports_and_unknown_programmes_are_not_found(
    client: FlaskClient, auth: AuthActions, plan: System
) -> None:
    auth.login("auditor")
    assert client.get(f"{REPORT}/published?period={PERIOD}").status_code == 404
    assert client.get(f"{REPORT}/changes?period={PERIOD}").status_code == 404
    assert client.get("/reports/nope/").status_code == 404
    assert client.get(f"/reports/{PROGRAMME}/gossip?period={PERIOD}").status_code == 404


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"WTF_CSRF_ENABLED": True}

    def test_publishing_without_the_csrf_token_is_refused(self, client: FlaskClient, plan: System) -> None:
        token = re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)
        )[1]
        client.post(
            "/login",
            data={
                "username": DEMO_USERS["programme manager"],
                "password": DEMO_PASSWORD,
                "csrf_token": token,
            },
        )
        assert client.get(PUBLISH).status_code == 200
        response = client.post(PUBLISH, data={"position": str(plan.ledger.get_log_position())})
        assert response.status_code == 400
        assert publish.list_editions(plan.ledger, PROGRAMME, "committee", Q1) == []
