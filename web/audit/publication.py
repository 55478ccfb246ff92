"""What was recorded for a period after a report for it was published."""

from __future__ import annotations

from flask import render_template, request

from projections import queries
from web.audit.support import AUDIT_ROLES, bp
from web.dashboards import canonical_period, db, programme_or_404
from web.permissions import requires_role


@bp.route("/programmes/<programme>/changed-after-publication")
@requires_role(*AUDIT_ROLES)
def changed_after_publication(programme: str) -> str:
    p = programme_or_404(db(), programme)
    period = canonical_period(p, request.args.get("period")) if request.args.get("period") else None
    rows = queries.get_changed_after_publication(db(), p["programme"], period)
    return render_template(
        "audit/changed_after_publication.html",
        programme=p,
        period=period,
        changes=rows,
        publications=queries.get_publications(db(), p["programme"]),
    )
