"""The dashboard's trend charts (issue 13, item 5): counts per status over the periods,
drawn by the same module as the committee report's, with a table of the same numbers,
and each indicator's direction of travel."""

from __future__ import annotations

import re
import sqlite3

from flask.testing import FlaskClient
from test_reports_support import Q1, record_plan
from web_helpers import PROGRAMME, AuthActions

from web.backend import System

Q2 = "2024/25 Q2"
DASHBOARD = f"/programmes/{PROGRAMME}/dashboard"


def test_the_dashboard_shows_the_trend_beside_a_table_of_rag_summarys_counts(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    system.ledger.record_status(PROGRAMME, "A1.2.1", period=Q2, status="Green", update="Found.", actor="o")
    auth.login("officer")
    html = client.get(f"{DASHBOARD}?period={Q2}").get_data(as_text=True)

    with sqlite3.connect(system.projections_db) as conn:
        summary = conn.execute(
            "SELECT period, status, count FROM rag_summary WHERE programme = ? AND count > 0", (PROGRAMME,)
        ).fetchall()
    expected = {(p, s): c for p, s, c in summary}
    drawn = {
        (p, s): int(c)
        for p, s, c in re.findall(r'data-period="([^"]+)" data-status="([^"]+)" data-count="(\d+)"', html)
    }
    assert drawn == expected and {p for p, _ in drawn} == {Q1, Q2}
    table = html[html.index('id="trend-table"') :]
    table = table[: table.index("</table>")]
    assert f">{Q1}</th>" in table and f">{Q2}</th>" in table
    green = re.search(r">Green</th>(.*?)</tr>", table, re.S)[1]
    assert re.findall(r">(\d+)</td>", green) == [str(expected[(Q1, "Green")]), str(expected[(Q2, "Green")])]
    # One direction-of-travel chart per indicator, each an image with its figures described.
    assert html.count('id="indicator-trends"') == 1
    assert "Vacancy rate: direction of travel (lower is better)" in html


def test_the_charts_follow_each_change(client: FlaskClient, auth: AuthActions, system: System) -> None:
    """Charts are kept by their figures (web.dashboards): a change draws a new one."""
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    auth.login("officer")

    def drawn() -> dict[tuple[str, str], str]:
        html = client.get(f"{DASHBOARD}?period={Q2}").get_data(as_text=True)
        found = re.findall(r'data-period="([^"]+)" data-status="([^"]+)" data-count="(\d+)"', html)
        return {(p, s): c for p, s, c in found}

    before = drawn()
    assert drawn() == before and (Q2, "Green") not in before
    system.ledger.record_status(PROGRAMME, "A1.2.1", period=Q2, status="Green", update="Found.", actor="o")
    assert drawn()[(Q2, "Green")] == "1"
