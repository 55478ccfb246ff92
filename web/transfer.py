"""Spreadsheets in and out, in the import format (docs/import-format.md): the whole ledger
as a workbook, an empty template, and an upload page.

An upload is checked first (a dry run: every problem, or what would be recorded) and
recorded only on a second POST. In between, the file waits in a private folder in the
data directory under a random token. The token is kept in the uploader's session and
the folder names its owner, so nobody else can confirm it; it expires, so an old check
cannot be recorded long after. Recording is the importer's one transaction: the whole
file, or nothing.

Who may do what:
- download the ledger or the template: anyone signed in (everyone reads every programme);
- import: programme managers, and only files whose every row is for a programme assigned
  to them. Administrators manage access, not content; auditors and analysts never write.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import Field, HiddenField, SubmitField, ValidationError
from wtforms.validators import InputRequired

from ledger.exporter import export, header
from ledger.importer import (
    COLUMNS,
    KINDS,
    README_SHEET,
    ImportResult,
    Problem,
    RefusedFile,
    RowOutcome,
    import_file,
    read_tables,
    size_text,
)
from web import errors
from web.backend import backend
from web.forms import add_error
from web.permissions import PROGRAMME_MANAGER, is_assigned, permission_of, requires_login, requires_role

bp = Blueprint("transfer", __name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_ROLE = PROGRAMME_MANAGER
FORMAT_DOC = Path(__file__).resolve().parents[1] / "docs" / "import-format.md"
PRIVATE_FOLDER = "transfer"  # in the data directory: uploads waiting for confirmation, exports
META = "upload.json"
SESSION_KEY = "transfer_upload"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
ENVELOPE = 64 * 1024  # multipart boundaries and the CSRF field around the file itself
SHOWN_ROWS = 1_000  # new and changed rows listed on the check page
SUMMARY_PROBLEMS = 10  # problems in the error summary; the table below lists them all
DEFAULTS: dict[str, Any] = {
    "IMPORT_MAX_BYTES": 20 * 1024 * 1024,
    "IMPORT_UPLOAD_TTL": timedelta(hours=1),
}
EXPIRED = "Your check of the file has expired or was not made by you. Upload the file again"


# ---------------------------------------------------------------- forms


def _within_size_limit(form: FlaskForm, field: Field) -> None:
    data = field.data
    if not isinstance(data, FileStorage):
        return
    size = data.stream.seek(0, os.SEEK_END)
    data.stream.seek(0)
    if size == 0:
        raise ValidationError("The selected file is empty")
    limit = current_app.config["IMPORT_MAX_BYTES"]
    if size > limit:
        raise ValidationError(f"The selected file must be smaller than {size_text(limit)}")


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
    submit = SubmitField("Check the file", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(EXPIRED)])
    submit = SubmitField("Record these changes", widget=GovSubmitInput())


# ---------------------------------------------------------------- uploads waiting


@dataclass(frozen=True)
class Upload:
    token: str
    folder: Path
    owner: str
    name: str  # the file's name as its owner knows it: shown, never used as a path
    stored: str  # the name it is stored and imported under
    created: float

    @property
    def path(self) -> Path:
        return self.folder / self.stored


def _private_folder() -> Path:
    folder = Path(current_app.config["DATA_DIR"]) / PRIVATE_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _ttl() -> float:
    return current_app.config["IMPORT_UPLOAD_TTL"].total_seconds()


def _display_name(filename: str | None) -> str:
    # Some browsers send the whole path; only the last part means anything to the user.
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    return name[:200] or "the file"


def _csv_kind(name: str) -> str | None:
    """The kind a CSV file's name says, by the importer's rule ('2024 Q2 statuses.csv')."""
    stem = name.rsplit(".", 1)[0].strip().casefold()
    if stem in KINDS:
        return stem
    last = re.split(r"[-_ .]", stem)[-1]
    return last if last in KINDS else None


def _stored_name(name: str) -> str:
    """A fixed name the importer understands: a CSV's kind decides what it holds. An
    unrecognised CSV becomes upload.csv, which the importer refuses with its own advice."""
    if name.lower().endswith(".xlsx"):
        return "upload.xlsx"
    return f"{_csv_kind(name) or 'upload'}.csv"


def _save(file: FileStorage, owner: str) -> Upload:
    token = secrets.token_urlsafe(32)
    folder = _private_folder() / token
    folder.mkdir(mode=0o700)
    name = _display_name(file.filename)
    upload = Upload(token, folder, owner, name, _stored_name(name), time.time())
    file.save(upload.path)
    meta = {"owner": owner, "name": name, "stored": upload.stored, "created": upload.created}
    (folder / META).write_text(json.dumps(meta), encoding="utf-8")
    return upload


def _claim(token: str, owner: str) -> Upload | None:
    """The upload `token` names, taken out of waiting, if it is this session's, `owner`'s
    and not expired. Taken by renaming its folder, so a double click records it once."""
    if not TOKEN.match(token) or session.get(SESSION_KEY) != token:
        return None
    waiting = _private_folder() / token
    claimed = waiting.with_name(f"{token}.claimed")
    try:
        meta = json.loads((waiting / META).read_text(encoding="utf-8"))
        if meta["owner"] != owner:
            return None
        waiting.rename(claimed)
        os.utime(claimed)  # recording may take a while: not one for _sweep meanwhile
    except (OSError, ValueError, KeyError):
        return None
    upload = Upload(token, claimed, owner, meta["name"], meta["stored"], meta["created"])
    if time.time() - upload.created > _ttl():
        _discard(upload.folder)
        return None
    return upload


def _discard(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _discard_pending() -> None:
    """Forget this session's upload waiting for confirmation, if any."""
    token = session.pop(SESSION_KEY, None)
    if isinstance(token, str) and TOKEN.match(token):
        _discard(_private_folder() / token)


