"""The Word committee paper on the reports page (issue 13, item 6): a download beside the
spreadsheet, live or as at a point; the published paper is served at /published/."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import quote

import docx
from flask.testing import FlaskClient
from test_reports_support import Q1, record_plan
from web_helpers import PROGRAMME, AuthActions

from projections.reports import build_report, publish
from projections.reports.word import DOCX_TYPE, render_docx
from web.backend import System

REPORT = f"/reports/{PROGRAMME}/committee"


def test_a_reader_downloads_the_live_paper(client: FlaskClient, auth: AuthActions, system: System) -> None:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    auth.login("auditor")
    page = client.get(f"{REPORT}?period={quote(Q1)}").get_data(as_text=True)
    assert f'href="{REPORT}/download.docx?period=2024/25+Q1"' in page
    response = client.get(f"{REPORT}/download.docx?period={quote(Q1)}")
    assert response.status_code == 200 and response.mimetype == DOCX_TYPE
    assert 'filename="test-plan-committee-2024-25-q1.docx"' in response.headers["Content-Disposition"]
    assert response.get_data() == render_docx(build_report(system.projections_db, PROGRAMME, "committee", Q1))
    assert docx.Document(io.BytesIO(response.get_data())).core_properties.title.startswith(
        "Performance Report"
    )


def test_the_published_paper_is_open_data_and_hashes_to_the_recorded_sha256(
    client: FlaskClient, system: System
) -> None:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    edition = publish.publish(system, PROGRAMME, "committee", Q1, actor="demo-programme-manager")
    page = client.get(f"/published/{PROGRAMME}/2024-25-Q1").get_data(as_text=True)
    assert f'href="/published/{PROGRAMME}/2024-25-Q1/committee.docx"' in page
    paper = client.get(f"/published/{PROGRAMME}/2024-25-Q1/committee/edition-1.docx")
    assert paper.status_code == 200 and paper.mimetype == DOCX_TYPE
    assert hashlib.sha256(paper.get_data()).hexdigest() == edition.documents["docx"]
