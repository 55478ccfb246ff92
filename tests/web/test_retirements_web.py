"""The quarter-over-quarter grid shows a merged item's later periods as "Retired (merged
into R5)", not as not rated, and a footnote recorded for a period as its note (issue 11)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from web_helpers import PROGRAMME, AuthActions

from web.backend import System


def test_the_grid_says_retired_merged_into(system: System, client: FlaskClient, auth: AuthActions) -> None:
    ledger = system.ledger
    for ref in ("R5", "R8"):
        ledger.register_item(PROGRAMME, ref, kind="priority", title=f"Risk {ref}", actor="a")
    ledger.record_status(PROGRAMME, "R5", period="2024/25 Q1", status="Green", actor="a")
    ledger.record_status(PROGRAMME, "R8", period="2024/25 Q1", status="Green", actor="a")
    ledger.retire_item(PROGRAMME, "R8", period="2024/25 Q2", merged_into="R5", reason="Board", actor="a")
    ledger.record_status(PROGRAMME, "R5", period="2024/25 Q2", status="Green", actor="a")
    ledger.note_item(PROGRAMME, "R8", period="2024/25 Q2", note="merged into R5", actor="a")
    auth.login("analyst")
    html = client.get(f"/programmes/{PROGRAMME}/history").get_data(as_text=True)
    row = re.search(r'<tr[^>]*data-ref="R8".*?</tr>', html, re.S)
    assert row is not None
    words = " ".join(re.sub(r"<[^>]+>", " ", row[0]).split())
    assert "Retired (merged into R5)" in words and "Not rated" not in words
    assert "Note: merged into R5" in words
