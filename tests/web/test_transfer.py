"""Spreadsheets in and out: the ledger and the template to download, and the upload page
(check, then record) for programme managers."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from import_bombs import bomb_workbook
from test_dashboards_seed import RATINGS, seed_plan
from web_helpers import DEMO_PASSWORD, DEMO_USERS, OTHER_PROGRAMME, PROGRAMME, AuthActions

from ledger.transfer import importing
from ledger.transfer.kinds import COLUMNS, KINDS, header
from ledger.transfer.read import README_SHEET
from ledger.transfer.template import documented_columns, readme_rows
from projections import queries
from web.accounts import create_account
from web.backend import System
from web.transfer import PRIVATE_FOLDER

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PM = DEMO_USERS["programme manager"]
EXPIRED = "Your check of the file has expired or was not made by you"


def table(kind: str, *rows: dict[str, str]) -> bytes:
    """A CSV file of `kind` with the given rows (missing columns empty)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS[kind])
    for row in rows:
        writer.writerow([row.get(column, "") for column in COLUMNS[kind]])
    return out.getvalue().encode()


def items(*refs: str, programme: str = PROGRAMME) -> bytes:
    rows = ({"programme": programme, "ref": ref, "kind": "action", "title": f"Do {ref}"} for ref in refs)
    return table("items", *rows)


def upload(client: FlaskClient, content: bytes, name: str, status: int = 200) -> str:
    response = client.post(
        "/import", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:1000]
    return html


def token_in(html: str) -> str:
    return re.search(r'<input[^>]*name="token"[^>]*value="([^"]+)"', html)[1]


def text(html: str) -> str:
    """Visible words, tags removed, entities for quotes undone, whitespace collapsed."""
    words = re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").replace("&#34;", '"')
    return " ".join(words.split())


