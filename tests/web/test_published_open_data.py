"""Open data (issue 13, item 7): every published report at /published/, for anyone, with
no sign-in: exactly the published bytes (HTML and CSV), which hash to the SHA-256 the
ledger recorded, and nothing recorded after publication or never published."""

from __future__ import annotations

import csv
import hashlib
import io
import os

import pytest
from flask.testing import FlaskClient
from test_reports_support import Q1, record_plan
from web_helpers import OTHER_PROGRAMME, PROGRAMME, AuthActions

from projections.reports import publish
from web.backend import System

PAGE = f"/published/{PROGRAMME}/2024-25-Q1"
LATE_UPDATE = "The framework was rejected."


@pytest.fixture
def plan(system: System) -> System:
    record_plan(system.ledger, programme=PROGRAMME, register=False)
    return system


@pytest.fixture
def edition(plan: System) -> publish.Edition:
    return publish.publish(plan, PROGRAMME, "committee", Q1, actor="demo-programme-manager")


def rerate(system: System) -> None:
    """A re-rating recorded after the report was published."""
    system.ledger.record_status(
        PROGRAMME,
        "A1.1.1",
        period=Q1,
        status="Red",
        update=LATE_UPDATE,
        mitigation="Redraft for December.",
        actor="demo-officer",
        reason="Committee rejected the draft",
    )


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def test_an_anonymous_reader_finds_a_published_report_from_the_index(
    client: FlaskClient, edition: publish.Edition
) -> None:
    index = client.get("/published/")
    assert index.status_code == 200
    text = index.get_data(as_text=True)
    assert f'href="{PAGE}"' in text and "2024/25 Q1" in text
    assert "Other plan" not in text  # nothing published for it

    page = client.get(PAGE)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert edition.title.replace("–", "&ndash;") in body or edition.title in body
    # Every hash the ledger recorded for the edition is on the page, beside its file.
    digests = [edition.content_sha256, edition.documents["csv"]]
    assert all("<wbr>".join(d[i : i + 16] for i in range(0, 64, 16)) in body for d in digests)
    assert f'href="{PAGE}/committee/edition-1.csv"' in body and f'href="{PAGE}/committee.html"' in body


def test_the_published_files_are_the_stored_bytes_and_hash_to_the_recorded_sha256(
    client: FlaskClient, plan: System, edition: publish.Edition
) -> None:
    html = client.get(f"{PAGE}/committee.html")
    assert html.status_code == 200
    assert sha(html.get_data()) == edition.content_sha256
    assert html.get_data() == publish.get_published(plan, PROGRAMME, "committee", Q1)
    assert html.headers["X-Content-SHA256"] == edition.content_sha256
    assert "sandbox" in html.headers["Content-Security-Policy"]

    data = client.get(f"{PAGE}/committee/edition-1.csv")
    assert data.status_code == 200
    assert data.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in data.headers["Content-Disposition"]
    assert sha(data.get_data()) == edition.documents["csv"] == data.headers["X-Content-SHA256"]
    items = {r["ref"]: r for r in csv_rows(data.get_data()) if r["record"] == "item"}
    assert {ref: r["status"] for ref, r in items.items()} == {
        "A1.1.1": "Green",
        "A1.1.2": "Amber",
        "A1.2.1": "Red",
        "A2.1.1": "Not yet due",  # the alias, as the scale names it
        "A2.1.2": "Not recorded",
    }
    assert items["A1.1.2"]["mitigation"] == "Extra sessions booked for November."
    indicators = [r for r in csv_rows(data.get_data()) if r["record"] == "indicator"]
    assert indicators and all(r["period"] == Q1 for r in indicators)


def test_a_change_after_publication_does_not_leak(
    client: FlaskClient, plan: System, edition: publish.Edition
) -> None:
    rerate(plan)
    for url in (PAGE, f"{PAGE}/committee.html", f"{PAGE}/committee.csv"):
        response = client.get(url)
        assert response.status_code == 200
        assert LATE_UPDATE not in response.get_data(as_text=True)
    rows = csv_rows(client.get(f"{PAGE}/committee.csv").get_data())
    assert next(r for r in rows if r["ref"] == "A1.1.1")["status"] == "Green"


def test_a_second_edition_is_the_latest_and_the_first_keeps_its_address(
    client: FlaskClient, plan: System, edition: publish.Edition
) -> None:
    rerate(plan)
    second = publish.publish(plan, PROGRAMME, "committee", Q1, actor="pm", reason="Rerated")
    assert LATE_UPDATE in client.get(f"{PAGE}/committee.csv").get_data(as_text=True)
    assert sha(client.get(f"{PAGE}/committee.html").get_data()) == second.content_sha256
    first = client.get(f"{PAGE}/committee/edition-1.html").get_data()
    assert sha(first) == edition.content_sha256 and LATE_UPDATE.encode() not in first


def test_nothing_unpublished_is_served(client: FlaskClient, plan: System, edition: publish.Edition) -> None:
    assert client.get(f"/published/{PROGRAMME}/2023-24-Q4").status_code == 404  # recorded, unpublished
    assert client.get(f"/published/{PROGRAMME}/2023-24-Q4/committee.csv").status_code == 404
    assert client.get(f"{PAGE}/highlight.html").status_code == 404  # another report, unpublished
    assert client.get(f"/published/{OTHER_PROGRAMME}/2024-25-Q1").status_code == 404
    assert client.get("/published/no-such-plan/2024-25-Q1").status_code == 404
    assert client.get(f"/published/{PROGRAMME}/not-a-period").status_code == 404
    assert client.get(f"{PAGE}/committee/edition-2.csv").status_code == 404


def test_signed_in_readers_find_the_public_copy_from_the_published_reports(
    client: FlaskClient, auth: AuthActions, edition: publish.Edition
) -> None:
    auth.login("auditor")
    page = client.get(f"/reports/{PROGRAMME}/publications").get_data(as_text=True)
    assert f'href="{PAGE}"' in page


def test_the_period_has_one_stable_address(client: FlaskClient, edition: publish.Edition) -> None:
    response = client.get(f"/published/{PROGRAMME}/2024-25-q1")
    assert response.status_code == 301 and response.headers["Location"].endswith(PAGE)


def test_a_tampered_file_is_refused_not_served(
    client: FlaskClient, plan: System, edition: publish.Edition
) -> None:
    stored = publish.stored_path(plan.data_dir, edition.documents["csv"], "csv")
    published = stored.read_bytes()
    os.chmod(stored, 0o644)
    stored.write_bytes(published.replace(b"Green", b"Amber"))
    refused = client.get(f"{PAGE}/committee.csv")
    assert refused.status_code == 409 and b"A1.1.1" not in refused.get_data()  # nothing of it is shown
    assert "cannot be shown" in refused.get_data(as_text=True)
    # Signed-in readers' copy is rebuilt from the log and proved by the hash (publish).
    assert publish.fetch_document(plan, edition, "csv").content == published


def test_public_pages_carry_the_security_headers_and_need_no_sign_in(
    client: FlaskClient, auth: AuthActions, edition: publish.Edition
) -> None:
    for url in ("/published/", PAGE):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "default-src" in response.headers["Content-Security-Policy"]
        assert "Sign out" not in response.get_data(as_text=True)
    auth.login("officer")
    assert client.get(PAGE).status_code == 200
