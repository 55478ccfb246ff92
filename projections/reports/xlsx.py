"""Reports as XLSX workbooks (openpyxl): one sheet per section of the report.

Two promises:
- Excel never evaluates what someone typed. Every text cell is written as a string
  (`data_type = "s"`), so an update beginning `=`, `+`, `-` or `@` stays text (no `<f>`
  element is written); this is the OWASP "CSV injection" defence without altering the text.
- Same report, same bytes: document dates come from the report's as-at time, and the zip
  entries get a fixed timestamp, because openpyxl stamps both with the clock.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from projections.reports.model import Entry, Group, Report, RiskRow

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_EPOCH = datetime(2000, 1, 1)
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F3F2F1")
_WRAP = Alignment(wrap_text=True, vertical="top")
_STATUS_FILLS = {"green": "CCE2D8", "amber": "FFF2D3", "red": "F6D7D2"}


def _set(ws: Worksheet, row: int, column: int, value: Any) -> None:
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        # openpyxl would store a leading "=" as a formula; an explicit string type never is.
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value
    cell.alignment = _WRAP


def _sheet(
    wb: Workbook,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] = (),
    status_column: int | None = None,
    categories: Sequence[str] = (),
) -> Worksheet:
    ws = wb.create_sheet(title[:31])
    for column, name in enumerate(header, start=1):
        _set(ws, 1, column, name)
        ws.cell(row=1, column=column).font = _HEADER_FONT
        ws.cell(row=1, column=column).fill = _HEADER_FILL
    count = 0
    for count, values in enumerate(rows, start=1):
        for column, value in enumerate(values, start=1):
            _set(ws, count + 1, column, value)
        if status_column is not None and count - 1 < len(categories):
            colour = _STATUS_FILLS.get(categories[count - 1])
            if colour:
                ws.cell(row=count + 1, column=status_column).fill = PatternFill("solid", fgColor=colour)
    if count == 0:
        _set(ws, 2, 1, "None recorded")
    ws.freeze_panes = "A2"
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    # Printing: landscape A4, header row on every page, fit to the page width.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    return ws


def _about(wb: Workbook, report: Report) -> None:
    rows = [
        ("Report", report.title),
        ("Programme", report.programme_name),
        ("Programme id", report.programme_slug),
        ("Period", report.period),
        ("Period dates", report.period_dates),
        ("Built from log position", report.as_at.position),
        ("Last change recorded", report.as_at.recorded_at),
    ]
    _sheet(wb, "About", ("Field", "Value"), rows, widths=(26, 80))


def _sections(wb: Workbook, report: Report, title: str = "Narrative") -> None:
    _sheet(wb, title, ("Section", "Text"), [(s.heading, s.text) for s in report.sections], widths=(40, 100))


def _flatten(groups: Sequence[Group]) -> list[tuple[str, str, Entry]]:
    """(level-1 heading, level-2 heading, entry) in appendix order."""
    rows: list[tuple[str, str, Entry]] = []
    for group in groups:
        for sub in group.groups:
            rows.extend((group.heading, sub.heading, e) for e in sub.entries)
        rows.extend((group.heading, "", e) for e in group.entries)
    return rows


def _risks(wb: Workbook, title: str, risks: Sequence[RiskRow]) -> None:
    header = (
        "Ref",
        "Description",
        "Owner",
        "RAG",
        "Mitigation plan",
        "Re-rated RAG after mitigation",
        "State",
        "Period",
    )
    rows = [
        (
            r.ref,
            r.description,
            r.owner,
            r.rag_before,
            r.mitigation,
            r.rag_after,
            "Open" if r.is_open else "Closed",
            r.period,
        )
        for r in risks
    ]
    _sheet(
        wb,
        title,
        header,
        rows,
        widths=(8, 50, 20, 10, 50, 14, 8, 10),
        status_column=4,
        categories=[r.rag_before_category for r in risks],
    )


def _committee(wb: Workbook, report: Report) -> None:
    _sheet(
        wb,
        "Summary",
        ("Status", "Description", f"Number of {report.entry_noun}"),
        [*((r.name, r.description, r.count) for r in report.summary), ("Total", "", report.total)],
        widths=(16, 50, 14),
        status_column=1,
        categories=[r.category for r in report.summary],
    )
    header = (
        "Ref",
        "What we will do",
        "Lead officer",
        "Status",
        f"{report.period_label_short} update",
        "Mitigation",
    )
    for category in ("amber", "red"):
        rows = report.exceptions(category)
        _sheet(
            wb,
            category.capitalize(),
            header,
            [(e.ref, e.title, e.lead_officer, e.status_text, e.update, e.mitigation) for e in rows],
            widths=(9, 45, 25, 10, 60, 60),
            status_column=4,
            categories=[e.category for e in rows],
        )
    flat = _flatten(report.groups)
    review, review_width = _review_column(report)
    _sheet(
        wb,
        "Appendix",
        (
            "Group",
            "Subgroup",
            "Ref",
            "What we will do",
            "Lead officer",
            "Committee",
            f"{report.period_label_short} progress",
            "Update",
            "Mitigation",
            *review,
        ),
        [
            (
                g, s, e.ref, e.title, e.lead_officer, e.committee, e.status_text, e.update,
                e.mitigation, *_review_cell(report, e),
            )
            for g, s, e in flat
        ],
        widths=(30, 30, 9, 45, 25, 10, 12, 60, 60, *review_width),
        status_column=7,
        categories=[e.category for _, _, e in flat],
    )
    _sheet(
        wb,
        "Indicators",
        (
            "Ref",
            "Indicator",
            "Breakdown",
            "Unit",
            "Better when",
            report.previous_period_name,
            report.period_name,
            "Change",
            "Direction",
        ),
        [
            (
                i.ref,
                i.name,
                i.breakdown,
                i.unit,
                i.better,
                i.format_value(i.previous),
                i.format_value(i.value),
                i.change_text,
                i.direction,
            )
            for i in report.indicators
        ],
        widths=(14, 40, 16, 8, 10, 14, 14, 22, 18),
    )
    _sections(wb, report)


def _review_column(report: Report) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The review column's heading and width: only where anything of the period went to
    review (as in the HTML)."""
    return (("Review",), (22,)) if report.reviewed else ((), ())


