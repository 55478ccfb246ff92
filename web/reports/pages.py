"""Reports: choose, view (live or as at a past point), download, publish, prove.

Report documents (live, as-at and published) are served as the report's own
self-contained HTML, under a Content-Security-Policy that allows nothing but the
document's own inline stylesheet (by hash): no scripts, no requests, no forms. A
published edition is served as the exact stored bytes; nothing is added to them.

Who may do what:
- view and download: auditors, analysts and administrators, any programme; officers and
  programme managers, their programmes;
- publish: programme managers, their programmes. Administrators manage access, not
  content, so they do not publish.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from werkzeug.wrappers import Response
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from ledger.errors import LedgerError, UnknownRef
from ledger.periods import Period
from projections import queries
from projections.reports import build, publish
from projections.reports.model import REPORT_KINDS, Report
from projections.reports.render import render_html
from projections.reports.xlsx import render_xlsx
from web.backend import backend
from web.forms import LARGEST_NUMBER, add_error, whole_number
from web.permissions import EVERY_ROLE, PUBLISHER_ROLES, can_publish, can_read, requires_role

bp = Blueprint("reports", __name__, url_prefix="/reports")

KINDS = "any(committee, highlight, partnership)"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_STYLE = re.compile(rb"<style>(.*?)</style>", re.DOTALL)


# ---------------------------------------------------------------- access


def _programme(slug: str) -> dict[str, Any]:
    """The programme, or 404; 403 if the user may not see its reports."""
    try:
        programme = backend().ledger.get_programme(slug)
    except UnknownRef:
        abort(404)
    if not can_read(current_user, programme["slug"]):
        abort(403)
    return programme


def _period(programme: dict[str, Any], text: str | None) -> str | None:
    """The canonical period label, or None when the query string's period is unusable."""
    try:
        return Period.parse(text or "", programme["cadence"]).label
    except LedgerError:
        return None


# ---------------------------------------------------------------- as-at


def _as_at(text: str) -> int | str | None:
    """'' -> live; else a log position or an ISO date/time, checked by the projections'
    own parser (a date means the end of that day, UTC). Raises ValueError."""
    from projections.system import parse_as_at

    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit():
        position = whole_number(text)
        if position is None:
            raise ValueError(f"A log position is a whole number up to {LARGEST_NUMBER}.")
        return position
    parse_as_at(text)
    return text


def _report(programme: str, kind: str, period: str, as_at: int | str | None) -> Report:
    """The report live, or replayed as at a position or time; 404 if the programme did
    not exist yet at that point."""
    try:
        return publish.build_as_at(backend().system, programme, kind, period, as_at)
    except UnknownRef:
        abort(404)


# ---------------------------------------------------------------- documents


