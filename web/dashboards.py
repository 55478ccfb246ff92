"""Dashboards: each programme's period at a glance, every period side by side, search.

Any signed-in person may read every programme's dashboards, grid and search: the
foundation (web.permissions) restricts writing, officers and programme managers to their
own programmes, not reading. Nothing here writes.

Handlers stay thin: parse the query string, call one page function over the read model
(`dashboard_page`, `history_page`, `search_page`), render. The page functions take the
database as an argument, so the as-at page (web.audit) renders the same dashboard from a
replayed snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from flask import Blueprint, Flask, abort, current_app, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from ledger.domain import NARRATIVE_SECTIONS
from ledger.errors import LedgerError
from ledger.periods import calendar_for
from ledger.refs import natural_sort_key
from projections import queries
from projections.queries.flags import count_flags, get_flags
from projections.queries.review import get_review_states, get_review_summary
from projections.reports import charts
from web.backend import read_model
from web.config import today
from web.permissions import can_read, may_view, requires_login
from web.times import local_time, uk_date, when

bp = Blueprint("dashboards", __name__)

Row = dict[str, Any]

# GOV.UK tag colour per status category; the status is always written out as well.
TAG_CLASSES: dict[str, str] = {
    "green": "govuk-tag--green",
    "amber": "govuk-tag--orange",
    "red": "govuk-tag--red",
    "unrated": "govuk-tag--grey",
}
DIRECTIONS = ("improved", "deteriorated", "unchanged", "new", "not comparable")


# ---------------------------------------------------------------- shared with web.audit


def db() -> queries.Connection:
    """The read model: this request's one read-only connection (web.backend.read_model)."""
    return read_model()


def programme_or_404(database: Any, slug: str) -> Row:
    programme = queries.get_programme(database, slug)
    if programme is None:
        abort(404)
    return programme


def canonical_period(programme: Row, text: str | None) -> str | None:
    """The canonical label ("2024/25 Q1") for what was typed, or None if unusable."""
    try:
        return calendar_for(programme["cadence"], programme["periods"]).parse(text or "").label
    except LedgerError:
        return None


def choose_period(programme: Row, periods: Sequence[Row], text: str | None) -> str | None:
    """The period asked for (404 if it has nothing recorded), else the latest one."""
    labels = [p["period"] for p in periods]
    if not (text or "").strip():
        return labels[-1] if labels else None
    period = canonical_period(programme, text)
    if period not in labels:
        abort(404)
    return period


def url_if_allowed(endpoint: str, **values: Any) -> str | None:
    """A link to `endpoint` if it exists in this app and the user may open it."""
    if endpoint not in current_app.view_functions or not may_view(current_user, endpoint):
        return None
    return url_for(endpoint, **values)


def reports_url(slug: str) -> str | None:
    """The programme's reports (web.reports), if this user may see them."""
    url = url_if_allowed("reports.programme", programme=slug)
    return url if url is not None and can_read(current_user, slug) else None


def hierarchy_order(rows: list[Row]) -> list[Row]:
    """Items grouped under their parents (aim → priority → action): sort_key alone sorts
    by ref, which would put A1.1.1 before Aim 1."""
    return sorted(rows, key=lambda r: [natural_sort_key(ref) for ref in r["path"].split(" > ")])


def chart(summary: Row) -> Row:
    """Geometry of the horizontal bar chart (drawn by dashboards/_chart.html)."""
    top = max((s["count"] for s in summary["statuses"]), default=0) or 1
    label_width, bar_area, row_height = 170, 360, 40
    bars = [
        {
            **status,
            "y": i * row_height,
            "width": round(bar_area * status["count"] / top, 1),
            # The programme's own colour for the status, else its band's.
            "fill": charts.fill(status.get("colour"), status["category"]),
        }
        for i, status in enumerate(summary["statuses"])
    ]
    return {
        "bars": bars,
        "label_width": label_width,
        "row_height": row_height,
        "width": label_width + bar_area + 60,
        "height": max(len(bars), 1) * row_height,
        "description": ", ".join(f"{b['status']}: {b['count']}" for b in bars)
        + f". Total: {summary['total']}.",
    }


def dashboard_page(database: Any, slug: str, period_text: str | None) -> Row:
    """Everything the dashboard shows for one programme and period."""
    programme = programme_or_404(database, slug)
    periods = queries.get_periods(database, slug)
    period = choose_period(programme, periods, period_text)
    categories = {s["status"]: s["category"] for s in programme["scale"]}
    page: Row = {"programme": programme, "periods": periods, "period": period, "categories": categories}
    if period is None:
        return page
    summary = queries.get_summary(database, slug, period)
    transitions = queries.get_transitions(database, slug, period)
    counts = dict.fromkeys(DIRECTIONS, 0)
    for t in transitions:
        counts[t["direction"]] = counts.get(t["direction"], 0) + 1
    return {
        **page,
        "description": next(p["description"] for p in periods if p["period"] == period),
        "summary": summary,
        "chart": chart(summary),
        "exceptions": queries.get_exceptions(database, slug, period),
        "directions": counts,
        "previous_period": next((t["previous_period"] for t in transitions if t["previous_period"]), None),
        "deteriorated": [t for t in transitions if t["direction"] == "deteriorated"],
        "missing": queries.get_missing_updates(database, slug, period),
        "review_summary": get_review_summary(database, slug, period),
        "reviews": get_review_states(database, slug, period),
        **flags_of(database, slug, period),
        **trends_of(database, slug, period),
    }


