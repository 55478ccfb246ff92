"""Reports: choose, view (live or as at a past point), download, publish, prove.

Report documents (live, as-at and published) are served as the report's own
self-contained HTML, under a Content-Security-Policy that allows nothing but the
document's own inline stylesheet (by hash): no scripts, no requests, no forms. A
published edition is served as the exact stored bytes; nothing is added to them.

Who may do what:
- view and download, and read each edition's record: auditors, analysts and
  administrators, any programme; officers and programme managers, their programmes;
- publish: programme managers, their programmes. Administrators manage access, not
  content, so they do not publish.

`pages` holds the pages that read; `publish` publishing and each edition's record;
`background` large reports' downloads, built by a background job.
"""

from __future__ import annotations

from flask import Flask

# Each module adds its views to the one blueprint, `bp`.
from web.reports import background, pages, publish
from web.reports.support import XLSX_TYPE, bp, document_csp

__all__ = ["XLSX_TYPE", "background", "bp", "document_csp", "init_app", "pages", "publish"]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