def _sweep() -> None:
    """Remove uploads never confirmed and exports a crash left behind."""
    cutoff = time.time() - _ttl()
    for entry in _private_folder().iterdir():
        try:
            if entry.stat().st_mtime >= cutoff:
                continue
            if entry.is_dir():
                _discard(entry)
            else:
                entry.unlink()
        except OSError:
            continue


# ---------------------------------------------------------------- checking and recording


def unassigned_programmes(path: Path, user: Any) -> list[Problem]:
    """One problem per programme `path` names that `user` is not assigned to, at its first
    row. A light pre-read through the importer's own reader: the import itself reports
    whatever else is wrong with the file, so the reader's problems are not kept here."""
    first: dict[str, tuple[Any, int, str]] = {}
    rows: dict[str, int] = {}
    for table in read_tables(path, [], []):
        column = table.columns.get("programme")
        if column is None:
            continue
        for number, cells in table.rows:
            programme = cells[column].strip() if column < len(cells) else ""
            if not programme or is_assigned(user, programme):
                continue  # an empty programme is the importer's to report
            key = programme.casefold()
            rows[key] = rows.get(key, 0) + 1
            first.setdefault(key, (table, number, programme))
    return [
        Problem(
            table.file,
            f"you are not assigned to programme {programme!r} ({_plural(rows[key], 'row')} in this file), "
            "so you cannot import it. Remove its rows, or ask an administrator for access to it.",
            table.sheet,
            number,
            "programme",
        )
        for key, (table, number, programme) in first.items()
    ]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _import(upload: Upload, *, dry_run: bool) -> ImportResult:
    """Import `upload` as the signed-in user; a file touching a programme that is not
    theirs is only ever checked, never recorded."""
    refused = unassigned_programmes(upload.path, current_user)
    result = import_file(
        backend().ledger,
        upload.path,
        actor=current_user.username,
        dry_run=dry_run or bool(refused),
        source_name=upload.name,
    )
    result.problems[:0] = refused
    return result


# ---------------------------------------------------------------- what the pages show


def _where(file: str, sheet: str | None, upload: Upload) -> str:
    name = upload.name if file == upload.stored else file
    return name if sheet is None else f"{name}, sheet {sheet}"


def _problem_rows(problems: Sequence[Problem], upload: Upload) -> list[dict[str, Any]]:
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
    return [
        {"kind": kind, **{o: by_kind[kind][o] for o in ("new", "changed", "unchanged")},
         "events": result.events_by_kind.get(kind, 0)}
        for kind in KINDS if kind in by_kind
    ]


