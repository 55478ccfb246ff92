"""Word committee papers (issue 13, item 6): the committee, highlight and partnership
reports as .docx from the same report model as the HTML, with the same words, statuses
as shaded text, the chart as a picture, page numbers, a document-control table, and the
same bytes every time, so a published paper is stored and proved by its hash."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from lxml import html as lxml_html
from test_reports_support import PLAN, Q1, record_plan

from projections import queries
from projections.reports import build_report, render_html
from projections.reports import publish as pub
from projections.reports.model import REPORT_KINDS, Report
from projections.reports.word import CONTROL_HEADING, render_docx
from projections.system import System, open_system


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    with open_system(tmp_path / "data") as opened:
        record_plan(opened.ledger)
        yield opened


def report(system: System, kind: str = "committee") -> Report:
    return build_report(system.projections_db, PLAN, kind, Q1)


def tables(document: docx.document.Document) -> list[list[list[str]]]:
    """Each table's rows of cell texts (a merged cell once)."""
    return [
        [[cell.text for cell in dict.fromkeys(row.cells)] for row in table.rows] for table in document.tables
    ]


def is_control(element: object) -> bool:
    return element.tag == qn("w:tbl") and CONTROL_HEADING in "".join(t.text for t in element.iter(qn("w:t")))


def word_text(content: bytes) -> str:
    """Every word of the document's body but its document-control table, spaces aside."""
    body = docx.Document(io.BytesIO(content)).element.body
    return "".join(
        "".join(t.text or "" for t in child.iter(qn("w:t"))) for child in body if not is_control(child)
    ).replace(" ", "")


def html_text(content: bytes) -> str:
    """Every word of the HTML report's body, charts (SVG) aside, whitespace aside."""
    body = lxml_html.fromstring(content).find("body")
    for svg in body.findall(".//svg"):
        svg.drop_tree()
    return "".join(body.text_content().split())


@pytest.mark.parametrize("kind", list(REPORT_KINDS))
def test_the_paper_has_the_html_reports_words(system: System, kind: str) -> None:
    built = report(system, kind)
    assert "".join(word_text(render_docx(built)).split()) == html_text(render_html(built))


def test_the_paper_opens_and_holds_the_summary_numbers_with_statuses_shaded(system: System) -> None:
    built = report(system)
    document = docx.Document(io.BytesIO(render_docx(built)))
    summary = next(t for t in tables(document) if t[0][:1] == ["Status"] and "Description" in t[0])
    assert {row[0]: int(row[-1]) for row in summary[1:] if row[0] != "Total"} == {
        s.name: s.count for s in built.summary
    }
    assert summary[-1] == ["Total", str(built.total)]
    amber = next(c for t in document.tables for r in t.rows for c in r.cells if c.text == "Amber")
    assert amber._tc.tcPr.find(qn("w:shd")).get(qn("w:fill")) == "FFF2D3"


def test_the_chart_is_a_picture_with_its_numbers_as_alternative_text(system: System) -> None:
    document = docx.Document(io.BytesIO(render_docx(report(system))))
    described = [shape._inline.docPr.get("descr") for shape in document.inline_shapes]
    assert len(described) == 1 + len(report(system).indicator_trends)
    assert "2024/25 Q1: Green 1, Amber 1, Red 1, Not yet due 1 (total 4)." in described[0]


def test_page_numbers_and_the_document_control_table(system: System) -> None:
    built = report(system)
    document = docx.Document(io.BytesIO(render_docx(built, published_sha256="ab" * 32)))
    footer = document.sections[0].footer.paragraphs[0]._p
    assert [f.get(qn("w:instr")) for f in footer.iter(qn("w:fldSimple"))] == ["PAGE", "NUMPAGES"]
    control = dict(row for row in tables(document)[0][1:])
    assert control["Period"].startswith(Q1)
    assert f"log position {built.as_at.position}" in control["As at"]
    assert "ab" * 32 in control["Published"]
    unpublished = docx.Document(io.BytesIO(render_docx(built)))
    assert dict(row for row in tables(unpublished)[0][1:])["Published"].startswith("No")


def test_two_builds_give_the_same_bytes(system: System) -> None:
    first, second = render_docx(report(system)), render_docx(report(system))
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    properties = docx.Document(io.BytesIO(first)).core_properties
    assert properties.created.isoformat()[:16] == report(system).as_at.recorded_at[:16]


def test_publishing_stores_the_paper_by_its_hash_and_proves_it(system: System) -> None:
    edition = pub.publish(system, PLAN, "committee", Q1, actor="pm")
    digest = edition.documents["docx"]
    stored = pub.stored_path(system.data_dir, digest, "docx").read_bytes()
    assert hashlib.sha256(stored).hexdigest() == digest
    as_published = pub.build_as_at(system, PLAN, "committee", Q1, edition.log_position)
    assert stored == render_docx(as_published, edition.content_sha256)
    control = dict(row for row in tables(docx.Document(io.BytesIO(stored)))[0][1:])
    assert edition.content_sha256 in control["Published"]
    # The read model (Datasette's publications table) carries the hashes too.
    [row] = queries.get_publications(system.projections_db, PLAN)
    assert (row["docx_sha256"], row["csv_sha256"]) == (digest, edition.documents["csv"])
    # A missing copy is rebuilt from the log and accepted only because it hashes the same.
    pub.stored_path(system.data_dir, digest, "docx").unlink()
    copy = pub.fetch_document(system, edition, "docx")
    assert (copy.source, copy.content) == ("rebuilt", stored)
