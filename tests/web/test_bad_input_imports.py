"""Hypothesis-generated imports through the real app, CSRF on (issue 16, item 1): every
import kind with generated headers (real columns dropped, repeated, re-cased, or any
text), generated cells, in any of five encodings or as a workbook that may be truncated
or corrupted; and the import confirmation form with generated tokens.

Each upload: no 5xx; the check records nothing; a refused file is shown with the GOV.UK
error summary. A file that passes the check is then confirmed through the confirmation
form: recorded whole, or refused with nothing recorded. GOVLEDGER_FUZZ_EXAMPLES sets the
examples per case, as for test_bad_input.py; the counts print at the end of the run.
"""

from __future__ import annotations

import io
import re
import sys
from collections import Counter
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from test_bad_input import FUZZ, VALUES
from test_every_error_at_once import csrf_token, sign_in
from test_updates import Q1, plan  # noqa: F401  (fixture)
from web_helpers import PROGRAMME

from ledger.transfer.kinds import COLUMNS, KINDS, OPTIONAL_COLUMNS
from web.backend import System

COUNTS: Counter[str] = Counter()
MANAGER = "programme manager"
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "utf-16", "mixed")

CELLS = st.one_of(
    VALUES.filter(lambda v: len(v) < 200),
    st.sampled_from([PROGRAMME, "A1.1", "A1.2", "R1", "D1", "FTE", Q1, "2024/25 Q2", "2024-06"]),
    st.sampled_from(["=1+2", "@SUM(A1)", "12.16%", "1e309", "31/02/2024", "TRUE", "£5,000"]),
)


@st.composite
def sheets(draw: st.DrawFn) -> tuple[str, list[list[str]]]:
    """A kind, and its rows: a header made from its columns (some dropped, repeated,
    re-cased or spaced) and any text, then up to five rows of generated cells."""
    kind = draw(st.sampled_from(KINDS))
    known = [*COLUMNS[kind], *OPTIONAL_COLUMNS.get(kind, ())]
    column = st.one_of(
        st.sampled_from(known),
        st.sampled_from(known).map(lambda c: c.replace("_", " ").title()),
        st.text(max_size=15),
    )
    header = draw(st.one_of(st.just(known), st.lists(column, max_size=len(known) + 2)))
    width = max(len(header), 1)
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=width + 1), max_size=5))
    return kind, [header, *rows]


@st.composite
def plausible_statuses(draw: st.DrawFn) -> tuple[str, list[list[str]]]:
    """Status rows for the plan's items with generated text: some pass the check, so the
    confirmation step is exercised too."""
    rows = [
        [
            PROGRAMME,
            draw(st.sampled_from(["A1.1", "A1.2", "A9"])),
            draw(st.sampled_from(["2024/25 Q2", "2024/25 Q3", Q1])),
            draw(st.sampled_from(["Green", "Amber", "Red", "Purple"])),
            draw(VALUES.filter(lambda v: len(v) < 200)),
            draw(st.one_of(st.just("Weekly review"), VALUES.filter(lambda v: len(v) < 200))),
            draw(st.one_of(st.just(""), st.just("Re-rated"))),
        ]
        for _ in range(draw(st.integers(1, 3)))
    ]
    return "statuses", [list(COLUMNS["statuses"]), *rows]


UPLOADS = st.one_of(sheets(), plausible_statuses())


def csv_bytes(rows: list[list[str]], encoding: str, delimiter: str) -> bytes:
    def line(row: list[str]) -> str:
        return delimiter.join('"' + cell.replace('"', '""') + '"' for cell in row) + "\r\n"

    if encoding == "mixed":  # a UTF-8 file with a Windows-1252 line in it
        return b"".join(
            line(row).encode("cp1252" if n % 2 else "utf-8", errors="replace") for n, row in enumerate(rows)
        )
    return "".join(line(row) for row in rows).encode(encoding, errors="replace")


