"""Step 2: record the rows checked in step 1, whole or not at all, if they are still the
confirming user's, in their session, and not expired."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from web.forms import add_error
from web.permissions import requires_role
from web.transfer import waiting
from web.transfer.common import EXPIRED, IMPORT_ROLE, ConfirmForm, UploadForm
from web.transfer.upload import apply_as_user, problems_page, upload_page


@requires_role(IMPORT_ROLE)
def confirm() -> str | Response:
    form = ConfirmForm()
    valid = form.validate_on_submit()
    claimed = waiting.claim(form.token.data or "", current_user.username) if valid else None
    if claimed is None:
        again = UploadForm(formdata=None)
        add_error(again, EXPIRED, field="file")
        return upload_page(again)
    pending, prepared = claimed
    waiting.discard_pending()
    result = apply_as_user(prepared, pending, dry_run=False)
    if not result.ok:  # the ledger, or the user's access, changed since the check
        return problems_page(UploadForm(formdata=None), result, pending, moved_on=True)
    flash(f"{pending.name}: {result.summary()}", "success")
    return redirect(url_for("home.index"))
