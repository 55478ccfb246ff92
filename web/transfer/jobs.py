"""Imports over the size threshold ($GOVLEDGER_IMPORT_JOB_BYTES) run as background jobs
(govledger.jobs): the upload is kept in the job store and a job queued; its page shows a
progress bar until it ends, then what was recorded or every problem's row and column,
and a failed job can be retried. Only the person who asked for a job sees it."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from flask import abort, current_app, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms import SubmitField

from ledger.transfer.stored_files import store
from projections.queries.jobs import get_job
from web.backend import backend, read_model
from web.jobs import REFRESH_SECONDS, retry_failed
from web.permissions import requires_role
from web.transfer import waiting
from web.transfer.common import IMPORT_ROLE


class RetryForm(FlaskForm):
    submit = SubmitField("Retry the import", widget=GovSubmitInput())


def runs_in_background(file: FileStorage) -> bool:
    size = file.stream.seek(0, os.SEEK_END)
    file.stream.seek(0)  # read again from the start, here or by the inline check
    return size > current_app.config["IMPORT_JOB_BYTES"]


def queue_import(file: FileStorage, restate_reason: str) -> Response:
    """Keep the file in the job store and queue its import; go to the job's page."""
    name = waiting.display_name(file.filename)
    stored = waiting.stored_name(name)
    kept = store(current_app.config["DATA_DIR"], file.stream, stored)
    job = backend().ledger.queue_job(
        "import", file_sha256=kept.sha256, file_name=name, file_size=kept.size,
        options={"stored": stored, "restate_reason": restate_reason.strip()}, actor=current_user.username,
    )
    return redirect(url_for("transfer.job", job_id=job))


def _own_job(job_id: str) -> dict[str, Any]:
    try:
        key = str(UUID(job_id))
    except ValueError:
        abort(404)
    job = get_job(read_model(), key, now=datetime.now(UTC))
    if job is None or job["requested_by"] != current_user.username:
        abort(404)  # someone else's job is not theirs to know about
    return job


def _problems(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": f"problem-{n}", "row": p["row"], "column": p["column"], "message": p["message"],
         "where": p["file"] if p["sheet"] is None else f"{p['file']}, sheet {p['sheet']}"}
        for n, p in enumerate(result["problems"], 1)
    ]


@requires_role(IMPORT_ROLE)
def job(job_id: str) -> str:
    found = _own_job(job_id)
    result = found["result"] or {}
    return render_template(
        "transfer/job.html",
        job=found,
        problems=_problems(result) if result.get("problems") else [],
        result=result,
        upload={"name": found["file_name"]},
        refresh=REFRESH_SECONDS if found["shown_state"] in ("queued", "running") else None,
        form=RetryForm(formdata=None),
    )


@requires_role(IMPORT_ROLE)
def retry_job(job_id: str) -> Response:
    found = _own_job(job_id)
    form = RetryForm()
    if form.validate_on_submit() and found["shown_state"] == "failed":
        retry_failed(found, f"{found['file_name']}: the import is queued again.")
    return redirect(url_for("transfer.job", job_id=found["job"]))
