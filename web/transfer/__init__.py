"""Spreadsheets in and out, in the import format (docs/import-format.md): the whole ledger
as a workbook and an empty template (`downloads`), and for programme managers an upload
that is read and checked once (`upload`), then recorded on a second POST (`confirm`), or
above a size threshold imported by a background job (`jobs`);
between the two its checked rows wait under a token bound to the session (`waiting`).

Every route is registered here, in one place."""

from __future__ import annotations

from flask import Blueprint, Flask
from werkzeug.exceptions import RequestEntityTooLarge

from web.transfer import confirm, downloads, jobs, upload
from web.transfer.common import DEFAULTS, ENVELOPE, PRIVATE_FOLDER

bp = Blueprint("transfer", __name__)
bp.add_url_rule("/import-export", view_func=downloads.index)
bp.add_url_rule("/export.xlsx", view_func=downloads.export_xlsx)
bp.add_url_rule("/import/template.xlsx", view_func=downloads.template_xlsx)
bp.add_url_rule("/import", view_func=upload.upload, methods=["GET", "POST"])
bp.add_url_rule("/import/confirm", view_func=confirm.confirm, methods=["POST"])
bp.add_url_rule("/import/jobs/<job_id>", view_func=jobs.job)
bp.add_url_rule("/import/jobs/<job_id>/retry", view_func=jobs.retry_job, methods=["POST"])
bp.url_value_preprocessor(upload.limit_upload_size)
bp.register_error_handler(RequestEntityTooLarge, upload.too_large)


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)


__all__ = ["ENVELOPE", "PRIVATE_FOLDER", "bp", "init_app"]
