"""Build a report's content from a projections database.

`build_report(db, programme, kind, period)` is a pure function of the database: the live
projections.db gives the live report, and a file written by `projections.system.snapshot`
gives the report as it stood at that log position. Everything is read in ONE read
transaction, so the content and the log position it claims always belong together even
while the projector writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from ledger.errors import UnknownRef
from ledger.periods import Calendar, Period, calendar_for
from projections import queries
from projections.queries.flags import get_flags
from projections.reports import charts
from projections.reports.indicators import indicator_rows
from projections.reports.model import (
    NOT_RECORDED,
    REPORT_KINDS,
    AsAt,
    Contact,
    DependencyRow,
    Entry,
    Group,
    Report,
    RiskRow,
    Section,
    StatusCount,
    natural_key,
)
from projections.reports.render import render_html
from projections.reports.review import with_review
from projections.reports.xlsx import render_xlsx
from projections.schema import NOT_RATED

Database = str | Path | sqlite3.Connection

# What the items of each report are called in its headings.
ENTRY_NOUNS = {"committee": "actions", "highlight": "workstreams", "partnership": "core areas"}
# Items that are only headings above the reported items, never reported themselves.
STRUCTURAL_KINDS = ("vision",)


class UnknownReport(UnknownRef):
    pass


@contextmanager
def read_transaction(db: Database) -> Iterator[sqlite3.Connection]:
    """A connection inside one read transaction (a consistent snapshot under WAL)."""
    if isinstance(db, sqlite3.Connection):
        conn, owned = db, False
    else:
        # Read-only: a report can never write to the read model.
        conn, owned = sqlite3.connect(f"file:{Path(db)}?mode=ro", uri=True, timeout=30), True
    try:
        started = not conn.in_transaction
        if started:
            conn.execute("BEGIN")
        try:
            yield conn
        finally:
            if started and conn.in_transaction:
                conn.rollback()
    finally:
        if owned:
            conn.close()


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with closing(conn.execute(sql, params)) as cursor:
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> dict[str, Any] | None:
    found = _rows(conn, sql, params)
    return found[0] if found else None


# ---------------------------------------------------------------- the pieces


def read_as_at(conn: sqlite3.Connection, position: int | None = None) -> AsAt:
    """The log position the database reflects (or `position`), and when the latest change
    up to it was recorded."""
    if position is None:
        position = queries.get_projection_position(conn)
    last = _one(
        conn,
        "SELECT recorded_at FROM audit_log WHERE position <= ? ORDER BY position DESC LIMIT 1",
        (position,),
    )
    return AsAt(position=position, recorded_at=(last or {}).get("recorded_at") or "")


def _programme(conn: sqlite3.Connection, programme: str) -> dict[str, Any]:
    row = queries.get_programme(conn, programme)
    if row is None:
        raise UnknownRef(f"There is no programme {programme!r}.", field="programme")
    return row


def _contact(data: dict[str, Any] | None) -> Contact:
    data = data or {}

    def pick(*keys: str) -> str:
        return next((str(data[k]).strip() for k in keys if data.get(k)), "")

    return Contact(
        name=pick("name", "contact_name", "officer"),
        phone=pick("phone", "contact_phone", "telephone", "tel"),
        email=pick("email", "contact_email"),
    )


def get_item_outline(conn: sqlite3.Connection, programme: str) -> dict[str, dict[str, Any]]:
    """ref -> {ref, kind, title, parent_ref} for every item: the headings (aims,
    priorities) the report groups under. (Not in projections.queries yet.)"""
    return {
        r["ref"]: r
        for r in _rows(
            conn, "SELECT ref, kind, title, parent_ref FROM items WHERE programme = ?", (programme,)
        )
    }


def _entry(row: dict[str, Any], *, recorded: bool) -> Entry:
    return Entry(
        ref=row["ref"],
        title=row["title"],
        kind=row["kind"],
        lead_officer=row["lead_officer"] or "",
        committee=row["committee"] or "",
        status=(row["status"] or NOT_RATED) if recorded else "",
        category=(row["category"] or "unrated") if recorded else "none",
        update=(row.get("update") or "") if recorded else "",
        mitigation=(row.get("mitigation") or "") if recorded else "",
    )


def _entries(conn: sqlite3.Connection, programme: str, period: str) -> list[Entry]:
    """Every item rated in the period, and every leaf item with nothing recorded for it,
    in ref order: what the summary counts and the appendix lists."""
    rated = [_entry(r, recorded=True) for r in queries.get_ratings(conn, programme, period)]
    missing = [
        _entry(r, recorded=False)
        for r in queries.get_missing_updates(conn, programme, period)
        if r["missing"] == "status and update"
    ]
    # An item off the register says so, rather than "Not recorded"; it is in no count.
    outline = get_item_outline(conn, programme)
    retired = [
        Entry(ref, outline[ref]["title"], outline[ref]["kind"], "", "", words, "retired", "", "")
        for ref, words in queries.get_retired(conn, programme, period).items()
        if ref in outline
    ]
    entries = sorted(rated + missing + retired, key=lambda e: natural_key(e.ref))
    return with_review(conn, programme, period, entries)


def _ancestors(ref: str, outline: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    chain, seen = [], {ref}
    parent = outline.get(outline[ref]["parent_ref"] or "") if ref in outline else None
    while parent is not None and parent["ref"] not in seen:
        seen.add(parent["ref"])
        chain.append(parent)
        parent = outline.get(parent["parent_ref"] or "")
    chain.reverse()
    return [a for a in chain if a["kind"] not in STRUCTURAL_KINDS]


def _groups(entries: list[Entry], outline: dict[str, dict[str, Any]]) -> tuple[Group, ...]:
    """Entries under their top heading (an aim) and their direct parent (a priority)."""
    tops: dict[str, dict[str, Any]] = {}
    for entry in entries:
        chain = _ancestors(entry.ref, outline)
        top = chain[0] if chain else None
        sub = chain[-1] if len(chain) > 1 else None
        key = top["ref"] if top else ""
        slot = tops.setdefault(key, {"item": top, "subs": {}, "entries": []})
        if sub is None:
            slot["entries"].append(entry)
        else:
            slot["subs"].setdefault(sub["ref"], {"item": sub, "entries": []})["entries"].append(entry)

    def group(item: dict[str, Any] | None, **kwargs: Any) -> Group:
        return Group(
            ref=item["ref"] if item else "",
            title=item["title"] if item else "",
            kind=item["kind"] if item else "",
            **kwargs,
        )

    return tuple(
        group(
            slot["item"],
            entries=tuple(slot["entries"]),
            groups=tuple(
                group(s["item"], entries=tuple(s["entries"]))
                for _, s in sorted(slot["subs"].items(), key=lambda kv: natural_key(kv[0]))
            ),
        )
        for _, slot in sorted(tops.items(), key=lambda kv: (kv[0] == "", natural_key(kv[0])))
    )


def _summary(
    conn: sqlite3.Connection, programme: str, period: str, entries: list[Entry]
) -> tuple[StatusCount, ...]:
    """Counts per status in scale order (zeros included for the scale's own statuses),
    then items with nothing recorded for the period."""
    on_scale = {s["status"] for s in queries.get_scale(conn, programme)}
    rows = [
        StatusCount(
            s["status"],
            s["description"] or ("No status given" if s["status"] == NOT_RATED else ""),
            s["category"] or "unrated",
            int(s["count"]),
        )
        for s in queries.get_summary(conn, programme, period)["statuses"]
        # Off the scale (Not rated, or a status since removed): shown only when counted, so a
        # status re-rated away leaves no "0" row that a replay would not have.
        if s["status"] in on_scale or s["count"]
    ]
    missing = sum(1 for e in entries if e.category == "none")
    if missing:
        rows.append(StatusCount(NOT_RECORDED, "Nothing recorded for the period", "none", missing))
    return tuple(rows)


def _sections(conn: sqlite3.Connection, programme: str, period: str) -> tuple[Section, ...]:
    return tuple(
        Section(r["section"], r["heading"], r["text"])
        for r in queries.get_sections(conn, programme, period)
        if (r["text"] or "").strip()
    )


def _in_period(row_period: str | None, cadence: Calendar, period: Period) -> bool:
    if not row_period:
        return True
    return Period.parse(row_period, cadence) <= period


def _risks(conn: sqlite3.Connection, programme: str, period: Period) -> list[RiskRow]:
    """Risks and issues as they stood in the period (risk_history): rated in or before
    it, and open then or closed in it."""
    result = []
    for r in queries.get_risks_in(conn, programme, period.sort_key):
        if r["state"] == "closed" and not (r["state_change"] == "closed" and r["period"] == period.label):
            continue
        result.append(
            RiskRow(
                kind=r["kind"],
                ref=r["ref"],
                description=r["description"] or "",
                owner=r["owner"] or "",
                rag_before=r["rag_before"] or "",
                mitigation=r["mitigation"] or "",
                rag_after=r["rag_after"] or "",
                is_open=r["state"] != "closed",
                period=r["period"] or "",
                rag_before_category=r["rag_before_category"] or "unrated",
                rag_after_category=r["rag_after_category"] or "unrated",
            )
        )
    return sorted(result, key=lambda r: natural_key(r.ref))


def _dependencies(
    conn: sqlite3.Connection, programme: str, cadence: Calendar, period: Period
) -> tuple[DependencyRow, ...]:
    rows = [
        DependencyRow(
            ref=r["ref"],
            description=r["description"] or "",
            owner=r["owner"] or "",
            plan_agreed=r["plan_agreed"] or "",
            confidence=r["confidence"] or "",
            period=r["period"] or "",
        )
        for r in queries.get_dependencies(conn, programme)
        if _in_period(r["period"], cadence, period)
    ]
    return tuple(sorted(rows, key=lambda d: natural_key(d.ref)))


def flag_day(period: Period, as_at: AsAt) -> date:
    """The day a report's due-date flags are judged on: the end of its period, or the day
    of its last recorded change if earlier. Never the clock, so the bytes are the same
    whenever the same log position is rendered."""
    recorded = date.fromisoformat(as_at.recorded_at[:10]) if as_at.recorded_at else period.end
    return min(period.end, recorded)


# ---------------------------------------------------------------- public


def build_report(db: Database, programme: str, kind: str, period: str) -> Report:
    """The content of one report, from a projections database (live or a snapshot)."""
    if kind not in REPORT_KINDS:
        raise UnknownReport(
            f"{kind!r} is not a kind of report: use one of {', '.join(REPORT_KINDS)}.", field="report"
        )
    with read_transaction(db) as conn:
        p = _programme(conn, programme)
        calendar = calendar_for(p["cadence"], p["periods"])  # a custom cadence's own periods
        the_period = calendar.parse(period)
        label = the_period.label
        entries = _entries(conn, programme, label)
        risks = _risks(conn, programme, the_period)
        as_at = read_as_at(conn)
        return Report(
            kind=kind,
            programme_slug=programme,
            programme_name=p["name"],
            period=label,
            cadence=calendar,
            as_at=as_at,
            contact=_contact(p["contact"]),
            scale_name=p["scale_name"] or "",
            summary=_summary(conn, programme, label, entries),
            entries=tuple(entries),
            groups=_groups(entries, get_item_outline(conn, programme)),
            indicators=indicator_rows(conn, programme, the_period),
            sections=_sections(conn, programme, label),
            risks=tuple(r for r in risks if r.kind == "risk"),
            issues=tuple(r for r in risks if r.kind == "issue"),
            dependencies=_dependencies(conn, programme, calendar, the_period),
            entry_noun=ENTRY_NOUNS[kind],
            **charts.report_trends(conn, programme, label, kind),
            flags=tuple(get_flags(conn, programme, label, today=flag_day(the_period, as_at))),
        )


def report_html(db: Database, programme: str, kind: str, period: str) -> bytes:
    return render_html(build_report(db, programme, kind, period))


def report_xlsx(db: Database, programme: str, kind: str, period: str) -> bytes:
    return render_xlsx(build_report(db, programme, kind, period))


def current_position(db: Database) -> int:
    """The log position the projections database reflects."""
    with read_transaction(db) as conn:
        return read_as_at(conn).position


def as_at_position(db: Database, position: int) -> AsAt:
    """What a report built at `position` says about its as-at point, read from any later
    database (audit_log keeps every position's recorded time)."""
    with read_transaction(db) as conn:
        return read_as_at(conn, position)
