"""What the report pages share: the blueprint, the programme and period a URL names,
the as-at point, and how a report document is served."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user
from werkzeug.wrappers import Response

from ledger.errors import LedgerError, UnknownRef
from projections import queries
from projections.reports import publish
from projections.reports.model import Report
from web.backend import backend
from web.forms import LARGEST_NUMBER, whole_number
from web.permissions import can_read
from web.times import as_uk_time

bp = Blueprint("reports", __name__, url_prefix="/reports")

KINDS = "any(committee, highlight, partnership)"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_STYLE = re.compile(rb"<style>(.*?)</style>", re.DOTALL)


# ---------------------------------------------------------------- access


def programme_or_abort(slug: str) -> dict[str, Any]:
    """The programme, or 404; 403 if the user may not see its reports."""
    try:
        programme = backend().ledger.get_programme(slug)
    except UnknownRef:
        abort(404)
    if not can_read(current_user, programme["slug"]):
        abort(403)
    return programme


def period_of(programme: dict[str, Any], text: str | None) -> str | None:
    """The canonical period label, or None when the query string's period is unusable."""
    try:
        return programme["calendar"].parse(text or "").label
    except LedgerError:
        return None


def requested_period(programme: dict[str, Any]) -> str:
    """The query string's period, or 404."""
    period = period_of(programme, request.args.get("period"))
    if period is None:
        abort(404)
    return period


def readable_programmes() -> list[dict[str, Any]]:
    return [
        p
        for p in queries.get_programmes(backend().system.projections_db)
        if can_read(current_user, p["programme"])
    ]


def example_period(programme: dict[str, Any]) -> str:
    defined = programme["calendar"].defined  # a custom cadence: its own first period
    if defined:
        return defined[0].name
    return "2024/25 Q1" if programme["cadence"] == "quarterly" else "2026-01"


def edition_arg() -> int | None:
    text = request.args.get("edition", "").strip()
    if not text:
        return None
    number = whole_number(text)
    if number is None:
        abort(404)
    return number


# ---------------------------------------------------------------- as-at


def as_at_of(text: str) -> int | str | None:
    """'' -> live; else a log position or an ISO date/time, checked by the projections'
    own parser, a date or a time with no zone read as UK time (a date means the end of
    that UK day). Raises ValueError."""
    from projections.system import parse_as_at

    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit():
        position = whole_number(text)
        if position is None:
            raise ValueError(f"A log position is a whole number up to {LARGEST_NUMBER}.")
        return position
    text = as_uk_time(text)
    parse_as_at(text)
    return text


def built_report(programme: str, kind: str, period: str, as_at: int | str | None) -> Report:
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


def document(content: bytes, *, source: str = "") -> Response:
    response = Response(content, mimetype="text/html")
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = document_csp(content)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if source:
        response.headers["X-Govledger-Source"] = source
    return response


def filename(programme: str, kind: str, period: str, suffix: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9]+", "-", f"{programme}-{kind}-{period}").strip("-").lower()
    return f"{safe}.{suffix}"
