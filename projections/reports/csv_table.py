"""A report as open data: one CSV of the rated items and indicators it shows.

Built from the same `Report` as the HTML, so a published CSV says exactly what the
published report said. Same report, same bytes (no clock; CRLF line ends, as RFC 4180
asks), so the CSV is stored and proved by its SHA-256 like the HTML. Text cells pass
through the app's one formula guard (`ledger.transfer.cells.protect_csv`).
"""

from __future__ import annotations

import csv
import io

from ledger.transfer.cells import protect_csv
from projections.reports.model import Report

COLUMNS = (
    "programme",
    "period",
    "record",  # item or indicator
    "ref",
    "title",
    "kind",
    "lead_officer",
    "committee",
    "status",
    "category",
    "update",
    "mitigation",
    "value",
    "previous_value",
    "unit",
    "direction",
)


def rows(report: Report) -> list[dict[str, str]]:
    """One row per item, then one per indicator, in the report's own order."""
    base = {"programme": report.programme_name, "period": report.period}
    found = [
        {
            **base,
            "record": "item",
            "ref": e.ref,
            "title": e.title,
            "kind": e.kind,
            "lead_officer": e.lead_officer,
            "committee": e.committee,
            "status": e.status_text,
            "category": e.category,
            "update": e.update,
            "mitigation": e.mitigation,
        }
        for e in report.entries
    ]
    found += [
        {
            **base,
            "record": "indicator",
            "ref": i.ref,
            "title": i.label,
            "value": i.value or "",
            "previous_value": i.previous or "",
            "unit": i.unit,
            "direction": i.direction,
        }
        for i in report.indicators
    ]
    return found


def render_csv(report: Report) -> bytes:
    """The report's items and indicators as UTF-8 CSV with a header row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()
    for row in rows(report):
        writer.writerow({name: protect_csv(value) for name, value in row.items()})
    return buffer.getvalue().encode("utf-8")