def _event_name(name: str) -> str:
    """An event class name as words: StatusRecorded -> Status recorded."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).capitalize()


def _changed_rows(rows: Iterable[RowOutcome], upload: Upload) -> list[dict[str, Any]]:
    return [
        {"where": _where(r.file, r.sheet, upload), "row": r.row, "kind": r.kind,
         "outcome": r.outcome, "events": ", ".join(map(_event_name, r.events))}
        for r in rows if r.outcome != "unchanged"
    ]


def _will_record(result: ImportResult) -> str:
    kinds = ", ".join(f"{kind} {n:,}" for kind, n in result.events_by_kind.items() if n)
    return (
        f"Recording this file will add {_plural(result.event_count, 'event')} to the ledger "
        f"({kinds}). Nothing has been recorded yet."
    )


def _status(result: ImportResult) -> int:
    """413 or 422 for a file refused unread (a zip bomb, a damaged workbook), else 200:
    the problems page is the check's ordinary answer."""
    return max((p.http_status for p in result.problems if isinstance(p, RefusedFile)), default=200)


def _upload_page(form: UploadForm, **context: Any) -> str:
    return render_template(
        "transfer/upload.html",
        form=form,
        max_size=size_text(current_app.config["IMPORT_MAX_BYTES"]),
        **context,
    )


def _problems_page(form: UploadForm, result: ImportResult, upload: Upload, **context: Any) -> str:
    problems = _problem_rows(result.problems, upload)
    # The error summary links each problem to its row in the table; a long list is cut
    # short there, never in the table.
    summary = [{"text": p["text"], "href": f"#{p['id']}"} for p in problems[:SUMMARY_PROBLEMS]]
    if len(problems) > SUMMARY_PROBLEMS:
        summary.append({"text": f"and {len(problems) - SUMMARY_PROBLEMS:,} more, listed below",
                        "href": "#problems"})
    return _upload_page(
        form, upload=upload, problems=problems, problem_summary=summary, notes=result.notes,
        **context,
    )


# ---------------------------------------------------------------- views


@bp.route("/import-export")
@requires_login
def index() -> str:
    return render_template("transfer/index.html", can_import=current_user.has_role(IMPORT_ROLE))


@bp.route("/export.xlsx")
@requires_login
def export_xlsx() -> Response:
    """The whole ledger in the import format, as at the moment the export began."""
    with tempfile.TemporaryDirectory(prefix="export-", dir=_private_folder()) as folder:
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


@bp.route("/import/template.xlsx")
@requires_login
def template_xlsx() -> Response:
    return send_file(
        io.BytesIO(template_workbook()), mimetype=XLSX_TYPE, as_attachment=True,
        download_name="governance-ledger-import-template.xlsx",
    )


