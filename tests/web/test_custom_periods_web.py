"""Issue 11 item 7 on the web: a programme on periods it defines (P2, P4). The dashboard's
period choice, the quarter-over-quarter grid, the committee report's page and the
update form's period choices use its periods; a period it did not define is not found."""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask.testing import FlaskClient
from test_custom_periods import FILES, P2, P4, write
from web_helpers import DEMO_USERS, AuthActions

from ledger.transfer.importing import import_file
from projections.reports import publish
from web.backend import System


def trust(system: System, tmp_path: Path) -> None:
    result = import_file(system.ledger, write(tmp_path / "trust", FILES), actor="setup")
    assert result.problems == [], result.problems
    system.ledger.assign_programme(DEMO_USERS["officer"], "trust", actor="setup")


def get(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def test_the_dashboard_chooses_among_the_programme_s_periods(
    client: FlaskClient, auth: AuthActions, system: System, tmp_path: Path
) -> None:
    trust(system, tmp_path)
    auth.login("officer")
    assert P4 in get(client, "/programmes/trust/dashboard")  # the latest period by its dates
    assert P2 in get(client, "/programmes/trust/dashboard?period=2024/25+p2")
    get(client, "/programmes/trust/dashboard?period=2024/25+P3", 404)
    history = get(client, "/programmes/trust/history")
    assert history.index(P2) < history.index(P4)


def test_the_committee_report_page_takes_the_programme_s_periods(
    client: FlaskClient, auth: AuthActions, system: System, tmp_path: Path
) -> None:
    trust(system, tmp_path)
    auth.login("programme manager")
    page = get(client, f"/reports/trust/committee?period={P4}")
    assert "Enter a period like" not in page
    refused = get(client, "/reports/trust/committee?period=2024/25+Q1")
    assert f"Enter a period like {P2}" in refused


def test_the_update_form_offers_the_programme_s_periods(
    client: FlaskClient, auth: AuthActions, system: System, tmp_path: Path
) -> None:
    trust(system, tmp_path)
    auth.login("officer")
    form = get(client, "/programmes/trust/items/CA1/update")
    offered = re.findall(r'<option value="([^"]+)"', form)
    assert P2 in offered and P4 in offered
    assert not [o for o in offered if " Q" in o or re.fullmatch(r"\d{4}-\d{2}", o)]


def test_a_programme_with_no_periods_yet_sends_officers_to_define_them(
    client: FlaskClient, auth: AuthActions, system: System, tmp_path: Path
) -> None:
    files = {kind: FILES[kind] for kind in ("programmes", "items")}
    assert import_file(system.ledger, write(tmp_path / "t", files), actor="setup").problems == []
    system.ledger.assign_programme(DEMO_USERS["officer"], "trust", actor="setup")
    auth.login("officer")
    before = system.ledger.get_log_position()
    get(client, "/my-items")  # lists nothing for it, and does not fail
    response = client.get("/programmes/trust/items/CA1/update")
    assert response.status_code == 302 and response.location.endswith("/programmes/trust/dashboard")
    assert "has no reporting periods defined yet" in get(client, "/programmes/trust/dashboard")
    assert system.ledger.get_log_position() == before


def test_a_history_grid_of_the_programme_s_periods_uploads(
    client: FlaskClient, auth: AuthActions, system: System, tmp_path: Path
) -> None:


    trust(system, tmp_path)
    system.ledger.assign_programme(DEMO_USERS["programme manager"], "trust", actor="setup")
    auth.login("programme manager")
    grid = f"programme,ref,{P2},{P4}\ntrust,CA1,Amber,Green\ntrust,CA2,Green,Amber\n".encode()
    response = client.post("/import", data={"file": (io.BytesIO(grid), "history.csv"),
                                            "restate_reason": "Corrected by the trust"},
                           content_type="multipart/form-data")
    page = " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())
    assert response.status_code == 200 and "Check what will be recorded" in page, page[:2000]
    assert f"Periods for trust (2): {P2}, {P4}" in page and f"trust CA2 {P4} Red Amber" in page


def test_a_report_published_for_a_defined_period_has_an_open_data_address(
    client: FlaskClient, system: System, tmp_path: Path
) -> None:
    trust(system, tmp_path)
    publish.publish(system, "trust", "committee", P4, actor="setup")
    index = get(client, "/published/")
    assert 'href="/published/trust/2024-25-P4"' in index
    page = get(client, "/published/trust/2024-25-P4")
    assert P4 in page and 'href="/published/trust/2024-25-P4/committee.html"' in page
    assert "Early help" in get(client, "/published/trust/2024-25-p4/committee.html")
    get(client, "/published/trust/2024-25-P2", 404)  # defined, not published
    get(client, "/published/trust/2024-25-P3", 404)  # not defined
