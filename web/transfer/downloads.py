"""Downloads for anyone signed in: the whole ledger in the import format, and the empty
template."""

from __future__ import annotations

import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from flask import render_template, send_file
from flask_login import current_user
from werkzeug.wrappers import Response

from ledger.transfer.export import export
from ledger.transfer.template import template_workbook
from web.backend import backend
from web.permissions import requires_login
from web.transfer.common import IMPORT_ROLE, XLSX_TYPE, private_folder


@requires_login
def index() -> str:
    return render_template("transfer/index.html", can_import=current_user.has_role(IMPORT_ROLE))


@requires_login
def export_xlsx() -> Response:
    """The whole ledger in the import format, as at the moment the export began."""
    with tempfile.TemporaryDirectory(prefix="export-", dir=private_folder()) as folder:
        result = export(backend().ledger, Path(folder) / "ledger.xlsx")
        # The open file stays readable once its folder is removed (POSIX), so nothing is
        # left behind however the download ends.
        handle = result.path.open("rb")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    response = send_file(
        handle, mimetype=XLSX_TYPE, as_attachment=True,
        download_name=f"governance-ledger-{stamp}.xlsx",
    )
    response.headers["X-Govledger-Log-Position"] = str(result.log_position)
    return response


@requires_login
def template_xlsx() -> Response:
    return send_file(
        io.BytesIO(template_workbook()), mimetype=XLSX_TYPE, as_attachment=True,
        download_name="governance-ledger-import-template.xlsx",
    )
