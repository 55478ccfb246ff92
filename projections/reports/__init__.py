"""Reports as outputs: committee, highlight and partnership reports from the projections.

- `build_report(db, programme, kind, period)`: the content (`model.Report`), a pure
  function of a projections database: live, or a snapshot as at any log position.
- `render_html(report)` / `render_xlsx(report)`: print-ready HTML and an XLSX workbook,
  byte-identical for the same content.
- `publish` / `get_published` (in `projections.reports.publish`): freeze a report's
  exact bytes with its log position and hash in the ledger, and prove them later.
"""

from projections.reports.build import build_report, report_html, report_xlsx
from projections.reports.model import REPORT_KINDS, Report
from projections.reports.render import render_html
from projections.reports.xlsx import render_xlsx

__all__ = [
    "REPORT_KINDS",
    "Report",
    "build_report",
    "render_html",
    "render_xlsx",
    "report_html",
    "report_xlsx",
]
