"""Issue 11 item 4 on the web: a history grid whose cells disagree with the ledger is
refused on the upload page naming each cell, unless the upload gives a reason to restate
them; the reason is carried from the check to the confirmation and recorded."""

from __future__ import annotations

import io
import re
import sqlite3

from flask.testing import FlaskClient
from web_helpers import PROGRAMME, AuthActions

from web.backend import System

GRID = f"programme,ref,title,2024/25 Q1,2024/25 Q2\n{PROGRAMME},R1,Risk R1,Complete,Green\n".encode()


def post_upload(client: FlaskClient, reason: str = "", *, words: bool = True) -> str:
    response = client.post(
        "/import", data={"file": (io.BytesIO(GRID), "history.csv"), "restate_reason": reason},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()) if words else html


def test_a_restating_upload_needs_a_reason_and_records_it(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    system.ledger.register_item(PROGRAMME, "R1", kind="action", title="Risk R1", actor="setup")
    system.ledger.record_status(
        PROGRAMME, "R1", period="2024/25 Q1", status="Green", update="Fine", actor="setup"
    )
    before = system.ledger.get_log_position()
    auth.login("programme manager")
    refused = post_upload(client)
    assert "history.csv, row 2, column 2024/25 Q1" in refused and "recorded Green for 2024/25 Q1" in refused
    assert system.ledger.get_log_position() == before

    checked = post_upload(client, "Audit: Q1 was complete", words=False)
    found = re.search(r"<input[^>]*name=\"token\"[^>]*value=\"([^\"]+)\"", checked)
    assert found, " ".join(re.sub(r"<[^>]+>", " ", checked).split())[:1500]
    token = found[1]
    # The check page carries `import --dry-run`'s report: periods covered, what is new,
    # and each recorded period the file restates, before anything is confirmed.
    report = " ".join(re.sub(r"<[^>]+>", " ", checked).split())
    assert f"Periods for {PROGRAMME} (2): 2024/25 Q1, 2024/25 Q2" in report
    assert "Would restate 1 period already recorded" in report
    assert f"{PROGRAMME} R1 2024/25 Q1 Green Complete" in report
    assert system.ledger.get_log_position() == before  # checked, not yet recorded
    assert client.post("/import/confirm", data={"token": token}).status_code == 302
    with sqlite3.connect(system.projections_db) as conn:
        assert list(conn.execute(
            "SELECT period, status, restated, restated_reason FROM status_history "
            "WHERE ref = 'R1' ORDER BY period"
        )) == [
            ("2024/25 Q1", "Complete", 1, "Imported from history.csv: Audit: Q1 was complete"),
            ("2024/25 Q2", "Green", 0, ""),
        ]
