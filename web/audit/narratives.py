"""A programme's report narrative, section by section, one period against another."""

from __future__ import annotations

from flask import render_template, request

from projections import queries
from web.audit.diffs import diff_html
from web.audit.support import AUDIT_ROLES, Row, bp
from web.dashboards import choose_period, db, programme_or_404
from web.permissions import requires_role


def narrative_diff_page(database: queries.Db, slug: str, from_text: str | None, to_text: str | None) -> Row:
    """Each report narrative section of one period against another (default: the latest
    period against the one before it)."""
    programme = programme_or_404(database, slug)
    periods = queries.get_periods(database, slug)
    labels = [p["period"] for p in periods]
    to = choose_period(programme, periods, to_text)
    if (from_text or "").strip():
        before = choose_period(programme, periods, from_text)
    else:
        index = labels.index(to) if to in labels else 0
        before = labels[index - 1] if index > 0 else None
    old = {s["section"]: s for s in queries.get_sections(database, slug, before)} if before else {}
    new = {s["section"]: s for s in queries.get_sections(database, slug, to)} if to else {}
    keys = sorted(set(old) | set(new), key=lambda k: (new.get(k) or old[k])["section_order"])
    sections = [
        {
            "section": key,
            "heading": (new.get(key) or old[key])["heading"],
            "before": old.get(key),
            "after": new.get(key),
            "diff": diff_html((old.get(key) or {}).get("text", ""), (new.get(key) or {}).get("text", "")),
            "changed": (old.get(key) or {}).get("text", "") != (new.get(key) or {}).get("text", ""),
        }
        for key in keys
    ]
    return {"programme": programme, "periods": periods, "before": before, "to": to, "sections": sections}


@bp.route("/programmes/<programme>/narrative-diff")
@requires_role(*AUDIT_ROLES)
def narrative_diff(programme: str) -> str:
    page = narrative_diff_page(db(), programme, request.args.get("from"), request.args.get("to"))
    return render_template("audit/narrative_diff.html", **page)
