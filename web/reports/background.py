"""Report downloads for programmes over $GOVLEDGER_REPORT_JOB_ITEMS items are built by a
background job (web.jobs), not in the request: the download link leads to a page that
says so, whose button (a POST, with its CSRF token) queues the job; the job's page then
shows its progress and offers the document to whoever may read the programme's reports.
Smaller programmes' reports are still built while the user waits (web.reports.pages)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from werkzeug.wrappers import Response
from wtforms import HiddenField, SubmitField

from projections.queries.items import get_item_count
from projections.reports.model import REPORT_KINDS
from web.backend import read_model
from web.jobs import job_page, queue_here
from web.permissions import EVERY_ROLE, requires_role
from web.reports.support import KINDS, as_at_of, bp, filename, period_of, programme_or_abort

FORMATS = {"xlsx": "spreadsheet (XLSX)", "docx": "Word committee paper (DOCX)"}


class BuildForm(FlaskForm):
    period = HiddenField()
    as_at = HiddenField()
    format = HiddenField()
    submit = SubmitField("Build the report", widget=GovSubmitInput())


def runs_in_background(programme: str) -> bool:
    return get_item_count(read_model(), programme) > current_app.config["REPORT_JOB_ITEMS"]


def offer(programme: dict[str, Any], kind: str, period: str, as_at: str, fmt: str) -> str:
    """The page a download link leads to when the report is built in the background."""
    form = BuildForm(formdata=None, period=period, as_at=as_at, format=fmt)
    return render_template(
        "reports/background.html", programme=programme, kind=kind, kind_name=REPORT_KINDS[kind],
        period=period, as_at=as_at, what=FORMATS[fmt], form=form,
        items=get_item_count(read_model(), programme["slug"]),
        threshold=current_app.config["REPORT_JOB_ITEMS"],
    )


@bp.route(f"/<programme>/<{KINDS}:kind>/build", methods=["POST"])
@requires_role(*EVERY_ROLE)
def build_in_background(programme: str, kind: str) -> Response:
    """Queue the report's build; anything but what `offer` posts is refused whole."""
    p = programme_or_abort(programme)
    form = BuildForm()
    period = period_of(p, form.period.data)
    if not form.validate_on_submit() or period is None or form.format.data not in FORMATS:
        abort(400)
    try:
        as_at = as_at_of(form.as_at.data or "")
    except ValueError:
        abort(400)
    fmt = form.format.data
    name = filename(p["slug"], kind, period, fmt)
    return job_page(queue_here("report", name, {
        "programme": p["slug"], "report": kind, "report_name": REPORT_KINDS[kind].lower(),
        "period": period, "as_at": as_at, "format": fmt, "download_name": name,
    }))