def _review_cell(report: Report, e: Entry) -> tuple[str, ...]:
    return (e.review_text,) if report.reviewed else ()


def _highlight(wb: Workbook, report: Report) -> None:
    review, review_width = _review_column(report)
    _sheet(
        wb,
        "Workstreams",
        ("Ref", "Workstream", "Lead", "Status", "Progress update", *review),
        [
            (e.ref, e.title, e.lead_officer, e.status_text, e.update, *_review_cell(report, e))
            for e in report.entries
        ],
        widths=(8, 40, 30, 12, 90, *review_width),
        status_column=4,
        categories=[e.category for e in report.entries],
    )
    _sections(wb, report, "Progress")
    _risks(wb, "Risks", report.risks)
    _risks(wb, "Issues", report.issues)
    _sheet(
        wb,
        "Dependencies",
        (
            "Ref",
            "Brief description of dependency",
            "Owner",
            "Jointly agreed plan in place",
            "Confidence",
            "Period",
        ),
        [
            (d.ref, d.description, d.owner, d.plan_agreed_text, d.confidence, d.period)
            for d in report.dependencies
        ],
        widths=(8, 60, 20, 14, 12, 10),
    )


def _partnership(wb: Workbook, report: Report) -> None:
    _sheet(
        wb,
        "Partnership",
        ("Field", "Value"),
        [
            ("Partnership", report.programme_name),
            ("Period", f"{report.period_name} ({report.period_dates})"),
            ("Contact officer", report.contact.name),
            ("Telephone", report.contact.phone),
            ("Email", report.contact.email),
        ],
        widths=(20, 80),
    )
    _sections(wb, report)
    review, review_width = _review_column(report)
    _sheet(
        wb,
        "Core areas",
        ("Number", "Ref", "Core area", "Status", "Activity this period", *review),
        [
            (n, e.ref, e.title, e.status_text, e.update, *_review_cell(report, e))
            for n, e in enumerate(report.entries, start=1)
        ],
        widths=(8, 8, 40, 12, 90, *review_width),
    )


_BUILDERS = {"committee": _committee, "highlight": _highlight, "partnership": _partnership}


def _as_datetime(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return _EPOCH
    return moment.replace(tzinfo=None)


def render_xlsx(report: Report) -> bytes:
    """The report as an XLSX workbook (bytes), identical for identical reports."""
    wb = Workbook()
    wb.remove(wb.active)
    _BUILDERS[report.kind](wb, report)
    _about(wb, report)
    moment = _as_datetime(report.as_at.recorded_at) if report.as_at.recorded_at else _EPOCH
    wb.properties.created = wb.properties.modified = moment
    wb.properties.creator = "Governance Ledger"
    wb.properties.title = report.title
    raw = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook() would stamp `modified` with the clock.
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    return restamp_zip(raw.getvalue())


def restamp_zip(data: bytes) -> bytes:
    """The same zip with every entry dated 1980-01-01, so the bytes do not carry the clock."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