def download(client: FlaskClient, url: str) -> openpyxl.Workbook:
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.mimetype == XLSX
        assert response.headers["Content-Disposition"].startswith("attachment; filename=")
        return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def workbook_bytes(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def waiting(data_dir: Path) -> list[Path]:
    folder = data_dir / PRIVATE_FOLDER
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def pm(auth: AuthActions) -> AuthActions:
    auth.login("programme manager")
    return auth


# ---------------------------------------------------------------- downloads


def test_the_template_has_a_sheet_per_kind_with_the_exact_header_row(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("analyst")
    book = download(client, "/import/template.xlsx")
    assert book.sheetnames == [README_SHEET, *KINDS]
    for kind in KINDS:
        rows = list(book[kind].iter_rows())
        assert len(rows) == 1, kind  # a header and nothing else
        assert [cell.value for cell in rows[0]] == header(kind)
        assert {cell.data_type for cell in rows[0]} == {"s"}  # text: nothing is evaluated


def test_the_read_me_describes_every_column_from_the_guide(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("auditor")
    sheet = download(client, "/import/template.xlsx")[README_SHEET]
    listed = {(kind, column.strip()) for kind, columns, *_ in sheet.iter_rows(values_only=True)
              if kind in KINDS for column in columns.split(",")}
    assert listed == {(kind, column) for kind in KINDS for column in header(kind)}
    rows = list(sheet.iter_rows(values_only=True))
    assert ("items", "ref", "yes", "unique within the programme, ignoring case: Aim 1, P1.1, A1.1.1, "
            "WS7, CA1") in rows
    assert ("statuses", "programme, ref, period", "yes", "which item, which period (2024/25 Q1, "
            "Q1 2024/25; 2026-01, January 2026)") in rows
    [correction] = [r for r in rows if r[:3] == ("statuses", "correction", "optional")]
    assert correction[3].startswith("yes records the row as a correction")


def test_the_guide_documents_every_column_the_importer_reads() -> None:
    """The Read me comes from docs/import-format.md: a column missing there would be
    listed with no meaning."""
    documented = documented_columns()
    for kind in KINDS:
        named = {column for columns, _ in documented[kind] for column in columns}
        assert set(header(kind)) <= named, kind
        assert all(required in ("yes", "optional") for _, required, _ in readme_rows(kind))


def test_the_empty_template_imports_as_is(client: FlaskClient, pm: AuthActions) -> None:
    book = download(client, "/import/template.xlsx")
    assert README_SHEET in book.sheetnames  # the guide sheet is ignored on upload
    html = upload(client, workbook_bytes(book), "template.xlsx")
    assert "Nothing new to record" in html


def test_the_audit_trail_names_the_file_as_the_user_called_it(
    client: FlaskClient, pm: AuthActions, system: System
) -> None:
    seed_plan(system.ledger)
    book = download(client, "/export.xlsx")
    sheet, columns = book["items"], COLUMNS["items"]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[columns.index("ref")].value == "A1.1.1")
    row[columns.index("title")].value = "A better title"
    for other in ("programmes", "statuses"):
        del book[other]  # only the change, from a sheet the person edited
    html = upload(client, workbook_bytes(book), "Q1 corrections.xlsx")
    assert client.post("/import/confirm", data={"token": token_in(html)}).status_code == 302
    timeline = queries.get_item_timeline(system.projections_db, PROGRAMME, "A1.1.1")
    assert (timeline[-1]["event_type"], timeline[-1]["reason"]) == (
        "Retitled",
        "Imported from Q1 corrections.xlsx",
    )


def test_the_ledger_downloads_in_the_import_format_and_imports_back_as_nothing_new(
    client: FlaskClient, pm: AuthActions, system: System, data_dir: Path
) -> None:
    seed_plan(system.ledger)
    system.ledger.assign_programme(PM, OTHER_PROGRAMME, actor="setup")  # the export has both
    with client.get("/export.xlsx") as response:
        assert response.status_code == 200
        assert response.mimetype == XLSX
        assert re.match(r'attachment; filename=governance-ledger-\d{4}-\d\d-\d\d\.xlsx$',
                        response.headers["Content-Disposition"])
        position = system.ledger.get_log_position()
        assert response.headers["X-Govledger-Log-Position"] == str(position)
        content = response.get_data()
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == list(KINDS)
    assert [r[0] for r in book["programmes"].iter_rows(min_row=2, values_only=True)] == [PROGRAMME,
                                                                                         OTHER_PROGRAMME]
    assert book["statuses"].max_row == 1 + sum(map(len, RATINGS.values()))  # every update ever recorded
    assert waiting(data_dir) == []  # the export's temporary file is gone

    html = upload(client, content, "ledger.xlsx")
    assert "Nothing new to record" in text(html)
    assert 'name="token"' not in html  # nothing to confirm
    assert system.ledger.get_log_position() == position
    assert waiting(data_dir) == []


def test_a_programme_without_a_contact_round_trips(
    client: FlaskClient, pm: AuthActions, system: System
) -> None:
    system.ledger.assign_programme(PM, OTHER_PROGRAMME, actor="setup")
    with client.get("/export.xlsx") as response:
        content = response.get_data()
    assert "Nothing new to record" in text(upload(client, content, "ledger.xlsx"))


def test_export_cells_that_look_like_formulas_stay_text(
    client: FlaskClient, auth: AuthActions, system: System
) -> None:
    system.ledger.register_item(PROGRAMME, "A1", kind="action", title="=1+1", actor="setup")
    auth.login("officer")
    sheet = download(client, "/export.xlsx")["items"]
    title = sheet.cell(row=2, column=COLUMNS["items"].index("title") + 1)
    assert (title.value, title.data_type) == ("=1+1", "s")


def test_everyone_signed_in_finds_the_downloads_and_only_programme_managers_the_upload(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("analyst")
    html = client.get("/import-export").get_data(as_text=True)
    assert 'href="/export.xlsx"' in html and 'href="/import/template.xlsx"' in html
    assert 'href="/import"' not in html
    assert "Import and export" in text(html.split('id="navigation"')[1].split("</ul>")[0])
    auth.logout()
    auth.login("programme manager")
    assert 'href="/import"' in client.get("/import-export").get_data(as_text=True)


# ---------------------------------------------------------------- checking an upload


def test_the_upload_page_is_a_govuk_file_upload(client: FlaskClient, pm: AuthActions) -> None:
    html = client.get("/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert '<label class="govuk-label govuk-label--m" for="file">' in html
    assert 'class="govuk-file-upload"' in html and 'accept=".xlsx,.csv"' in html
    assert "Up to 20 MB." in html
    assert PROGRAMME in text(html)  # the programmes they may import


def test_a_bad_status_is_reported_by_row_and_column_and_nothing_is_recorded(
    client: FlaskClient, pm: AuthActions, system: System, data_dir: Path
) -> None:
    system.ledger.register_item(PROGRAMME, "A1", kind="action", title="Do A1", actor="setup")
    before = system.ledger.get_log_position()
    content = table(
        "statuses",
        {"programme": PROGRAMME, "ref": "A1", "period": "2024/25 Q1", "status": "Green"},
        {"programme": PROGRAMME, "ref": "A1", "period": "2024/25 Q2", "status": "Purple"},
    )
    html = upload(client, content, "2024-25 Q2 statuses.csv")
    assert "<title>Error: " in html
    summary = text(html.split('class="govuk-error-summary"')[1].split("</ul>")[0])
    assert "2024-25 Q2 statuses.csv, row 3, column status: 'Purple' is not a status" in summary
    assert 'href="#problem-1"' in html
    problems = text(html.split('id="problems"')[1].split("</table>")[0])
    assert "2024-25 Q2 statuses.csv 3 status 'Purple' is not a status" in problems
    assert 'name="token"' not in html
    assert system.ledger.get_log_position() == before
    assert waiting(data_dir) == []


def test_many_problems_are_all_in_the_table_and_the_first_ten_in_the_summary(
    client: FlaskClient, pm: AuthActions
) -> None:
    rows = [{"programme": PROGRAMME, "ref": f"A{n}", "kind": "nonsense", "title": "x"} for n in range(12)]
    html = upload(client, table("items", *rows), "items.csv")
    assert html.count('href="#problem-') == 10
    assert "and 2 more, listed below" in html
    assert html.count('<tr class="govuk-table__row" id="problem-') == 12


def test_a_valid_csv_is_checked_then_recorded(
    client: FlaskClient, pm: AuthActions, system: System, data_dir: Path
) -> None:
    before = system.ledger.get_log_position()
    html = upload(client, items("A1", "A2"), "items.csv")
    assert "Check what will be recorded" in html
    assert "Recording this file will add 2 events to the ledger (items 2)." in html
    counts = text(html.split('id="counts"')[1].split("</table>")[0])
    assert "Items 2 0 0 2" in counts  # new, changed, unchanged, events
    changes = text(html.split('id="changes"')[1].split("</table>")[0])
    assert "items.csv 2 Items New Registered" in changes
    assert system.ledger.get_log_position() == before  # a check records nothing
    [folder] = waiting(data_dir)  # the checked rows wait, not the file: it was read once
    assert sorted(p.name for p in folder.iterdir()) == ["checked.json", "upload.json"]

    response = client.post("/import/confirm", data={"token": token_in(html)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "items.csv: Recorded 2 events (items: 2)." in client.get("/").get_data(as_text=True)
    assert system.ledger.get_log_position() == before + 2
    assert system.ledger.get_item(PROGRAMME, "A2")["title"] == "Do A2"
    assert queries.get_item(system.projections_db, PROGRAMME, "A1")["title"] == "Do A1"
    log = queries.get_audit_log(system.projections_db, programme=PROGRAMME, limit=2)
    assert {(row["actor"], row["reason"]) for row in log} == {(PM, "Imported from items.csv")}
    assert waiting(data_dir) == []


def test_an_upload_is_read_once_for_its_check_and_its_confirmation(
    client: FlaskClient, pm: AuthActions, system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[Path] = []
    read_tables = importing.read_tables

    def counting(path: Path, *args: Any) -> Any:
        reads.append(path)
        return read_tables(path, *args)

    monkeypatch.setattr(importing, "read_tables", counting)
    token = token_in(upload(client, items("A1", "A2"), "items.csv"))
    assert client.post("/import/confirm", data={"token": token}).status_code == 302
    assert len(reads) == 1
    assert system.ledger.get_item(PROGRAMME, "A2")["title"] == "Do A2"


def test_an_upload_is_recorded_once(client: FlaskClient, pm: AuthActions, system: System) -> None:
    token = token_in(upload(client, items("A1"), "items.csv"))
    assert client.post("/import/confirm", data={"token": token}).status_code == 302
    position = system.ledger.get_log_position()
    html = client.post("/import/confirm", data={"token": token}).get_data(as_text=True)
    assert EXPIRED in html
    assert system.ledger.get_log_position() == position


def test_nobody_else_can_confirm_an_upload(
    app: Flask, client: FlaskClient, pm: AuthActions, system: System
) -> None:
    token = token_in(upload(client, items("A1"), "items.csv"))
    create_account(
        system.ledger, app.extensions["govledger"].credentials, username="pm-two",
        display_name="Another manager", role="programme manager", password=DEMO_PASSWORD, actor="setup",
    )
    system.ledger.assign_programme("pm-two", PROGRAMME, actor="setup")
    before = system.ledger.get_log_position()
    other = app.test_client()
    AuthActions(other).login("pm-two")
    response = other.post("/import/confirm", data={"token": token})
    assert response.status_code == 200
    assert EXPIRED in response.get_data(as_text=True)
    assert system.ledger.get_log_position() == before
    # Their attempt does not spoil it for its owner.
    assert client.post("/import/confirm", data={"token": token}).status_code == 302
    assert system.ledger.get_log_position() == before + 1


def test_a_forged_token_is_refused(client: FlaskClient, pm: AuthActions, system: System) -> None:
    upload(client, items("A1"), "items.csv")
    before = system.ledger.get_log_position()
    for token in ("../../secret_key", "x" * 43, ""):
        html = client.post("/import/confirm", data={"token": token}).get_data(as_text=True)
        assert EXPIRED in html, token
    assert system.ledger.get_log_position() == before


class TestExpiry:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"IMPORT_UPLOAD_TTL": timedelta(seconds=-1)}

    def test_an_expired_check_cannot_be_recorded(
        self, client: FlaskClient, pm: AuthActions, system: System, data_dir: Path
    ) -> None:
        token = token_in(upload(client, items("A1"), "items.csv"))
        before = system.ledger.get_log_position()
        html = client.post("/import/confirm", data={"token": token}).get_data(as_text=True)
        assert EXPIRED in html
        assert '<a href="#file">' in html  # the error summary leads to the upload
        assert system.ledger.get_log_position() == before
        assert waiting(data_dir) == []


def test_a_file_touching_a_programme_not_assigned_is_refused_naming_it(
    client: FlaskClient, pm: AuthActions, system: System
) -> None:
    before = system.ledger.get_log_position()
    content = table(
        "items",
        {"programme": PROGRAMME, "ref": "A1", "kind": "action", "title": "Mine"},
        {"programme": OTHER_PROGRAMME, "ref": "B1", "kind": "action", "title": "Theirs"},
        {"programme": OTHER_PROGRAMME, "ref": "B2", "kind": "action", "title": "Theirs too"},
    )
    html = text(upload(client, content, "items.csv"))
    assert (f"items.csv, row 3, column programme: you are not assigned to programme '{OTHER_PROGRAMME}' "
            "(2 rows in this file)") in html
    assert "Check what will be recorded" not in html
    assert system.ledger.get_log_position() == before


def test_access_removed_between_check_and_confirm_records_nothing(
    client: FlaskClient, pm: AuthActions, system: System
) -> None:
    token = token_in(upload(client, items("A1"), "items.csv"))
    system.ledger.unassign_programme(PM, PROGRAMME, actor="setup", reason="Moved team")
    before = system.ledger.get_log_position()
    html = text(client.post("/import/confirm", data={"token": token}).get_data(as_text=True))
    assert "changed after you checked it" in html
    assert f"you are not assigned to programme '{PROGRAMME}'" in html
    assert system.ledger.get_log_position() == before


def test_when_the_ledger_moves_on_the_new_problems_are_shown_and_nothing_is_recorded(
    client: FlaskClient, pm: AuthActions, system: System, data_dir: Path
) -> None:
    token = token_in(upload(client, items("a1", "A2"), "items.csv"))
    system.ledger.register_item(PROGRAMME, "A1", kind="action", title="Someone else's", actor="setup")
    before = system.ledger.get_log_position()
    html = text(client.post("/import/confirm", data={"token": token}).get_data(as_text=True))
    assert "changed after you checked it" in html
    assert "items.csv, row 2, column ref: 'a1' is already in the ledger as 'A1'" in html
    assert system.ledger.get_log_position() == before  # not even A2: the whole file or nothing
    assert waiting(data_dir) == []


def test_a_file_that_is_not_a_workbook_gets_a_clear_error(
    client: FlaskClient, pm: AuthActions, system: System
) -> None:
    before = system.ledger.get_log_position()
    html = text(upload(client, b"Dear colleague, please find attached", "Q2 return.xlsx"))
    assert "Q2 return.xlsx: is not an Excel workbook (.xlsx), so it cannot be imported" in html
    assert "upload.xlsx" not in html  # the user's name for it, not ours
    assert system.ledger.get_log_position() == before


@pytest.mark.parametrize(
    "claimed_size, status, expected",
    [
        (None, 413, "Q2 return.xlsx: is compressed far more than any real workbook"),
        (2 * 1024 * 1024, 422, "Q2 return.xlsx: does not unpack to what its own index says"),
    ],
    ids=["bomb", "bomb whose index lies"],
)
def test_a_zip_bomb_is_refused_unread_and_nothing_is_recorded(
    client: FlaskClient, pm: AuthActions, system: System, data_dir: Path, tmp_path: Path,
    claimed_size: int | None, status: int, expected: str,
) -> None:
    before = system.ledger.get_log_position()
    bomb = bomb_workbook(tmp_path / "bomb.xlsx", claimed_size=claimed_size).read_bytes()
    html = text(upload(client, bomb, "Q2 return.xlsx", status=status))
    assert expected in html
    assert "Traceback" not in html
    assert system.ledger.get_log_position() == before
    assert waiting(data_dir) == []


def test_a_csv_whose_name_does_not_say_its_kind_gets_the_importers_advice(
    client: FlaskClient, pm: AuthActions
) -> None:
    html = text(upload(client, items("A1"), "data.csv"))
    assert "data.csv: does not say what it holds: name it after its kind" in html


def test_the_users_file_name_is_never_a_path(client: FlaskClient, pm: AuthActions, data_dir: Path) -> None:
    upload(client, items("A1"), "../../../secret items.csv")
    [folder] = waiting(data_dir)
    assert folder.stat().st_mode & 0o077 == 0  # private
    assert (data_dir / PRIVATE_FOLDER).stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in folder.iterdir()) == ["checked.json", "upload.json"]
    assert not any(data_dir.parent.glob("**/secret*"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Select a file"),
        ({"file": (io.BytesIO(b"x"), "notes.txt")},
         "The selected file must be an Excel workbook (.xlsx) or a CSV file"),
        ({"file": (io.BytesIO(b""), "items.csv")}, "The selected file is empty"),
    ],
)
def test_the_form_says_what_is_wrong_with_the_choice_of_file(
    client: FlaskClient, pm: AuthActions, data: dict, message: str
) -> None:
    response = client.post("/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<a href="#file">{message}</a>' in html  # the error summary links to the field
    assert 'id="file-error"' in html


class TestSizeLimit:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"IMPORT_MAX_BYTES": 1024}

    def test_a_file_over_the_limit_gets_the_form_back_with_an_error(
        self, client: FlaskClient, pm: AuthActions
    ) -> None:
        html = upload(client, items(*(f"A{n}" for n in range(100))), "items.csv")
        assert '<a href="#file">The selected file must be smaller than 1 KB</a>' in html

    def test_a_request_far_over_the_limit_is_refused_before_it_is_read(
        self, client: FlaskClient, pm: AuthActions
    ) -> None:
        html = upload(client, b"x" * 200_000, "items.csv", status=413)
        assert '<a href="#file">The selected file must be smaller than 1 KB</a>' in html
        assert "Traceback" not in html

    def test_others_never_see_the_upload_form(self, client: FlaskClient, auth: AuthActions) -> None:
        auth.login("analyst")
        html = upload(client, b"x" * 200_000, "items.csv", status=403)
        assert 'type="file"' not in html


class TestSizeLimitWithCsrf:
    """With CSRF on, the token check reads the body before the view's permission check."""

    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"IMPORT_MAX_BYTES": 1024, "WTF_CSRF_ENABLED": True}

    def test_others_get_the_plain_error_page(self, client: FlaskClient) -> None:
        login = client.get("/login").get_data(as_text=True)
        client.post("/login", data={"username": DEMO_USERS["analyst"], "password": DEMO_PASSWORD,
                                    "csrf_token": _csrf(login)})
        html = upload(client, b"x" * 200_000, "items.csv", status=413)
        assert "What you sent is too large" in html  # the app's own 413 page (issue 9)
        assert 'type="file"' not in html

    def test_a_programme_manager_gets_the_form_with_the_error(self, client: FlaskClient) -> None:
        login = client.get("/login").get_data(as_text=True)
        client.post("/login", data={"username": PM, "password": DEMO_PASSWORD, "csrf_token": _csrf(login)})
        html = upload(client, b"x" * 200_000, "items.csv", status=413)
        assert '<a href="#file">The selected file must be smaller than 1 KB</a>' in html
        assert 'name="csrf_token"' in html  # ready for the next try


# ---------------------------------------------------------------- CSRF


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"WTF_CSRF_ENABLED": True}

    def test_uploads_and_confirmations_need_the_token(self, client: FlaskClient, system: System) -> None:
        login = client.get("/login").get_data(as_text=True)
        client.post("/login", data={"username": PM, "password": DEMO_PASSWORD, "csrf_token": _csrf(login)})
        csrf = _csrf(client.get("/import").get_data(as_text=True))
        before = system.ledger.get_log_position()

        forged = client.post("/import", data={"file": (io.BytesIO(items("A1")), "items.csv")},
                             content_type="multipart/form-data")
        assert forged.status_code == 400
        assert "Your form could not be submitted" in forged.get_data(as_text=True)

        html = client.post(
            "/import", data={"file": (io.BytesIO(items("A1")), "items.csv"), "csrf_token": csrf},
            content_type="multipart/form-data",
        ).get_data(as_text=True)
        token = token_in(html)
        assert client.post("/import/confirm", data={"token": token}).status_code == 400
        assert system.ledger.get_log_position() == before

        confirmed = client.post("/import/confirm", data={"token": token, "csrf_token": _csrf(html)})
        assert confirmed.status_code == 302
        assert system.ledger.get_log_position() == before + 1


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)[1]