def document_csp(content: bytes) -> str:
    """Nothing but the document's own inline stylesheet, allowed by its hash."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _STYLE.finditer(content)
    )
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src {hashes or chr(39) + 'none' + chr(39)}",
            "img-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
            "sandbox",
        ]
    )


def _document(content: bytes, *, source: str = "") -> Response:
    response = Response(content, mimetype="text/html")
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = document_csp(content)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if source:
        response.headers["X-Govledger-Source"] = source
    return response


def _filename(programme: str, kind: str, period: str, suffix: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9]+", "-", f"{programme}-{kind}-{period}").strip("-").lower()
    return f"{safe}.{suffix}"


# ---------------------------------------------------------------- forms


class PublishForm(FlaskForm):
    # The log position the person saw on the confirm page: publishing goes ahead only if
    # the ledger is still there, so nobody publishes changes they have not seen (and an
    # empty POST records nothing).
    position = HiddenField(validators=[InputRequired("Open the publish page again and confirm.")])
    reason = TextAreaField(
        "Reason",
        description="Auditors will see this with your name. Required when publishing again.",
        widget=GovTextArea(),
        validators=[Length(max=2000)],
    )
    submit = SubmitField("Publish", widget=GovSubmitInput())


def _seen_position(form: PublishForm) -> int:
    # -1 is never the ledger's position, so a tampered one is refused as "changed since".
    position = whole_number(form.position.data)
    return -1 if position is None else position


# ---------------------------------------------------------------- views


def _programmes() -> list[dict[str, Any]]:
    return [
        p
        for p in queries.get_programmes(backend().system.projections_db)
        if can_read(current_user, p["programme"])
    ]


@bp.route("/")
@requires_role(*EVERY_ROLE)
def index() -> str:
    return render_template("reports/index.html", programmes=_programmes(), kinds=REPORT_KINDS)


@bp.route("/<programme>/")
@requires_role(*EVERY_ROLE)
def programme(programme: str) -> str:
    p = _programme(programme)
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
    p = _programme(programme)
    period = _period(p, request.args.get("period"))
    as_at_text = request.args.get("as_at", "").strip()
    period_error = as_at_error = ""
    if request.args.get("period") is not None and period is None:
        period_error = f"Enter a period like {_example(p)}"
    try:
        _as_at(as_at_text)
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
        example=_example(p),
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


def _example(programme: dict[str, Any]) -> str:
    return "2024/25 Q1" if programme["cadence"] == "quarterly" else "2026-01"


def _document_args(programme: str) -> tuple[dict[str, Any], str, int | str | None]:
    p = _programme(programme)
    period = _period(p, request.args.get("period"))
    if period is None:
        abort(404)
    try:
        as_at = _as_at(request.args.get("as_at", ""))
    except ValueError:
        abort(400)
    return p, period, as_at


@bp.route(f"/<programme>/<{KINDS}:kind>/document")
@requires_role(*EVERY_ROLE)
def document(programme: str, kind: str) -> Response:
    """The report itself: print-ready HTML, live or as at a position or date."""
    p, period, as_at = _document_args(programme)
    html = render_html(_report(p["slug"], kind, period, as_at))
    return _document(html, source="live" if as_at is None else "as-at")


@bp.route(f"/<programme>/<{KINDS}:kind>/download.xlsx")
@requires_role(*EVERY_ROLE)
def download(programme: str, kind: str) -> Response:
    p, period, as_at = _document_args(programme)
    response = Response(render_xlsx(_report(p["slug"], kind, period, as_at)), mimetype=XLSX_TYPE)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_filename(p["slug"], kind, period, "xlsx")}"'
    )
    return response


@bp.route(f"/<programme>/<{KINDS}:kind>/publish", methods=["GET", "POST"])
@requires_role(*PUBLISHER_ROLES)
def publish_report(programme: str, kind: str) -> str | Response:
    """Confirm, then publish the report as the ledger stands now (POST, CSRF-protected)."""
    p = _programme(programme)
    if not can_publish(current_user, p["slug"]):
        abort(403)
    period = _period(p, request.args.get("period"))
    if period is None:
        abort(404)
    system = backend().system
    editions = publish.list_editions(system.ledger, p["slug"], kind, period)
    position = build.current_position(system.projections_db)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            edition = publish.publish(
                system,
                p["slug"],
                kind,
                period,
                actor=current_user.username,
                reason=form.reason.data or "",
                seen_position=_seen_position(form),
            )
        except LedgerError as error:
            add_error(form, error)
            position = build.current_position(system.projections_db)
        else:
            flash(
                f"{edition.title} published (edition {edition.edition}, from log position "
                f"{edition.log_position}).",
                "success",
            )
            return redirect(url_for("reports.publications", programme=p["slug"]))
    form.position.data = str(position)
    return render_template(
        "reports/publish.html",
        form=form,
        programme=p,
        kind=kind,
        kind_name=REPORT_KINDS[kind],
        period=period,
        editions=editions,
        position=position,
    )


@bp.route("/<programme>/publications")
@requires_role(*EVERY_ROLE)
def publications(programme: str) -> str:
    p = _programme(programme)
    return render_template(
        "reports/publications.html",
        programme=p,
        publications=queries.get_publications(backend().system.projections_db, p["slug"]),
        kinds=REPORT_KINDS,
    )


def _edition_arg() -> int | None:
    text = request.args.get("edition", "").strip()
    if not text:
        return None
    number = whole_number(text)
    if number is None:
        abort(404)
    return number


@bp.route(f"/<programme>/<{KINDS}:kind>/published")
@requires_role(*EVERY_ROLE)
def published(programme: str, kind: str) -> str | Response | tuple[str, int]:
    """A published edition exactly as published: the stored bytes, proven by their hash."""
    p = _programme(programme)
    period = _period(p, request.args.get("period"))
    if period is None:
        abort(404)
    try:
        copy = publish.fetch_published(backend().system, p["slug"], kind, period, _edition_arg())
    except publish.PublicationUnproven as error:
        return render_template("reports/unproven.html", programme=p, message=error.message), 409
    except UnknownRef:
        abort(404)
    response = _document(copy.content, source=copy.source)
    response.headers["X-Content-SHA256"] = copy.edition.content_sha256
    response.headers["X-Govledger-Log-Position"] = str(copy.edition.log_position)
    return response


@bp.route(f"/<programme>/<{KINDS}:kind>/changes")
@requires_role(*EVERY_ROLE)
def changes(programme: str, kind: str) -> str:
    """What was recorded for the programme and period after an edition was built."""
    p = _programme(programme)
    period = _period(p, request.args.get("period"))
    if period is None:
        abort(404)
    system = backend().system
    editions = publish.list_editions(system.ledger, p["slug"], kind, period)
    number = _edition_arg()
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
        live_differs=publish.live_differs(system, edition),
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
