"""Background jobs other than imports (web.transfer.jobs has the import's own pages): a
rebuild of the read model, which administrators ask for (`/admin/rebuild`), and a report
download over $GOVLEDGER_REPORT_JOB_ITEMS items (web.reports.background). Each has one
page, `/jobs/<id>`: a progress bar while it runs, how it ended, a retry once it failed,
and a finished report's download.

Who sees a job: a rebuild, administrators; a report, whoever may read that programme's
reports; an import, only who asked for it (on its own page).

A job's request is kept in this node's job store, so this node's worker runs it: the
read model rebuilt, or the report kept for download, is the one this node serves."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from werkzeug.wrappers import Response
from wtforms import SubmitField

from ledger.errors import LedgerError, UnknownRef
from ledger.transfer.stored_files import StoredFileMissing, store, stored_path
from projections.queries.jobs import get_job, get_recent_jobs
from web.backend import backend, read_model
from web.permissions import ADMINISTRATOR, can_read, requires_login, requires_role

bp = Blueprint("jobs", __name__)
REQUEST = "request.json"  # the name a job's request is kept under in the job store
REFRESH_SECONDS = 2  # how often a queued or running job's page reloads itself
DEFAULTS: dict[str, Any] = {
    # Report downloads for programmes with more items than this are built by a job.
    "REPORT_JOB_ITEMS": 2_000,
}


class RebuildForm(FlaskForm):
    submit = SubmitField("Rebuild the read model", widget=GovSubmitInput())


class RetryForm(FlaskForm):
    submit = SubmitField("Retry", widget=GovSubmitInput())


def queue_here(kind: str, name: str, options: dict[str, Any]) -> UUID:
    """Queue a job for this node's worker: its request is kept in this node's job store
    (under a nonce, so each request is a file of its own), the event names its hash."""
    request = {"kind": kind, "options": options, "by": current_user.username,
               "at": datetime.now(UTC).isoformat(), "nonce": uuid4().hex}
    kept = store(current_app.config["DATA_DIR"], io.BytesIO(json.dumps(request).encode()), REQUEST)
    return backend().ledger.queue_job(
        kind, file_sha256=kept.sha256, file_name=name, file_size=kept.size,
        options={"stored": REQUEST, **options}, actor=current_user.username,
    )


def job_page(job: UUID) -> Response:
    return redirect(url_for("jobs.job", job_id=job))


def retry_failed(found: dict[str, Any], queued_again: str) -> None:
    """Queue a failed job again (first recording that its lost worker stopped)."""
    ledger = backend().ledger
    if found["lost"]:  # its worker stopped and no worker has said so yet
        ledger.expire_job(UUID(found["job"]), actor=current_user.username)
    try:
        ledger.retry_job(UUID(found["job"]), actor=current_user.username)
    except LedgerError as error:  # retried or expired by someone else meanwhile
        flash(error.message, "error")
    else:
        flash(queued_again, "success")


def _may_see(found: dict[str, Any], options: dict[str, Any]) -> bool:
    if found["kind"] == "rebuild":
        return bool(current_user.has_role(ADMINISTRATOR))
    if found["kind"] == "report":
        return can_read(current_user, options["programme"])
    return bool(found["requested_by"] == current_user.username)


def _visible_job(job_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The job as pages show it and its options; 404 for anyone who may not see it."""
    try:
        key = UUID(job_id)
    except ValueError:
        abort(404)
    found = get_job(read_model(), str(key), now=datetime.now(UTC))
    if found is None:
        abort(404)
    try:
        options = backend().ledger.get_job(key)["options"]
    except UnknownRef:
        abort(404)
    if not _may_see(found, options):
        abort(404)  # not theirs to know about
    return found, options


@bp.route("/admin/rebuild", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def rebuild() -> str | Response:
    """Rebuild the read model from the whole event log, in the background."""
    form = RebuildForm()
    if form.validate_on_submit() and form.submit.data:  # the button, not an empty POST
        return job_page(queue_here("rebuild", "projections.db", {}))
    recent = get_recent_jobs(read_model(), "rebuild", now=datetime.now(UTC))
    return render_template("jobs/rebuild.html", form=form, jobs=recent)


@bp.route("/jobs/<job_id>")
@requires_login
def job(job_id: str) -> str | Response:
    found, options = _visible_job(job_id)
    if found["kind"] == "import":
        return redirect(url_for("transfer.job", job_id=found["job"]))
    return render_template(
        "jobs/job.html",
        job=found,
        options=options,
        result=found["result"] or {},
        refresh=REFRESH_SECONDS if found["shown_state"] in ("queued", "running") else None,
        form=RetryForm(formdata=None),
    )


@bp.route("/jobs/<job_id>/retry", methods=["POST"])
@requires_login
def retry_job(job_id: str) -> Response:
    found, _ = _visible_job(job_id)
    form = RetryForm()
    if form.validate_on_submit() and found["shown_state"] == "failed":
        retry_failed(found, f"{found['file_name']}: queued again.")
    return redirect(url_for("jobs.job", job_id=found["job"]))


@bp.route("/jobs/<job_id>/download")
@requires_login
def download(job_id: str) -> Response:
    """A finished report job's document, checked against the hash its job recorded."""
    found, _ = _visible_job(job_id)
    result = found["result"]
    if found["kind"] != "report" or found["shown_state"] != "done":
        abort(404)
    try:
        path = stored_path(current_app.config["DATA_DIR"], result["sha256"], result["stored"])
    except StoredFileMissing:
        flash("This report is no longer kept here: ask for it again from the report's page.", "error")
        return redirect(url_for("jobs.job", job_id=found["job"]))
    return send_file(path, as_attachment=True, download_name=result["download_name"])


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)