# A chart is drawn from its figures alone (frozen values), so the same figures give the
# same SVG: kept, not redrawn on every view of the dashboard (a tenth of its CPU).
_trend_svg = lru_cache(maxsize=256)(charts.status_trend_svg)
_indicator_svg = lru_cache(maxsize=256)(charts.indicator_svg)


def trends_of(database: Any, slug: str, period: str) -> Row:
    """Counts per status over the last periods and each indicator's figures, drawn (the
    committee report's charts, from the same module)."""
    trend = charts.status_trend(database, slug, period)
    indicators = charts.indicator_trends(database, slug, period)
    return {
        "trend": trend,
        "trend_svg": _trend_svg(trend),
        "trend_title": charts.trend_title(trend),
        "trend_statuses": charts.trend_statuses(trend),
        "indicator_charts": [
            (i, _indicator_svg(i, f"indicator-{n}")) for n, i in enumerate(indicators, start=1)
        ],
    }


def flags_of(database: Any, slug: str, period: str) -> Row:
    """The period's flags (stale, unchanged, watermelon) and how many of each kind."""
    found = get_flags(database, slug, period, today=today())
    return {"flags": found, "flag_counts": count_flags(found)}


def due_by_programme(database: Any) -> dict[str, Row]:
    """Per programme, over its opened periods: items not yet updated, how many of them
    are overdue, and the most days overdue (as at today)."""
    totals: dict[str, Row] = {}
    for row in queries.get_due_summary(database, today=today()):
        total = totals.setdefault(row["programme"], {"not_updated": 0, "overdue": 0, "most_days_overdue": 0})
        total["not_updated"] += row["not_updated"]
        total["overdue"] += row["overdue"]
        total["most_days_overdue"] = max(total["most_days_overdue"], row["most_days_overdue"] or 0)
    return totals


def history_page(database: Any, slug: str) -> Row:
    programme = programme_or_404(database, slug)
    grid = queries.get_grid(database, slug)
    # A column only for a period where an item was rated, has a note or was retired: a
    # period with only indicators or narrative recorded would be a column of dashes (issue 13).
    retired_from = {
        next(p for p in grid["periods"] if p in row["retired"]) for row in grid["rows"] if row["retired"]
    }
    shown = [
        p for p in grid["periods"]
        if p in retired_from or any(p in row["ratings"] or p in row["notes"] for row in grid["rows"])
    ]
    return {
        "programme": programme,
        "periods": shown,
        "unrated_periods": [p for p in grid["periods"] if p not in shown],
        "rows": hierarchy_order(grid["rows"]),
        "scale_changes": grid["scale_changes"],
    }


def highlight(text: str, query: str) -> Markup:
    """`text` escaped, with the words searched for wrapped in <mark>."""
    words = sorted({w for w in query.split() if w}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("(" + "|".join(re.escape(w) for w in words) + ")", re.IGNORECASE)
    parts = pattern.split(text)
    # re.split with one group: odd indexes are the matches.
    return Markup("").join(
        Markup("<mark>{}</mark>").format(part) if i % 2 else escape(part) for i, part in enumerate(parts)
    )


def search_page(database: Any, text: str, programme: str | None) -> Row:
    results = queries.search(database, text, programme=programme or None) if text.strip() else []
    names = {p["programme"]: p["name"] for p in queries.get_programmes(database)}
    for row in results:
        row["programme_name"] = names.get(row["programme"], row["programme"])
        row["highlighted"] = highlight(row["snippet"], text)
        row["heading"] = NARRATIVE_SECTIONS.get(row["ref"], row["ref"]) if row["source"] == "section" else ""
    return {"q": text, "programme": programme or "", "programmes": names, "results": results}


# ---------------------------------------------------------------- template helpers


def tag_class(category: str | None) -> str:
    return TAG_CLASSES.get(category or "unrated", TAG_CLASSES["unrated"])


def humanise(event_type: str) -> str:
    """StatusCorrected → Status corrected."""
    words = re.findall(r"[A-Z][a-z]*|[a-z]+|\d+", event_type or "")
    return " ".join(words).capitalize() if words else event_type


# ---------------------------------------------------------------- views


@bp.route("/programmes")
@requires_login
def programmes() -> str:
    return render_template(
        "dashboards/programmes.html", programmes=queries.get_programmes(db()), due=due_by_programme(db())
    )


@bp.route("/programmes/<programme>/dashboard")
@requires_login
def dashboard(programme: str) -> str:
    page = dashboard_page(db(), programme, request.args.get("period"))
    # Due and overdue are as at today: the live dashboard shows them, an as-at one doesn't.
    due = queries.get_due(db(), today=today(), programme=page["programme"]["programme"])
    return render_template("dashboards/dashboard.html", **page, reports_url=reports_url(programme), due=due)


@bp.route("/programmes/<programme>/history")
@requires_login
def history(programme: str) -> str:
    return render_template("dashboards/history.html", **history_page(db(), programme))


@bp.route("/search")
@requires_login
def search() -> str:
    page = search_page(db(), request.args.get("q", "")[:200], request.args.get("programme"))
    return render_template("dashboards/search.html", **page)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_filter(when, "govledger_when")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(uk_date, "uk_date")
    app.add_template_filter(humanise, "govledger_humanise")
    app.add_template_global(url_if_allowed, "url_if_allowed")
    app.add_template_global(tag_class, "status_tag_class")
