"""Auditors' pages: who changed what, when and why; what the record said on any date;
what changed after publication; is the record intact.

Who may read them (declared on each view):
- an item's timeline: anyone signed in. It shows nothing the dashboards don't (status,
  update, who, when, why), and officers need it to see who changed their items;
- the narrative diff, as-at, changed after publication, verify and the audit log:
  auditors, analysts, administrators and programme managers (the people who check and
  assemble the record), for every programme;
- taking a checkpoint (POST): auditors and administrators only.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextInput
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import Form, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ledger.integrity import (
    ChainBroken,
    Checkpoint,
    StoreUnavailable,
    VerifyResult,
    event_store,
    verify,
    write_checkpoint,
)
from projections import queries
from projections.handlers import HANDLERS
from projections.schema import SCHEMA_VERSION
from web.backend import backend, connect_read_only
from web.dashboards import (
    canonical_period,
    choose_period,
    dashboard_page,
    db,
    humanise,
    programme_or_404,
)
from web.permissions import requires_login, requires_role

bp = Blueprint("audit", __name__)

Row = dict[str, Any]

AUDIT_ROLES = ("auditor", "analyst", "administrator", "programme manager")
CHECKPOINT_ROLES = ("auditor", "administrator")
PAGE_SIZE = 50
AS_AT_CACHE_FILES = 32  # snapshots kept in <data dir>/cache/as-at, newest used first
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


def _read(database: Any, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Rows from the read model (for what projections.queries lacks: audit-log filters by
    event type and date, and a time's log position), on the request's connection (`db()`)
    or, given a path, on one opened read-only for the call."""
    conn, own = _connect(database)
    try:
        cursor = conn.execute(sql, tuple(params))
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        if own:
            conn.close()


def _connect(database: Any) -> tuple[sqlite3.Connection, bool]:
    """The connection to use, and whether it was opened here (and so is to be closed)."""
    if isinstance(database, sqlite3.Connection):
        return database, False
    return connect_read_only(database), True


def data_dir() -> Path:
    return Path(current_app.config["DATA_DIR"])


# ---------------------------------------------------------------- diffs


# Words, each with the whitespace after it (and any whitespace the text starts with).
# Matching on words alone keeps SequenceMatcher linear-ish on prose: with spaces as
# tokens of their own, the space between every pair of words is a candidate match
# everywhere, and (autojunk off) the matching goes quadratic.
_WORDS = re.compile(r"^\s+|\S+\s*")


