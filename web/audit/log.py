"""The audit log: every event, filtered by programme, who, what and when, paged by
position, and exported as CSV (streamed, safe to open in a spreadsheet)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from flask import abort, render_template, request, url_for
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextInput
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import Form, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ledger.transfer.cells import protect_csv as neutralise  # the one formula guard
from projections import queries
from web.audit.support import AUDIT_ROLES, PAGE_SIZE, Row, bp, position_arg
from web.backend import backend
from web.dashboards import db, humanise
from web.permissions import requires_role

CSV_COLUMNS = (
    "position",
    "recorded_at",
    "actor",
    "programme",
    "aggregate_kind",
    "subject_ref",
    "event_type",
    "summary",
    "field",
    "from_value",
    "to_value",
    "reason",
    "period",
    "version",
    "chain_head",
)


def _event_choices() -> list[tuple[str, str]]:
    def label(key: str) -> str:
        kind, event = key.split(".")
        return f"{kind}: {humanise(event).lower()}"

    return [("", "Any event"), *((key, label(key)) for key in queries.get_event_types())]


def _iso_date(form: Form, field: StringField) -> None:
    if field.data:
        try:
            date.fromisoformat(field.data.strip())
        except ValueError:
            raise ValidationError(f"{field.label.text} must be a date like 2024-10-03") from None


class AuditLogFilters(Form):
    """Read from the query string, so a filtered page (and its CSV) has its own address."""

    programme = SelectField("Programme", widget=GovSelect(), validators=[Optional()], validate_choice=False)
    actor = StringField(
        "Who",
        description="A username, for example j.smith",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=100)],
    )
    event = SelectField("What happened", widget=GovSelect(), validators=[Optional()], validate_choice=False)
    since = StringField(
        "Recorded from",
        description="A date, for example 2024-10-03",
        widget=GovTextInput(),
        validators=[Optional(), _iso_date],
    )
    until = StringField(
        "Recorded up to and including",
        description="A date, for example 2024-12-31",
        widget=GovTextInput(),
        validators=[Optional(), _iso_date],
    )

    def filters(self) -> queries.AuditFilter:
        """What the (validated) form asks for."""

        def day(text: str | None) -> date | None:
            return date.fromisoformat(text.strip()) if text else None

        return queries.AuditFilter(
            programme=self.programme.data or None,
            actor=(self.actor.data or "").strip() or None,
            event=self.event.data or None,
            since=day(self.since.data),
            until=day(self.until.data),
        )

    def query_args(self) -> dict[str, str]:
        return {name: field.data for name, field in self._fields.items() if field.data}


def audit_filters(database: queries.Db, args: MultiDict[str, str]) -> AuditLogFilters:
    form = AuditLogFilters(args)
    form.programme.choices = [("", "All programmes")] + [
        (p["programme"], p["name"]) for p in queries.get_programmes(database)
    ]
    form.event.choices = _event_choices()
    return form


def audit_log_page(database: queries.Db, form: AuditLogFilters, before: int | None, after: int | None) -> Row:
    """A page of the filtered audit log, newest first, paged by position."""
    filters = form.filters()
    rows = queries.get_audit_log(database, filters, limit=PAGE_SIZE + 1, before=before, after=after)
    if after is not None:
        newer, older = len(rows) > PAGE_SIZE, True
        rows = rows[-PAGE_SIZE:]
    else:
        newer, older = before is not None, len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
    args = form.query_args()
    return {
        "form": form,
        "rows": rows,
        "newer_url": url_for("audit.log", **args, after=rows[0]["position"]) if newer and rows else None,
        "older_url": url_for("audit.log", **args, before=rows[-1]["position"]) if older and rows else None,
        "csv_url": url_for("audit.log_csv", **args),
    }


def csv_chunks(database: Path, filters: queries.AuditFilter) -> Iterator[str]:
    """The filtered audit log as CSV in log order, a thousand rows per chunk, so memory
    stays flat however long the log is. `database` is a path: the body is streamed after
    the request's app context, and its connection, are gone, so it is read on its own."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for rows in queries.iter_audit_log(database, filters, CSV_COLUMNS, batch=1000):
        writer.writerows([neutralise(v) for v in row] for row in rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@bp.route("/audit/log")
@requires_role(*AUDIT_ROLES)
def log() -> str | tuple[str, int]:
    form = audit_filters(db(), request.args)
    if not form.validate():
        return render_template("audit/log.html", form=form, rows=[], csv_url=None), 400
    page = audit_log_page(db(), form, position_arg("before"), position_arg("after"))
    return render_template("audit/log.html", **page)


@bp.route("/audit/log.csv")
@requires_role(*AUDIT_ROLES)
def log_csv() -> Response:
    form = audit_filters(db(), request.args)
    if not form.validate():
        abort(400)
    response = Response(csv_chunks(backend().system.projections_db, form.filters()), mimetype="text/csv")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response
