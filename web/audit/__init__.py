"""Auditors' pages: who changed what, when and why; what the record said on any date;
what changed after publication; is the record intact. One module per page family.

Who may read them (declared on each view):
- an item's timeline (timeline): anyone signed in. It shows nothing the dashboards
  don't (status, update, who, when, why), and officers need it to see who changed their
  items;
- why an item has its rating for a period (why): anyone signed in, like the timeline,
  since every status on the dashboards links to it;
- the narrative diff (narratives), as-at (as_at), changed after publication
  (publication), verify (verify) and the audit log (log): auditors, analysts,
  administrators and programme managers (the people who check and assemble the
  record), for every programme;
- taking a checkpoint (POST, verify): auditors and administrators only.
"""

from __future__ import annotations

from flask import Flask

# Each page family's module adds its views to the one blueprint, `bp`.
from web.audit import as_at, log, narratives, publication, timeline, verify, why
from web.audit.diffs import diff_html
from web.audit.log import neutralise
from web.audit.support import bp

__all__ = [
    "as_at",
    "bp",
    "diff_html",
    "init_app",
    "log",
    "narratives",
    "neutralise",
    "publication",
    "timeline",
    "verify",
    "why",
]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