def xlsx_bytes(kind: str, rows: list[list[str]], damage: str, where: float) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = kind
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    body = out.getvalue()
    at = int(len(body) * where)
    if damage == "truncated":
        return body[:at]
    if damage == "corrupted":  # 64 bytes overwritten somewhere inside the zip
        return body[:at] + bytes(b ^ 0x5A for b in body[at : at + 64]) + body[at + 64 :]
    return body


@pytest.fixture
def app_config() -> dict[str, bool]:
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    yield
    shown = ("tried", "refused correctly", "nothing to record", "checked", "accepted", "partial", "5xx")
    print("\nbad-input fuzz, imports: " + ", ".join(f"{k} {COUNTS[k]}" for k in shown), file=sys.__stdout__)


def upload(client: FlaskClient, system: System, name: str, body: bytes) -> None:
    """Upload through the form; if the check passes, confirm it. Asserts every promise."""
    token = csrf_token(client.get("/import").get_data(as_text=True))
    before = system.ledger.get_log_position()
    response = client.post(
        "/import",
        data={"csrf_token": token, "file": (io.BytesIO(body), name), "restate_reason": ""},
        content_type="multipart/form-data",
    )
    COUNTS["tried"] += 1
    COUNTS["5xx"] += response.status_code >= 500
    page = response.get_data(as_text=True)
    assert response.status_code < 500, page[:2000]
    after = system.ledger.get_log_position()
    COUNTS["partial"] += after != before
    assert after == before, "checking a file recorded events"
    confirm = re.search(r'name="token"[^>]*value="([^"]+)"', page)
    if confirm is None:
        if "Nothing new to record" in page:  # a valid file that changes nothing
            COUNTS["nothing to record"] += 1
            return
        assert 'class="govuk-error-summary"' in page, page[:2000]
        COUNTS["refused correctly"] += 1
        return
    COUNTS["checked"] += 1
    recorded = client.post("/import/confirm", data={"csrf_token": csrf_token(page), "token": confirm[1]})
    assert recorded.status_code < 500, recorded.get_data(as_text=True)[:2000]
    if recorded.status_code == 302:
        COUNTS["accepted"] += 1
    else:
        COUNTS["partial"] += system.ledger.get_log_position() != before
        assert system.ledger.get_log_position() == before, "a refused confirmation recorded events"


def test_generated_csv_imports(client: FlaskClient, plan: System) -> None:  # noqa: F811
    sign_in(client, MANAGER)

    @FUZZ
    @given(UPLOADS, st.sampled_from(ENCODINGS), st.sampled_from([",", ";"]), st.booleans())
    def post(sheet: tuple[str, list[list[str]]], encoding: str, delimiter: str, named: bool) -> None:
        kind, rows = sheet
        upload(
            client,
            plan,
            f"{kind}.csv" if named else "2024-25 Q2 anything.csv",
            csv_bytes(rows, encoding, delimiter),
        )

    post()


def test_generated_workbooks_whole_truncated_or_corrupt(client: FlaskClient, plan: System) -> None:  # noqa: F811
    sign_in(client, MANAGER)

    @FUZZ
    @given(UPLOADS, st.sampled_from(["whole", "truncated", "corrupted"]), st.floats(0.05, 0.95))
    def post(sheet: tuple[str, list[list[str]]], damage: str, where: float) -> None:
        kind, rows = sheet
        upload(client, plan, "upload.xlsx", xlsx_bytes(kind, rows, damage, where))

    post()


def test_generated_confirmation_tokens(client: FlaskClient, plan: System) -> None:  # noqa: F811
    sign_in(client, MANAGER)
    form = csrf_token(client.get("/import").get_data(as_text=True))

    @FUZZ
    @given(VALUES)
    def post(token: str) -> None:
        before = plan.ledger.get_log_position()
        response = client.post("/import/confirm", data={"csrf_token": form, "token": token})
        COUNTS["tried"] += 1
        COUNTS["5xx"] += response.status_code >= 500
        assert response.status_code < 500, response.get_data(as_text=True)[:2000]
        assert plan.ledger.get_log_position() == before
        page = response.get_data(as_text=True)
        assert 'class="govuk-error-summary"' in page and 'href="#file"' in page
        COUNTS["refused correctly"] += 1

    post()
