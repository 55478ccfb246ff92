"""What the transfer pages share: settings, the private folder, and the two forms."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput, GovTextInput
from werkzeug.datastructures import FileStorage
from wtforms import Field, HiddenField, StringField, SubmitField, ValidationError
from wtforms.validators import InputRequired, Length

from ledger.transfer.archive import size_text
from web.permissions import PROGRAMME_MANAGER

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_ROLE = PROGRAMME_MANAGER
PRIVATE_FOLDER = "transfer"  # in the data directory: uploads waiting for confirmation, exports
ENVELOPE = 64 * 1024  # multipart boundaries and the CSRF field around the file itself
DEFAULTS: dict[str, Any] = {
    "IMPORT_MAX_BYTES": 20 * 1024 * 1024,
    "IMPORT_UPLOAD_TTL": timedelta(hours=1),
    # Larger uploads are imported by a background job ($GOVLEDGER_IMPORT_JOB_BYTES).
    "IMPORT_JOB_BYTES": 2 * 1024 * 1024,
}
EXPIRED = "Your check of the file has expired or was not made by you. Upload the file again"


def private_folder() -> Path:
    folder = Path(current_app.config["DATA_DIR"]) / PRIVATE_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def max_size(setting: str = "IMPORT_MAX_BYTES") -> str:
    return size_text(current_app.config[setting])


def _within_size_limit(form: FlaskForm, field: Field) -> None:
    data = field.data
    if not isinstance(data, FileStorage):
        return
    size = data.stream.seek(0, os.SEEK_END)
    data.stream.seek(0)
    if size == 0:
        raise ValidationError("The selected file is empty")
    if size > current_app.config["IMPORT_MAX_BYTES"]:
        raise ValidationError(f"The selected file must be smaller than {max_size()}")


class UploadForm(FlaskForm):
    file = FileField(
        "Upload a file",
        widget=GovFileInput(),
        validators=[
            FileRequired("Select a file"),
            FileAllowed(
                ("xlsx", "csv"), "The selected file must be an Excel workbook (.xlsx) or a CSV file"
            ),
            _within_size_limit,
        ],
    )
    # A history grid cell that disagrees with the ledger is refused unless restated on purpose.
    restate_reason = StringField(
        "Reason for restating history (optional)",
        widget=GovTextInput(),
        validators=[Length(max=500, message="The reason must be 500 characters or fewer")],
    )
    submit = SubmitField("Check the file", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(EXPIRED)])
    submit = SubmitField("Record these changes", widget=GovSubmitInput())
