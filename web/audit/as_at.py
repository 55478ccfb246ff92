"""Any programme's dashboard as it stood at a log position, date or time: that
programme's part of the log replayed into a snapshot (projections.asat; cached by
programme and position, a bounded number of files, and a later position caught up from
an earlier one), rendered by the dashboard's own code."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

from flask import render_template, request

from projections import queries
from projections.queries.audit import get_record_start
from projections.reports.model import REPORT_KINDS
from web.audit.support import AUDIT_ROLES, bp, data_dir
from web.backend import backend
from web.dashboards import dashboard_page, db, programme_or_404
from web.forms import whole_number
from web.permissions import requires_role
from web.times import as_uk_time, moment_words, uk_moment

# Snapshots kept in <data dir>/cache/as-at, the most recently used first: at most this
# many files and bytes (one programme's snapshot of a million-event log is 10-20 MB).
AS_AT_CACHE_FILES = 16
AS_AT_CACHE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class AsAtPoint:
    when: str  # as typed, to carry between pages
    label: str  # in words, for the banner
    position: int


def _resolve(when: str) -> AsAtPoint:
    """The log position a typed position, date or time stands for. Raises ValueError.

    A time means every event recorded at or before it, as projections.system's as-at
    does; timestamps follow log order, so that is the log up to one position (found by a
    binary search of the log, projections.asat), and the snapshot can be cached by it."""
    from projections.asat import position_at
    from projections.system import parse_as_at

    point = parse_as_at(as_uk_time(when))
    live = db()
    last = queries.get_projection_position(live)
    if point.position is not None:
        if point.position > last:
            raise ValueError(f"The log has {last} events so far: enter a position from 0 to {last}.")
        recorded_at = queries.get_recorded_at(live, point.position)
        label = moment_words(recorded_at) if recorded_at else "the start of the log"
        return AsAtPoint(when, label, point.position)
    assert point.moment is not None
    found = min(position_at(backend().system.ledger, point.moment), last)
    text = when.strip()
    label = (
        f"the end of {_day_words(date.fromisoformat(text))} (UK time)"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)
        else moment_words(point.moment.isoformat())
    )
    return AsAtPoint(when, label, found)


def _asked(args: Mapping[str, str]) -> str:
    """What the form asks, as `when` carries it between pages: the log position if given
    (the advanced option), else the date with its time if any (UK time), else `when` itself.
    Raises ValueError saying what to type."""
    position = args.get("position", "").strip()
    if position:
        if whole_number(position) is None:
            raise ValueError("Enter the log position as a whole number, like 1200.")
        return position
    parts = [args.get(name, "").strip() for name in ("day", "month", "year")]
    typed_time = args.get("time", "").strip()
    if not any(parts) and not typed_time:
        return args.get("when", "").strip()
    try:
        day = date(*(int(p) for p in reversed(parts)))
    except (ValueError, OverflowError):
        raise ValueError("Enter a real date, for example 3 10 2024.") from None
    if not typed_time:
        return day.isoformat()
    if not re.fullmatch(r"([01]?\d|2[0-3])[:.]([0-5]\d)", typed_time):
        raise ValueError("Enter the time on the 24-hour clock, like 17:00, or leave it empty.")
    hour, minute = re.split(r"[:.]", typed_time)
    return uk_moment(day, time(int(hour), int(minute)))


def _day_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def snapshot_for(programme: str, position: int) -> Path:
    """The programme's part of the read model replayed up to `position`, from the data
    dir's cache of snapshots (projections.asat.SnapshotCache): a file built once, and
    caught up from the latest one before it when there is one."""
    from projections.asat import SnapshotCache

    system = backend().system
    cache = SnapshotCache.of(data_dir(), AS_AT_CACHE_FILES, AS_AT_CACHE_BYTES)
    return cache.snapshot(system.ledger, system.projections_db, programme, position).path


@bp.route("/programmes/<programme>/as-at")
@requires_role(*AUDIT_ROLES)
def as_at(programme: str) -> str | tuple[str, int]:
    """The dashboard replayed from the log as it stood at a position, date or time."""
    live = programme_or_404(db(), programme)
    try:
        when = _asked(request.args)
        if not when:
            return render_template("audit/as_at.html", programme=live, when="", error=None)
        point = _resolve(when)
    except ValueError as error:
        typed = request.args.get("when", "")
        return render_template(
            "audit/as_at.html", programme=live, when=typed, error=str(error), typed=request.args
        ), 400
    snapshot = snapshot_for(live["programme"], point.position)
    if queries.get_programme(snapshot, live["programme"]) is None:
        # Before the programme's record starts: say when it does, and what was published.
        start = get_record_start(db(), live["programme"])
        editions = queries.get_publications(db(), live["programme"])
        return render_template(
            "audit/as_at.html", programme=live, when=when, error=None, point=point,
            start=AsAtPoint(str(start["position"]), moment_words(start["recorded_at"]), start["position"])
            if start else None,
            editions=[e for e in editions if e["report"] in REPORT_KINDS],
        ), 404
    page = dashboard_page(snapshot, live["programme"], request.args.get("period"))
    return render_template("dashboards/dashboard.html", **page, as_at=point)
