"""Reports as Word documents (python-docx), for councils that send committee papers as .docx.

The document is the report's own HTML (`render_html`, from the same `Report`) laid out
in Word: headings, paragraphs, bullets and tables in the same order with the same words,
so the paper can never say anything the web page does not. Statuses stay words, with
their band's shading; each chart is a PNG of the same drawing (projections.reports.charts;
Word cannot hold SVG) with the chart's title and numbers as its alternative text. Added
for Word alone: a document-control table at the top (period, as-at position, and the
published HTML's SHA-256 when the paper is part of a published edition) and page
numbers in the footer.

Same report, same bytes: the core properties are dated from the report's as-at time,
and the zip's entries get a fixed timestamp, so a published paper is proved by its hash.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document
from docx.document import Document as DocumentType
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from lxml import html as lxml_html
from markupsafe import Markup

from projections.reports import charts
from projections.reports.model import Report
from projections.reports.render import render_html
from projections.reports.xlsx import restamp_zip

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The band's shading, as the workbook and the HTML use it (hex without '#').
STATUS_SHADING = {
    "green": "CCE2D8",
    "amber": "FFF2D3",
    "red": "F6D7D2",
    "unrated": "F3F2F1",
    "none": "F3F2F1",
}
HEADER_SHADING = "F3F2F1"
HEADINGS = {"h1": 0, "h2": 1, "h3": 2, "h4": 3}
# Elements that only hold others: their children are laid out in turn.
CONTAINERS = ("section", "div", "figure", "header", "main", "footer")
CONTROL_HEADING = "Document control"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def render_docx(report: Report, published_sha256: str = "") -> bytes:
    """The report as a .docx; `published_sha256` names the published HTML it goes with."""
    doc = Document()
    _page_setup(doc, report)
    figures = _figures(report)
    body = lxml_html.fromstring(render_html(report)).find("body")
    header = body.find("header")
    _blocks(doc, header, figures)
    _control_table(doc, report, published_sha256)
    for element in body:
        if element is not header:
            _block(doc, element, figures)
    moment = _as_at_moment(report)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = report.title, "Governance Ledger", "Governance Ledger"
    props.created = props.modified = props.last_printed = moment
    props.revision, props.comments = 1, ""
    out = io.BytesIO()
    doc.save(out)
    return restamp_zip(out.getvalue())


# ---------------------------------------------------------------- the page


def _page_setup(doc: DocumentType, report: Report) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(10)
    footer = section.footer.paragraphs[0]
    footer.add_run(f"{report.title} – page ")
    _field(footer, "PAGE")
    footer.add_run(" of ")
    _field(footer, "NUMPAGES")


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word fills in when it lays the document out."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _control_table(doc: DocumentType, report: Report, published_sha256: str) -> None:
    published = (
        f"Yes: the published HTML edition's SHA-256 is {published_sha256}"
        if published_sha256
        else "No: built from the ledger, not a published edition"
    )
    rows = [
        ("Report", report.title),
        ("Period", f"{report.period} ({report.period_dates})"),
        ("As at", report.as_at_text),
        ("Published", published),
    ]
    table = doc.add_table(rows=len(rows) + 1, cols=2)
    table.style = "Table Grid"
    heading = table.cell(0, 0).merge(table.cell(0, 1))
    _bold(heading.paragraphs[0], CONTROL_HEADING)
    _shade(heading, HEADER_SHADING)
    for i, (name, value) in enumerate(rows, start=1):
        _bold(table.cell(i, 0).paragraphs[0], name)
        table.cell(i, 1).paragraphs[0].add_run(value)
    doc.add_paragraph()


def _as_at_moment(report: Report) -> datetime:
    try:
        moment = datetime.fromisoformat(report.as_at.recorded_at)
    except ValueError:
        return _EPOCH
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------- the HTML, in Word


def _figures(report: Report) -> dict[str, Markup]:
    """Each chart the HTML shows, by its id, drawn again from the model for the PNG."""
    found = {"status-trend": charts.status_trend_svg(report.trend)} if report.trend else {}
    for n, indicator in enumerate(report.indicator_trends, start=1):
        found[f"indicator-{n}"] = charts.indicator_svg(indicator, f"indicator-{n}")
    return found


def _blocks(doc: DocumentType, parent: lxml_html.HtmlElement, figures: dict[str, Markup]) -> None:
    for element in parent:
        _block(doc, element, figures)


def _block(doc: DocumentType, element: lxml_html.HtmlElement, figures: dict[str, Markup]) -> None:
    tag = element.tag
    if tag in HEADINGS:
        doc.add_heading(_text(element), level=HEADINGS[tag])
    elif tag == "p":
        _inline(doc.add_paragraph(), element)
    elif tag in ("ul", "ol"):
        style = "List Bullet" if tag == "ul" else "List Number"
        for item in element.iter("li"):
            _inline(doc.add_paragraph(style=style), item)
    elif tag == "table":
        _table(doc, element)
    elif tag == "svg":
        _picture(doc, element, figures)
    elif tag == "figcaption":
        _bold(doc.add_paragraph(), _text(element))
    elif tag in CONTAINERS:
        _blocks(doc, element, figures)


def _text(element: lxml_html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _bold(paragraph: Paragraph, text: str) -> None:
    paragraph.add_run(text).bold = True


def _inline(paragraph: Paragraph, element: lxml_html.HtmlElement, bold: bool = False) -> None:
    """The element's text into `paragraph`, line breaks kept, strong/th/b in bold."""
    if element.text:
        paragraph.add_run(" ".join(element.text.split("\n"))).bold = bold or None
    for child in element:
        if child.tag == "br":
            paragraph.add_run().add_break()
        else:
            _inline(paragraph, child, bold or child.tag in ("strong", "b", "th"))
        if child.tail and child.tail.strip("\n"):
            paragraph.add_run(" ".join(child.tail.split("\n"))).bold = bold or None


