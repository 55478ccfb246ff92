"""Report pages: choose, view (live or as at a past point), download, and the published
editions, each exactly as published."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import abort, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ledger.errors import UnknownRef
from projections import queries
from projections.reports import build, publish
from projections.reports.model import REPORT_KINDS
from projections.reports.render import render_html
from projections.reports.word import DOCX_TYPE, render_docx
from projections.reports.xlsx import render_xlsx
from web.backend import backend
from web.permissions import EVERY_ROLE, can_publish, requires_role
from web.reports import background
from web.reports.support import (
    KINDS,
    XLSX_TYPE,
    as_at_of,
    bp,
    built_report,
    document,
    edition_arg,
    example_period,
    filename,
    period_of,
    programme_or_abort,
    readable_programmes,
    requested_period,
)


@bp.route("/")
@requires_role(*EVERY_ROLE)
def index() -> str:
    return render_template("reports/index.html", programmes=readable_programmes(), kinds=REPORT_KINDS)


@bp.route("/<programme>/")
@requires_role(*EVERY_ROLE)
def programme(programme: str) -> str:
    p = programme_or_abort(programme)
    db = backend().system.projections_db
    return render_template(
        "reports/programme.html",
        programme=p,
        periods=list(reversed(queries.get_periods(db, p["slug"]))),
        publications=queries.get_publications(db, p["slug"]),
        kinds=REPORT_KINDS,
        may_publish=can_publish(current_user, p["slug"]),
    )


@bp.route(f"/<programme>/<{KINDS}:kind>")
@requires_role(*EVERY_ROLE)
def report(programme: str, kind: str) -> str | Response:
    """The report's page: choose the period and as-at point, then view, download or publish."""
    p = programme_or_abort(programme)
    period = period_of(p, request.args.get("period"))
    as_at_text = request.args.get("as_at", "").strip()
    period_error = as_at_error = ""
    if request.args.get("period") is not None and period is None:
        period_error = f"Enter a period like {example_period(p)}"
    try:
        as_at_of(as_at_text)
    except ValueError as error:
        as_at_error = str(error)
    errors = [
        {"text": text, "href": href}
        for text, href in ((period_error, "#period"), (as_at_error, "#as_at"))
        if text
    ]
    db = backend().system.projections_db
    return render_template(
        "reports/report.html",
        programme=p,
        kind=kind,
        kind_name=REPORT_KINDS[kind],
        period=period,
        period_text=request.args.get("period", ""),
        as_at=as_at_text,
        example=example_period(p),
        report_errors=errors,
        period_error=period_error,
        as_at_error=as_at_error,
        periods=list(reversed(queries.get_periods(db, p["slug"]))),
        editions=[
            e
            for e in queries.get_publications(db, p["slug"])
            if e["report"] == kind and e["period"] == period
        ],
        may_publish=can_publish(current_user, p["slug"]),
        position=build.current_position(db),
    )


def _document_args(programme: str) -> tuple[dict[str, Any], str, int | str | None]:
    p = programme_or_abort(programme)
    period = requested_period(p)
    try:
        as_at = as_at_of(request.args.get("as_at", ""))
    except ValueError:
        abort(400)
    return p, period, as_at


@bp.route(f"/<programme>/<{KINDS}:kind>/document", endpoint="document")
@requires_role(*EVERY_ROLE)
def document_view(programme: str, kind: str) -> Response:
    """The report itself: print-ready HTML, live or as at a position or date. Live, with
    `links=1`, each item's status links to why it is so (issue 13); otherwise these are
    exactly the bytes publishing would freeze."""
    p, period, as_at = _document_args(programme)
    report = built_report(p["slug"], kind, period, as_at)
    if as_at is None and request.args.get("links") == "1":
        # The why pages read the ledger as it stands, so only the live report links to them.
        base = url_for("dashboards.history", programme=p["slug"]).removesuffix("/history")
        report = replace(report, link_base=base)
    return document(render_html(report), source="live" if as_at is None else "as-at")


@bp.route(f"/<programme>/<{KINDS}:kind>/download.xlsx")
@requires_role(*EVERY_ROLE)
def download(programme: str, kind: str) -> str | Response:
    p, period, as_at = _document_args(programme)
    if background.runs_in_background(p["slug"]):
        return background.offer(p, kind, period, request.args.get("as_at", "").strip(), "xlsx")
    response = Response(render_xlsx(built_report(p["slug"], kind, period, as_at)), mimetype=XLSX_TYPE)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{filename(p["slug"], kind, period, "xlsx")}"'
    )
    return response


@bp.route(f"/<programme>/<{KINDS}:kind>/download.docx")
@requires_role(*EVERY_ROLE)
def download_docx(programme: str, kind: str) -> str | Response:
    """The report as a Word committee paper, live or as at a position or date."""
    p, period, as_at = _document_args(programme)
    if background.runs_in_background(p["slug"]):
        return background.offer(p, kind, period, request.args.get("as_at", "").strip(), "docx")
    response = Response(render_docx(built_report(p["slug"], kind, period, as_at)), mimetype=DOCX_TYPE)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{filename(p["slug"], kind, period, "docx")}"'
    )
    return response


@bp.route("/<programme>/publications")
@requires_role(*EVERY_ROLE)
def publications(programme: str) -> str:
    p = programme_or_abort(programme)
    return render_template(
        "reports/publications.html",
        programme=p,
        publications=queries.get_publications(backend().system.projections_db, p["slug"]),
        kinds=REPORT_KINDS,
    )


@bp.route(f"/<programme>/<{KINDS}:kind>/published")
@requires_role(*EVERY_ROLE)
def published(programme: str, kind: str) -> str | Response | tuple[str, int]:
    """A published edition exactly as published: the stored bytes, proven by their hash."""
    p = programme_or_abort(programme)
    period = requested_period(p)
    try:
        copy = publish.fetch_published(backend().system, p["slug"], kind, period, edition_arg())
    except publish.PublicationUnproven as error:
        return render_template("reports/unproven.html", programme=p, message=error.message), 409
    except UnknownRef:
        abort(404)
    response = document(copy.content, source=copy.source)
    response.headers["X-Content-SHA256"] = copy.edition.content_sha256
    response.headers["X-Govledger-Log-Position"] = str(copy.edition.log_position)
    return response


@bp.route(f"/<programme>/<{KINDS}:kind>/changes")
@requires_role(*EVERY_ROLE)
def changes(programme: str, kind: str) -> str:
    """What was recorded for the programme and period after an edition was built."""
    p = programme_or_abort(programme)
    period = requested_period(p)
    system = backend().system
    editions = publish.list_editions(system.ledger, p["slug"], kind, period)
    number = edition_arg()
    if not editions or (number is not None and not 1 <= number <= len(editions)):
        abort(404)
    edition = editions[-1] if number is None else editions[number - 1]
    rows = publish.changed_after_publication(
        system.projections_db,
        p["slug"],
        kind,
        period,
        edition.log_position,
        latest=edition.edition == len(editions),
    )
    return render_template(
        "reports/changes.html",
        programme=p,
        kind=kind,
        kind_name=REPORT_KINDS[kind],
        period=period,
        edition=edition,
        editions=editions,
        changes=rows,
        record_changes=queries.get_record_changes_after(
            system.projections_db, p["slug"], edition.log_position
        ),
        live_differs=publish.live_differs(system, edition),
    )