def diff_html(before: str, after: str) -> Markup:
    """A word-level diff of two texts, escaped: deletions in <del>, insertions in <ins>,
    each also announced in words (visually hidden), so colour is never the only signal.

    Words are compared without the whitespace after them, so a change of spacing alone
    is not marked; kept text is shown as the new text has it, so the kept and inserted
    parts rebuild the new text exactly (and the kept and deleted parts the old words)."""
    a, b = _WORDS.findall(before or ""), _WORDS.findall(after or "")
    # Segments: (kept text, None) or (deleted text, inserted text).
    segments: list[tuple[str, str | None]] = []
    matcher = difflib.SequenceMatcher(None, [t.rstrip() for t in a], [t.rstrip() for t in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal" or not (old.strip() or new.strip()):
            segments.append((new, None))
            continue
        # The space after a change is kept, not changed: it stands for the old text's too.
        inserted = new.rstrip()
        space = new[len(inserted) :]
        if space:
            old = old.rstrip()
        elif j1 == len(b) and i1 and not b[-1][-1:].isspace():
            # Words deleted from the end of a text that now ends without a space: the
            # old text's space before them goes with them, so they don't run on.
            old = a[i1 - 1][len(a[i1 - 1].rstrip()) :] + old
        if (
            len(segments) >= 2
            and segments[-1][1] is None
            and not segments[-1][0].strip()
            and segments[-2][1] is not None
        ):
            # Only a space kept between two changes: one change reads better than
            # alternating single words.
            between = segments.pop()[0]
            deleted, earlier = segments.pop()
            segments.append((deleted + between + old, (earlier or "") + between + inserted))
        else:
            segments.append((old, inserted))
        if space:
            segments.append((space, None))
    out: list[Markup] = []
    for old, new in segments:
        if new is None:
            out.append(escape(old))
            continue
        if old:
            out.append(
                Markup(
                    '<del><span class="govuk-visually-hidden">[deleted: </span>{}'
                    '<span class="govuk-visually-hidden">]</span></del>'
                ).format(old)
            )
        if new:
            out.append(
                Markup(
                    '<ins><span class="govuk-visually-hidden">[inserted: </span>{}'
                    '<span class="govuk-visually-hidden">]</span></ins>'
                ).format(new)
            )
    return Markup("").join(out)


# ---------------------------------------------------------------- item timeline


def _restatement(event: Row, period_ends: dict[str, str]) -> str | None:
    """Words for a correction or re-rating of a period already recorded (the projections'
    rule for `restated`), saying whether the period had ended."""
    corrected = event["event_type"].endswith("Corrected")
    rerated = event["event_type"] == "StatusRecorded" and event["from_value"] not in (None, event["to_value"])
    if not (corrected or rerated) or not event["period"]:
        return None
    what = "corrects" if corrected else "re-rates"
    end = period_ends.get(event["period"])
    if end and event["recorded_at"][:10] > end:
        ended = date.fromisoformat(end)
        return f"Restatement: {what} {event['period']} after the period ended (on {ended.day} {ended:%B %Y})."
    return f"Restatement: {what} {event['period']} while the period was still open."


def _after_publication(event: Row, publications: list[Row]) -> list[str]:
    return [
        f"Recorded after {p['title']} (edition {p['edition']}) was published from log position "
        f"{p['log_position']}: the published report does not show this."
        for p in publications
        if event["period"] and p["period"] == event["period"] and p["log_position"] < event["position"]
    ]


def timeline_page(database: Any, slug: str, ref: str, before: int | None = None) -> Row:
    """The item's events, oldest first, a page at a time: the newest PAGE_SIZE recorded
    before the position `before` (default: the newest of all), with the status texts,
    restatements in words, and each update diffed against the text truly before it (on
    this page or not)."""
    programme = programme_or_404(database, slug)
    item = queries.get_item(database, slug, ref)
    if item is None:
        abort(404)
    events = queries.get_item_timeline(database, slug, item["ref"], limit=PAGE_SIZE + 1, before=before)
    older = len(events) > PAGE_SIZE
    events = events[-PAGE_SIZE:]
    # The whole text history is cheap to read (one row per text); diffing it is not, so
    # only the texts on this page are diffed, each against the one before it.
    history = queries.get_item_history(database, slug, item["ref"])
    shown = {event["position"] for event in events}
    periods = queries.get_periods(database, slug)
    publications = queries.get_publications(database, slug)
    period_ends = {p["period"]: p["period_end"] for p in periods}

    # Each text is compared with the one before it: in the same period, the text it
    # replaced; otherwise the last text of the period before.
    texts: dict[int, Row] = {}
    previous: Row | None = None
    for row in history:
        if row["position"] not in shown:
            previous = row
            continue
        if previous is None:
            against = None
        elif previous["period"] == row["period"]:
            against = "the text it replaced"
        else:
            against = f"the {previous['period']} update"
        texts[row["position"]] = {
            **row,
            "against": against,
            "update_diff": diff_html(previous["update"], row["update"]) if previous else None,
            "mitigation_diff": diff_html(previous["mitigation"], row["mitigation"]) if previous else None,
            "changed": previous is not None
            and (previous["update"], previous["mitigation"]) != (row["update"], row["mitigation"]),
        }
        previous = row

    entries = [
        {
            **event,
            "text": texts.get(event["position"]),
            "restatement": _restatement(event, period_ends),
            "after_publication": _after_publication(event, publications),
        }
        for event in events
    ]
    return {
        "programme": programme,
        "item": item,
        "entries": entries,
        "newer_url": _newer_timeline_url(database, slug, item["ref"], events) if before is not None else None,
        "older_url": (
            url_for("audit.timeline", programme=slug, ref=item["ref"], before=events[0]["position"])
            if older
            else None
        ),
    }


def _newer_timeline_url(database: Any, slug: str, ref: str, events: list[Row]) -> str:
    """The page after this one: the next PAGE_SIZE events, i.e. those before the event
    PAGE_SIZE + 1 places after this page's newest (or the newest page, if there are fewer)."""
    newest = events[-1]["position"] if events else 0
    rows = _read(
        database,
        "SELECT position FROM audit_log WHERE programme = ? AND subject_ref = ? AND aggregate_kind = 'Item' "
        "AND position > ? ORDER BY position LIMIT 1 OFFSET ?",
        (slug, ref, newest, PAGE_SIZE),
    )
    if not rows:
        return url_for("audit.timeline", programme=slug, ref=ref)
    return url_for("audit.timeline", programme=slug, ref=ref, before=rows[0]["position"])


# ---------------------------------------------------------------- narrative diff


def narrative_diff_page(database: Any, slug: str, from_text: str | None, to_text: str | None) -> Row:
    """Each report narrative section of one period against another (default: the latest
    period against the one before it)."""
    programme = programme_or_404(database, slug)
    periods = queries.get_periods(database, slug)
    labels = [p["period"] for p in periods]
    to = choose_period(programme, periods, to_text)
    if (from_text or "").strip():
        before = choose_period(programme, periods, from_text)
    else:
        index = labels.index(to) if to in labels else 0
        before = labels[index - 1] if index > 0 else None
    old = {s["section"]: s for s in queries.get_sections(database, slug, before)} if before else {}
    new = {s["section"]: s for s in queries.get_sections(database, slug, to)} if to else {}
    keys = sorted(set(old) | set(new), key=lambda k: (new.get(k) or old[k])["section_order"])
    sections = [
        {
            "section": key,
            "heading": (new.get(key) or old[key])["heading"],
            "before": old.get(key),
            "after": new.get(key),
            "diff": diff_html((old.get(key) or {}).get("text", ""), (new.get(key) or {}).get("text", "")),
            "changed": (old.get(key) or {}).get("text", "") != (new.get(key) or {}).get("text", ""),
        }
        for key in keys
    ]
    return {"programme": programme, "periods": periods, "before": before, "to": to, "sections": sections}


# ---------------------------------------------------------------- as at


@dataclass(frozen=True)
class AsAtPoint:
    when: str  # as typed, to carry between pages
    label: str  # in words, for the banner
    position: int


def _resolve(when: str) -> AsAtPoint:
    """The log position a typed position, date or time stands for. Raises ValueError.

    A time means every event recorded at or before it, as projections.system's as-at
    does; timestamps follow log order, so that is the log up to one position, and the
    snapshot can be cached by that position."""
    from projections.system import parse_as_at

    point = parse_as_at(when)
    live = db()
    last = queries.get_projection_position(live)
    if point.position is not None:
        if point.position > last:
            raise ValueError(f"The log has {last} events so far: enter a position from 0 to {last}.")
        row = _read(live, "SELECT recorded_at FROM audit_log WHERE position = ?", (point.position,))
        label = _moment_words(row[0]["recorded_at"]) if row else "the start of the log"
        return AsAtPoint(when, label, point.position)
    assert point.moment is not None
    found = _read(
        live,
        "SELECT max(position) AS position FROM audit_log WHERE recorded_at <= ?",
        (point.moment.isoformat(),),
    )
    text = when.strip()
    label = (
        f"the end of {_day_words(date.fromisoformat(text))} (UTC)"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)
        else _moment_words(point.moment.isoformat())
    )
    return AsAtPoint(when, label, found[0]["position"] or 0)


def _day_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _moment_words(iso: str) -> str:
    moment = datetime.fromisoformat(iso).astimezone(UTC)
    return f"{moment:%H:%M:%S} UTC on {_day_words(moment.date())}"


_snapshot_lock = threading.Lock()


def snapshot_for(position: int) -> Path:
    """The read model replayed up to `position`, built once and kept in the data dir's
    cache. Named by position, the chain head there and the schema version, so a file is
    never reused for a different history or an older shape of the read model."""
    from projections.system import snapshot_with

    head = _read(db(), "SELECT chain_head FROM audit_log WHERE position = ?", (position,))
    tag = head[0]["chain_head"][:16] if head else "genesis"
    directory = data_dir() / "cache" / "as-at"
    path = directory / f"position-{position}-{tag}-schema{SCHEMA_VERSION}.db"
    if path.exists():
        path.touch()  # recently used: pruned last
        return path
    # One build at a time in this process: snapshot_with's scratch file is named by pid.
    with _snapshot_lock:
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            snapshot_with(backend().system.ledger, path, position)
            _prune(directory, keep=path)
    return path


def _prune(directory: Path, keep: Path) -> None:
    files = sorted(directory.glob("position-*.db"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[AS_AT_CACHE_FILES:]:
        if old != keep:
            for path in (old, *(Path(f"{old}{s}") for s in ("-wal", "-shm"))):
                path.unlink(missing_ok=True)


# ---------------------------------------------------------------- verify


def latest_checkpoint(directory: Path) -> tuple[Path | None, Checkpoint | None, list[str]]:
    """The most recently taken readable checkpoint in <data dir>/checkpoints, and the
    problems with any that could not be read."""
    best: tuple[Path, Checkpoint] | None = None
    problems: list[str] = []
    for path in sorted((directory / "checkpoints").glob("*.json")):
        try:
            checkpoint = Checkpoint.load(path)
        except (OSError, ValueError) as error:
            problems.append(str(error))
            continue
        if best is None or (checkpoint.taken_at, checkpoint.events) >= (best[1].taken_at, best[1].events):
            best = (path, checkpoint)
    return (best[0], best[1], problems) if best else (None, None, problems)


def verify_page(directory: Path) -> Row:
    path, checkpoint, problems = latest_checkpoint(directory)
    checked_at = datetime.now(UTC).isoformat(timespec="seconds")
    store = event_store(directory)  # SQLite or PostgreSQL, as configured
    try:
        result: VerifyResult | None = verify(store, checkpoint)
    except FileNotFoundError:
        result = None
        problems.append(f"There is no event store at {store}.")
    except StoreUnavailable as error:
        result = None
        problems.append(str(error))
    return {
        "result": result,
        "checkpoint": checkpoint,
        "checkpoint_file": path.name if path else None,
        "problems": problems,
        "checked_at": checked_at,
    }


# ---------------------------------------------------------------- audit log


def _event_choices() -> list[tuple[str, str]]:
    def label(key: str) -> str:
        kind, event = key.split(".")
        return f"{kind}: {humanise(event).lower()}"

    return [("", "Any event"), *((key, label(key)) for key in sorted(HANDLERS))]


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

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.programme.data:
            clauses.append("programme = ?")
            params.append(self.programme.data)
        if (self.actor.data or "").strip():
            clauses.append("actor = ? COLLATE NOCASE")
            params.append(self.actor.data.strip())
        if self.event.data and "." in self.event.data:
            kind, event = self.event.data.split(".", 1)
            clauses += ["aggregate_kind = ?", "event_type = ?"]
            params += [kind, event]
        if self.since.data:
            clauses.append("recorded_at >= ?")
            params.append(date.fromisoformat(self.since.data.strip()).isoformat())
        if self.until.data:
            # recorded_at is ISO text in UTC: "before the next day" includes the whole day.
            clauses.append("recorded_at < ?")
            params.append((date.fromisoformat(self.until.data.strip()) + timedelta(days=1)).isoformat())
        return (" AND ".join(clauses) or "1"), params

    def query_args(self) -> dict[str, str]:
        return {name: field.data for name, field in self._fields.items() if field.data}


def audit_filters(database: Any, args: MultiDict[str, str]) -> AuditLogFilters:
    form = AuditLogFilters(args)
    form.programme.choices = [("", "All programmes")] + [
        (p["programme"], p["name"]) for p in queries.get_programmes(database)
    ]
    form.event.choices = _event_choices()
    return form


def audit_log_page(database: Any, form: AuditLogFilters, before: int | None, after: int | None) -> Row:
    """A page of the filtered audit log, newest first, paged by position."""
    where, params = form.where()
    if after is not None:
        rows = _read(
            database,
            f"SELECT * FROM audit_log WHERE {where} AND position > ? ORDER BY position LIMIT ?",
            (*params, after, PAGE_SIZE + 1),
        )
        newer, older = len(rows) > PAGE_SIZE, True
        rows = list(reversed(rows[:PAGE_SIZE]))
    else:
        extra = " AND position < ?" if before is not None else ""
        rows = _read(
            database,
            f"SELECT * FROM audit_log WHERE {where}{extra} ORDER BY position DESC LIMIT ?",
            (*params, *(() if before is None else (before,)), PAGE_SIZE + 1),
        )
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


_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?%?$")


def neutralise(value: Any) -> Any:
    """Spreadsheets run a cell starting = + - @ (or tab, CR) as a formula: prefix it with
    an apostrophe so it stays text. Plain numbers like -5 are left alone."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(value):
        return "'" + value
    return value


def csv_chunks(database: Path, where: str, params: Sequence[Any]) -> Iterator[str]:
    """The filtered audit log as CSV in log order, a thousand rows per chunk, so memory
    stays flat however long the log is. `database` is a path: the body is streamed after
    the request's app context, and its connection, are gone, so it opens its own."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    conn = connect_read_only(database)
    try:
        cursor = conn.execute(
            f"SELECT {', '.join(CSV_COLUMNS)} FROM audit_log WHERE {where} ORDER BY position", tuple(params)
        )
        while rows := cursor.fetchmany(1000):
            writer.writerows([neutralise(v) for v in row] for row in rows)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()
    finally:
        conn.close()


def _position_arg(name: str) -> int | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        abort(400)
    return int(text)


# ---------------------------------------------------------------- views


@bp.route("/programmes/<programme>/items/<path:ref>/timeline")
@requires_login
def timeline(programme: str, ref: str) -> str:
    page = timeline_page(db(), programme, ref, _position_arg("before"))
    return render_template("audit/timeline.html", **page)


@bp.route("/programmes/<programme>/narrative-diff")
@requires_role(*AUDIT_ROLES)
def narrative_diff(programme: str) -> str:
    page = narrative_diff_page(db(), programme, request.args.get("from"), request.args.get("to"))
    return render_template("audit/narrative_diff.html", **page)


@bp.route("/programmes/<programme>/as-at")
@requires_role(*AUDIT_ROLES)
def as_at(programme: str) -> str | tuple[str, int]:
    """The dashboard replayed from the log as it stood at a position, date or time."""
    live = programme_or_404(db(), programme)
    when = request.args.get("when", "").strip()
    if not when:
        return render_template("audit/as_at.html", programme=live, when="", error=None)
    try:
        point = _resolve(when)
    except ValueError as error:
        return render_template("audit/as_at.html", programme=live, when=when, error=str(error)), 400
    snapshot = snapshot_for(point.position)
    if queries.get_programme(snapshot, live["programme"]) is None:
        return render_template("audit/as_at.html", programme=live, when=when, error=None, point=point), 404
    page = dashboard_page(snapshot, live["programme"], request.args.get("period"))
    return render_template("dashboards/dashboard.html", **page, as_at=point)


@bp.route("/programmes/<programme>/changed-after-publication")
@requires_role(*AUDIT_ROLES)
def changed_after_publication(programme: str) -> str:
    p = programme_or_404(db(), programme)
    period = canonical_period(p, request.args.get("period")) if request.args.get("period") else None
    rows = queries.get_changed_after_publication(db(), p["programme"], period)
    return render_template(
        "audit/changed_after_publication.html",
        programme=p,
        period=period,
        changes=rows,
        publications=queries.get_publications(db(), p["programme"]),
    )


@bp.route("/audit/verify")
@requires_role(*AUDIT_ROLES)
def verify_record() -> str:
    return render_template("audit/verify.html", **verify_page(data_dir()))


@bp.route("/audit/verify/checkpoint", methods=["POST"])
@requires_role(*CHECKPOINT_ROLES)
def checkpoint() -> Response:
    """Verify, then write the chain head to <data dir>/checkpoints (CSRF-protected)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    out = data_dir() / "checkpoints" / f"checkpoint-{stamp}.json"
    try:
        taken = write_checkpoint(event_store(data_dir()), out)
    except (ChainBroken, StoreUnavailable) as error:
        flash(f"No checkpoint was taken. {error}", "error")
    else:
        current_app.logger.info("checkpoint %s taken by %s", out.name, current_user.username)
        flash(f"Checkpoint taken: {taken.events} events, head {taken.head[:12]}….", "success")
    return redirect(url_for("audit.verify_record"))


@bp.route("/audit/log")
@requires_role(*AUDIT_ROLES)
def log() -> str | tuple[str, int]:
    form = audit_filters(db(), request.args)
    if not form.validate():
        return render_template("audit/log.html", form=form, rows=[], csv_url=None), 400
    page = audit_log_page(db(), form, _position_arg("before"), _position_arg("after"))
    return render_template("audit/log.html", **page)


@bp.route("/audit/log.csv")
@requires_role(*AUDIT_ROLES)
def log_csv() -> Response:
    form = audit_filters(db(), request.args)
    if not form.validate():
        abort(400)
    where, params = form.where()
    response = Response(csv_chunks(backend().system.projections_db, where, params), mimetype="text/csv")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