def _table(doc: DocumentType, element: lxml_html.HtmlElement) -> None:
    caption = element.find("caption")
    if caption is not None:
        _bold(doc.add_paragraph(), _text(caption))
    rows = list(element.iter("tr"))
    width = max(
        (sum(int(c.get("colspan", "1")) for c in row if c.tag in ("th", "td")) for row in rows), default=1
    )
    table = doc.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    for word_row, row in zip(table.rows, rows, strict=True):
        header_row = row.getparent().tag == "thead"
        # The row's own cells, read once (table.cell() walks the whole table each time).
        cells, column = word_row.cells, 0
        for cell in (c for c in row if c.tag in ("th", "td")):
            span = int(cell.get("colspan", "1"))
            target = cells[column]
            if span > 1:
                target = target.merge(cells[column + span - 1])
            column += span
            _cell(target, cell, bold=cell.tag == "th")
            classes = (cell.get("class") or "").split()
            band = next((c.removeprefix("status-") for c in classes if c.startswith("status-")), None)
            if band is not None:
                _shade(target, STATUS_SHADING.get(band, STATUS_SHADING["unrated"]))
            elif header_row:
                _shade(target, HEADER_SHADING)
    doc.add_paragraph()


def _cell(target: _Cell, cell: lxml_html.HtmlElement, bold: bool) -> None:
    """A table cell's paragraphs (an update of several paragraphs stays several)."""
    paragraphs = [child for child in cell if child.tag == "p"]
    if not paragraphs:
        _inline(target.paragraphs[0], cell, bold)
        return
    for i, p in enumerate(paragraphs):
        _inline(target.paragraphs[0] if i == 0 else target.add_paragraph(), p, bold)


def _shade(cell: _Cell, colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def _picture(doc: DocumentType, svg: lxml_html.HtmlElement, figures: dict[str, Markup]) -> None:
    """The chart as a PNG, its title and description as the picture's alternative text."""
    title = svg.find("title")
    key = (title.get("id") or "").removesuffix("-title") if title is not None else ""
    drawing = figures.get(key)
    if drawing is None:
        return
    width_px = float(svg.get("width", "400"))
    doc.add_picture(io.BytesIO(charts.svg_to_png(drawing)), width=Cm(min(17.0, width_px * 2.54 / 96)))
    description = " ".join(_text(part) for part in (svg.find("title"), svg.find("desc")) if part is not None)
    picture = doc.inline_shapes[-1]._inline.docPr
    picture.set("descr", description)
    picture.set("name", key)
