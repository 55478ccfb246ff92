"""Open data: every published report, public and read-only, with no sign-in.

`/published/` lists what has been published; `/published/<programme>/<period>` shows each
report published for that period, edition by edition, with the SHA-256 the ledger
recorded for each format; the documents themselves are the stored bytes, proved by
those hashes (`projections.reports.publish.fetch_document`), never the live record, so
nothing recorded after publication, and nothing unpublished, is shown.

The period is in the URL as its label with "/" and " " as "-" (`2024-25-Q1`,
`2026-01`), so every edition has a stable address.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ledger.errors import LedgerError, UnknownRef
from ledger.periods import Calendar
from projections import queries
from projections.reports import publish
from projections.reports.model import REPORT_KINDS
from projections.reports.word import DOCX_TYPE
from web.backend import backend
from web.permissions import public
from web.reports.support import KINDS, document

bp = Blueprint("published", __name__, url_prefix="/published")

# The formats served: the HTML and each one publishing keeps beside it.
SERVED = ("html", *publish.FORMATS)
FORMATS = f"any({', '.join(SERVED)})"
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "docx": DOCX_TYPE,
}


def period_slug(label: str) -> str:
    return label.replace("/", "-").replace(" ", "-")


def _programme(slug: str) -> dict[str, Any]:
    try:
        return backend().ledger.get_programme(slug)
    except UnknownRef:
        abort(404)


def _period(programme: dict[str, Any], slug: str) -> str:
    """The period label a URL names, in the programme's own periods, or 404: a quarter
    ('2024-25-Q1' or '2024/25 Q1'), a month ('2026-01'), or a period it defines
    ('2024-25-P2' for '2024/25 P2')."""
    calendar: Calendar = programme["calendar"]
    named = {period_slug(p.name).casefold(): p.name for p in calendar.defined}
    text = named.get(slug.casefold()) or slug.replace("-Q", " Q").replace("-q", " q")
    try:
        return calendar.parse(text).label
    except LedgerError:
        abort(404)


def _editions(programme: str, period: str) -> list[tuple[str, list[publish.Edition]]]:
    """Each report kind published for the period, with its editions (oldest first), read
    from the event store, which holds the hashes."""
    ledger = backend().ledger
    found = [(kind, publish.list_editions(ledger, programme, kind, period)) for kind in REPORT_KINDS]
    return [(kind, editions) for kind, editions in found if editions]


@bp.route("/")
@public
def index() -> str:
    """Every programme's published periods, newest first."""
    db = backend().system.projections_db
    listed = []
    for p in queries.get_programmes(db):
        rows = queries.get_publications(db, p["programme"])
        periods = sorted({(r["period_start"], r["period"]) for r in rows}, reverse=True)
        if periods:
            listed.append((p, [(label, period_slug(label)) for _, label in periods]))
    return render_template("published/index.html", programmes=listed)


@bp.route("/<programme>/<period>")
@public
def period(programme: str, period: str) -> str | Response:
    p = _programme(programme)
    label = _period(p, period)
    if period != period_slug(label) or programme != p["slug"]:
        return redirect(url_for("published.period", programme=p["slug"], period=period_slug(label)), 301)
    reports = _editions(p["slug"], label)
    if not reports:
        abort(404)
    published_at = {
        (r["report"], r["edition"]): r["published_at"]
        for r in queries.get_publications(backend().system.projections_db, p["slug"], label)
    }
    return render_template(
        "published/period.html",
        programme=p,
        period=label,
        slug=period_slug(label),
        reports=reports,
        kinds=REPORT_KINDS,
        published_at=published_at,
        formats=SERVED,
    )


@bp.route(f"/<programme>/<period>/<{KINDS}:kind>.<{FORMATS}:fmt>")
@bp.route(f"/<programme>/<period>/<{KINDS}:kind>/edition-<int:edition>.<{FORMATS}:fmt>")
@public
def document_file(
    programme: str, period: str, kind: str, fmt: str, edition: int | None = None
) -> Response | tuple[str, int]:
    """A published edition (the latest unless one is named) exactly as published."""
    p = _programme(programme)
    label = _period(p, period)
    system = backend().system
    try:
        wanted = publish.get_edition(system.ledger, p["slug"], kind, label, edition)
        # Stored bytes only: a rebuild replays the log, too costly to offer anyone.
        copy = publish.fetch_document(system, wanted, fmt, may_rebuild=False)
    except UnknownRef:
        abort(404)
    except publish.PublicationUnproven:
        return render_template("published/unproven.html"), 409
    if fmt == "html":
        response = document(copy.content, source=copy.source)
    else:
        response = Response(copy.content, content_type=MIMETYPES[fmt])
        name = f"{p['slug']}-{kind}-{period_slug(label).lower()}-edition-{wanted.edition}.{fmt}"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-SHA256"] = publish.sha256_hex(copy.content)
    response.headers["X-Govledger-Log-Position"] = str(wanted.log_position)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Other pages link to a period's public copy by the same address.
    app.add_template_filter(period_slug, "period_slug")
