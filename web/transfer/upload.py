"""Step 1, for programme managers: upload a file, which is read and checked once (a dry
run showing every problem, or what would be recorded), and kept for confirmation.

A file is only ever recorded if every row is for a programme assigned to the uploader.
Administrators manage access, not content; auditors and analysts never write."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from flask import current_app, render_template, request
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from ledger.transfer.importing import Prepared, prepare, record, unassigned_programmes
from ledger.transfer.kinds import KINDS
from ledger.transfer.preview import preview
from ledger.transfer.results import ImportResult, Outcome, Problem, RefusedFile, RowOutcome, plural
from web import errors
from web.backend import backend
from web.forms import add_error
from web.permissions import permission_of, requires_role
from web.transfer import jobs, waiting
from web.transfer.common import ENVELOPE, IMPORT_ROLE, ConfirmForm, UploadForm, max_size

SHOWN_ROWS = 1_000  # new and changed rows listed on the check page
SUMMARY_PROBLEMS = 10  # problems in the error summary; the table below lists them all


# ---------------------------------------------------------------- checking


def apply_as_user(prepared: Prepared, upload: waiting.Upload, *, dry_run: bool) -> ImportResult:
    """Apply `prepared` as the signed-in user; a file touching a programme that is not
    theirs is only ever checked, never recorded."""
    refused = unassigned_programmes(prepared, getattr(current_user, "programmes", ()))
    result = record(
        backend().ledger, prepared, actor=current_user.username, dry_run=dry_run or bool(refused),
        source_name=upload.name,
    )
    result.problems[:0] = refused
    return result


# ---------------------------------------------------------------- what the pages show


def _where(file: str, sheet: str | None, upload: waiting.Upload) -> str:
    name = upload.name if file == upload.stored else file
    return name if sheet is None else f"{name}, sheet {sheet}"


def _problem_rows(problems: Sequence[Problem], upload: waiting.Upload) -> list[dict[str, Any]]:
    shown = []
    for index, problem in enumerate(problems, 1):
        where = _where(problem.file, problem.sheet, upload)
        at = "".join(
            [f", row {problem.row}" if problem.row is not None else "",
             f", column {problem.column}" if problem.column else ""]
        )
        shown.append({
            "id": f"problem-{index}", "where": where, "row": problem.row, "column": problem.column,
            "message": problem.message, "text": f"{where}{at}: {problem.message}",
        })
    return shown


def _counts(result: ImportResult) -> list[dict[str, Any]]:
    by_kind = result.row_counts()
    shown = (Outcome.NEW, Outcome.CHANGED, Outcome.UNCHANGED)
    return [
        {"kind": kind, **{o.value: by_kind[kind][o] for o in shown},
         "events": result.events_by_kind.get(kind, 0)}
        for kind in KINDS if kind in by_kind
    ]


def _event_name(name: str) -> str:
    """An event class name as words: StatusRecorded -> Status recorded."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).capitalize()


def _changed_rows(rows: Iterable[RowOutcome], upload: waiting.Upload) -> list[dict[str, Any]]:
    return [
        {"where": _where(r.file, r.sheet, upload), "row": r.row, "kind": r.kind,
         "outcome": r.outcome, "events": ", ".join(map(_event_name, r.events))}
        for r in rows if r.outcome in (Outcome.NEW, Outcome.CHANGED)
    ]


def _will_record(result: ImportResult) -> str:
    kinds = ", ".join(f"{kind} {n:,}" for kind, n in result.events_by_kind.items() if n)
    return (
        f"Recording this file will add {plural(result.event_count, 'event')} to the ledger "
        f"({kinds}). Nothing has been recorded yet."
    )


def status_of(result: ImportResult) -> int:
    """413 or 422 for a file refused unread (a zip bomb, a damaged workbook), else 200:
    the problems page is the check's ordinary answer."""
    return max((p.http_status for p in result.problems if isinstance(p, RefusedFile)), default=200)


def upload_page(form: UploadForm, **context: Any) -> str:
    return render_template(
        "transfer/upload.html", form=form, max_size=max_size(), job_size=max_size("IMPORT_JOB_BYTES"),
        **context,
    )


def problems_page(form: UploadForm, result: ImportResult, upload: waiting.Upload, **context: Any) -> str:
    problems = _problem_rows(result.problems, upload)
    # The error summary links each problem to its row in the table; a long list is cut
    # short there, never in the table.
    summary = [{"text": p["text"], "href": f"#{p['id']}"} for p in problems[:SUMMARY_PROBLEMS]]
    if len(problems) > SUMMARY_PROBLEMS:
        summary.append({"text": f"and {len(problems) - SUMMARY_PROBLEMS:,} more, listed below",
                        "href": "#problems"})
    return upload_page(
        form, upload=upload, problems=problems, problem_summary=summary, notes=result.notes, **context,
    )


# ---------------------------------------------------------------- views


def limit_upload_size(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # URL value preprocessors run before any before_request function, and so before
    # CSRFProtect reads the body: an oversized upload is refused before it is read.
    if endpoint == "transfer.upload":
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"] + ENVELOPE


def too_large(error: RequestEntityTooLarge) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    if not permission_of(upload).allows(current_user):  # the body is refused before the view
        return errors.http_error(error)
    form = UploadForm(formdata=None)  # the body is not read again
    add_error(form, f"The selected file must be smaller than {max_size()}", field="file")
    return upload_page(form), 413


@requires_role(IMPORT_ROLE)
def upload() -> str | tuple[str, int] | Response:
    """Step 1: read and check the file once (a dry run), and keep what was checked."""
    form = UploadForm()
    if not form.validate_on_submit():
        return upload_page(form)
    waiting.sweep()
    waiting.discard_pending()  # one waiting upload per session: the latest
    if jobs.runs_in_background(form.file.data):
        return jobs.queue_import(form.file.data, form.restate_reason.data or "")
    pending = waiting.receive(form.file.data, current_user.username)
    prepared = prepare(backend().ledger, pending.path).restating(form.restate_reason.data or "")
    result = apply_as_user(prepared, pending, dry_run=True)
    if result.ok and result.event_count:
        waiting.keep(pending, prepared)
    else:
        waiting.discard(pending.folder)  # problems, or nothing to confirm
    if not result.ok:
        return problems_page(form, result, pending), status_of(result)
    return render_template(
        "transfer/check.html",
        form=ConfirmForm(formdata=None, token=pending.token),
        upload=pending,
        result=result,
        will_record=_will_record(result),
        counts=_counts(result),
        changed=_changed_rows(result.rows, pending),
        shown_rows=SHOWN_ROWS,
        # The same report as `govledger import --dry-run`: periods, new, changed, restated.
        onboarding=preview(backend().ledger, prepared, result),
    )