@bp.url_value_preprocessor
def _limit_upload_size(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # URL value preprocessors run before any before_request function, and so before
    # CSRFProtect reads the body: an oversized upload is refused before it is read.
    if endpoint == "transfer.upload":
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"] + ENVELOPE


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    if not permission_of(upload).allows(current_user):  # the body is refused before the view
        return errors.http_error(error)
    form = UploadForm(formdata=None)  # the body is not read again
    limit = size_text(current_app.config["IMPORT_MAX_BYTES"])
    add_error(form, f"The selected file must be smaller than {limit}", field="file")
    return _upload_page(form), 413


@bp.route("/import", methods=["GET", "POST"])
@requires_role(IMPORT_ROLE)
def upload() -> str | tuple[str, int]:
    """Step 1: save the file and check it (a dry run)."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form)
    _sweep()
    _discard_pending()  # one waiting upload per session: the latest
    pending = _save(form.file.data, current_user.username)
    result = _import(pending, dry_run=True)
    if not result.ok:
        _discard(pending.folder)
        return _problems_page(form, result, pending), _status(result)
    if result.event_count:
        session[SESSION_KEY] = pending.token
    else:
        _discard(pending.folder)  # nothing to confirm
    return render_template(
        "transfer/check.html",
        form=ConfirmForm(formdata=None, token=pending.token),
        upload=pending,
        result=result,
        will_record=_will_record(result),
        counts=_counts(result),
        changed=_changed_rows(result.rows, pending),
        shown_rows=SHOWN_ROWS,
    )


@bp.route("/import/confirm", methods=["POST"])
@requires_role(IMPORT_ROLE)
def confirm() -> str | Response:
    """Step 2: record the checked file, whole or not at all."""
    form = ConfirmForm()
    pending = _claim(form.token.data or "", current_user.username) if form.validate_on_submit() else None
    if pending is None:
        again = UploadForm(formdata=None)
        add_error(again, EXPIRED, field="file")
        return _upload_page(again)
    session.pop(SESSION_KEY, None)
    try:
        result = _import(pending, dry_run=False)
    finally:
        _discard(pending.folder)
    if not result.ok:  # the ledger, or the user's access, changed since the check
        return _problems_page(UploadForm(formdata=None), result, pending, moved_on=True)
    flash(f"{pending.name}: {result.summary()}", "success")
    return redirect(url_for("home.index"))


# ---------------------------------------------------------------- the template


def _plain(markdown: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", markdown)
    return " ".join(text.replace("`", "").replace("**", "").split())


@cache
def documented_columns() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """Each kind's rows in docs/import-format.md, as (columns, meaning): its table rows
    (`| programme, ref | e.g. R1 |` describes two columns together) and its 'Optional
    column `x`: ...' paragraphs. Empty if the guide is not installed alongside the code."""
    try:
        text = FORMAT_DOC.read_text(encoding="utf-8")
    except OSError:
        return {}
    documented: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for section in re.finditer(r"^## (\w+)\.csv\n(.*?)(?=^## |\Z)", text, re.M | re.S):
        rows = documented.setdefault(section[1], [])
        for line in section[2].splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.startswith("|") or len(cells) != 2 or cells[0] == "column":
                continue
            if set(cells[0]) <= set("-: "):
                continue  # the |---|---| line
            rows.append((tuple(_plain(name) for name in cells[0].split(",")), _plain(cells[1])))
        for name, meaning in re.findall(r"Optional column `(\w+)`: (.+?)(?:\n\n|\Z)", section[2], re.S):
            rows.append(((name,), _plain(meaning)))
    return documented


def readme_rows(kind: str) -> list[tuple[str, str, str]]:
    """(columns, required, meaning) for the Read me: every column export writes for `kind`,
    in the file's order, grouped and described as the guide describes them (a group the
    guide leaves blank, like dependencies' "programme, ref, period, description, owner",
    stays blank: another kind's text for the same name would mislead)."""
    documented = documented_columns().get(kind, [])
    rows: list[tuple[str, str, str]] = []
    done: set[str] = set()
    for column in header(kind):
        if column in done:
            continue
        group, meaning = next(((cols, m) for cols, m in documented if column in cols), ((column,), ""))
        group = tuple(c for c in header(kind) if c in group and c not in done)
        rows.append((", ".join(group), "yes" if column in COLUMNS[kind] else "optional", meaning))
        done.update(group)
    return rows


README_INTRO = (
    "Governance Ledger import template",
    "Fill in the sheets you need, one row per record, and leave the others empty. Keep each "
    "sheet's first row, the header, as it is.",
    f"This {README_SHEET} sheet is ignored when you upload the workbook.",
    "Upload the workbook on the Import page. It is checked first and nothing is recorded until "
    "you confirm; then the whole file is recorded, or nothing is.",
    "The full guide is docs/import-format.md.",
)


def template_workbook() -> bytes:
    """An empty workbook: a sheet per kind with the exact header row export writes, and a
    Read me sheet describing every column. Every cell is text, so nothing is evaluated."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def text(sheet: Any, value: str, *, strong: bool = False) -> Any:
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        if strong:
            cell.font = bold
        return cell

    readme = book.create_sheet(README_SHEET)
    for letter, width in zip("ABCD", (16, 22, 12, 100), strict=True):
        readme.column_dimensions[letter].width = width
    for index, line in enumerate(README_INTRO):
        readme.append([text(readme, line, strong=index == 0)])
    readme.append([])
    readme.append([text(readme, h, strong=True) for h in ("Sheet", "Columns", "Required", "Meaning")])
    for kind in KINDS:
        for row in readme_rows(kind):
            readme.append([text(readme, value) for value in (kind, *row)])

    for kind in KINDS:
        sheet = book.create_sheet(kind)
        sheet.freeze_panes = "A2"
        sheet.append([text(sheet, column, strong=True) for column in header(kind)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)
