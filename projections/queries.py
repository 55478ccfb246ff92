"""Queries for pages and reports: plain functions over projections.db returning plain data.

Every function takes `db` first: a path to projections.db (opened read-only for the
call), an open `sqlite3.Connection`, or a `sqlite_utils.Database`. They read the
precomputed tables by an index, so they cost the same however long the history is.
Rows come back as dicts with the column names documented in projections.schema.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils

from projections.handlers import natural_sort_key
from projections.projector import PROJECTION

Db = str | os.PathLike[str] | sqlite3.Connection | sqlite_utils.Database
Row = dict[str, Any]


@contextmanager
def _connection(db: Db) -> Iterator[sqlite3.Connection]:
    if isinstance(db, sqlite_utils.Database):
        yield db.conn
    elif isinstance(db, sqlite3.Connection):
        yield db
    else:
        path = Path(db).resolve()
        if not path.exists():
            raise FileNotFoundError(f"No projections database at {path}")
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)
        try:
            yield conn
        finally:
            conn.close()


def _rows(db: Db, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    with _connection(db) as conn:
        cursor = conn.execute(sql, tuple(params))
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _one(db: Db, sql: str, params: Sequence[Any] = ()) -> Row | None:
    rows = _rows(db, sql, params)
    return rows[0] if rows else None


# ---------------------------------------------------------------- programmes and periods


_PROGRAMME_COLUMNS = """
    SELECT p.programme, p.name, p.cadence, p.scale_name, p.requires_mitigation,
           p.description, p.contact, p.version,
           (SELECT period FROM periods x WHERE x.programme = p.programme
            ORDER BY period_start DESC LIMIT 1) AS latest_period
    FROM programmes p
"""


def _programme_row(row: Row) -> Row:
    row["requires_mitigation"] = bool(row["requires_mitigation"])
    row["contact"] = json.loads(row["contact"])
    return row


def get_programmes(db: Db) -> list[Row]:
    """Every programme, by name: programme, name, cadence, scale_name, requires_mitigation
    (bool), description, contact (dict), latest_period (or None), version."""
    return [_programme_row(row) for row in _rows(db, _PROGRAMME_COLUMNS + " ORDER BY p.name")]


def get_programme(db: Db, programme: str) -> Row | None:
    """One programme as in get_programmes, plus its scale (list of statuses), or None."""
    row = _one(db, _PROGRAMME_COLUMNS + " WHERE p.programme = ?", (programme,))
    if row is None:
        return None
    return {**_programme_row(row), "scale": get_scale(db, programme)}


def get_scale(db: Db, programme: str) -> list[Row]:
    """The programme's statuses in scale order: status, category, rank, sort_order,
    description, aliases (list)."""
    rows = _rows(
        db,
        "SELECT status, category, rank, sort_order, description, aliases FROM statuses "
        "WHERE programme = ? ORDER BY sort_order",
        (programme,),
    )
    for row in rows:
        row["aliases"] = json.loads(row["aliases"])
    return rows


def get_periods(db: Db, programme: str) -> list[Row]:
    """Periods with anything recorded, oldest first: period, period_start, period_end,
    description ("April 2024 to June 2024")."""
    return _rows(
        db,
        "SELECT period, period_start, period_end, description FROM periods "
        "WHERE programme = ? ORDER BY period_start",
        (programme,),
    )


# ---------------------------------------------------------------- ratings


def get_summary(db: Db, programme: str, period: str) -> Row:
    """Status counts for a period, every status of the scale in scale order (zeros
    included): {programme, period, total, statuses: [{status, category, sort_order,
    description, count}]}. Statuses no longer on the scale (and Not rated) come last."""
    statuses = _rows(
        db,
        """
        SELECT s.status, s.category, s.sort_order, s.description, coalesce(r.count, 0) AS count
        FROM statuses s
        LEFT JOIN rag_summary r
          ON r.programme = s.programme AND r.period = ? AND r.status = s.status
        WHERE s.programme = ?
        UNION ALL
        SELECT r.status, r.category, r.status_order, '', r.count
        FROM rag_summary r
        WHERE r.programme = ? AND r.period = ?
          AND r.status NOT IN (SELECT status FROM statuses WHERE programme = ?)
        ORDER BY sort_order
        """,
        (period, programme, programme, period, programme),
    )
    return {
        "programme": programme,
        "period": period,
        "total": sum(s["count"] for s in statuses),
        "statuses": statuses,
    }


_ITEM_COLUMNS = "i.title, i.kind, i.lead_officer, i.committee, i.path, i.depth, i.sort_key"


def get_exceptions(db: Db, programme: str, period: str) -> list[Row]:
    """Amber and red items for the period, in scale order then ref order: ref, title,
    kind, lead_officer, committee, path, depth, sort_key, status, category, update,
    mitigation, recorded_by, recorded_at, restated, restated_reason, item_version (the
    version to pass as seen_version to item commands)."""
    return _rows(
        db,
        f"""
        SELECT h.ref, {_ITEM_COLUMNS}, h.status, h.category, h."update", h.mitigation,
               h.recorded_by, h.recorded_at, h.restated, h.restated_reason,
               i.version AS item_version
        FROM status_history h
        JOIN items i ON i.programme = h.programme AND i.ref = h.ref
        WHERE h.programme = ? AND h.period = ? AND h.category IN ('amber', 'red')
        ORDER BY h.status_order, i.sort_key
        """,
        (programme, period),
    )


def get_ratings(db: Db, programme: str, period: str) -> list[Row]:
    """Every item rated in the period (the report's full table), in ref order: as
    get_exceptions, plus first_recorded_at, updates_count and rank."""
    return _rows(
        db,
        f"""
        SELECT h.ref, {_ITEM_COLUMNS}, h.status, h.category, h.rank, h."update", h.mitigation,
               h.recorded_by, h.recorded_at, h.first_recorded_at, h.updates_count,
               h.restated, h.restated_reason, i.version AS item_version
        FROM status_history h
        JOIN items i ON i.programme = h.programme AND i.ref = h.ref
        WHERE h.programme = ? AND h.period = ?
        ORDER BY i.sort_key
        """,
        (programme, period),
    )


def get_grid(db: Db, programme: str, periods: Sequence[str] | None = None) -> Row:
    """Items × periods: {periods: [labels in time order], rows: [{ref, title, kind, depth,
    path, lead_officer, committee, child_count, ratings: {period: {status, category,
    restated, update}}}]} with every item in ref order (unrated cells are absent).
    `periods` defaults to every period of the programme."""
    known = get_periods(db, programme)
    wanted = [p["period"] for p in known if periods is None or p["period"] in set(periods)]
    items = _rows(
        db,
        "SELECT ref, title, kind, depth, path, lead_officer, committee, child_count "
        "FROM items WHERE programme = ? ORDER BY sort_key",
        (programme,),
    )
    by_ref = {item["ref"]: {**item, "ratings": {}} for item in items}
    if wanted:
        marks = ", ".join("?" for _ in wanted)
        for cell in _rows(
            db,
            f'SELECT ref, period, status, category, restated, "update" FROM status_history '
            f"WHERE programme = ? AND period IN ({marks})",
            (programme, *wanted),
        ):
            ref = cell.pop("ref")
            period = cell.pop("period")
            if ref in by_ref:
                by_ref[ref]["ratings"][period] = cell
    return {"periods": wanted, "rows": list(by_ref.values())}


def get_missing_updates(db: Db, programme: str, period: str) -> list[Row]:
    """Items expected to report (leaf items: nothing registered under them) with no status
    for the period, or a status but no update text: ref, title, kind, lead_officer,
    committee, status (None if none), missing ("status and update" or "update")."""
    return _rows(
        db,
        """
        SELECT i.ref, i.title, i.kind, i.lead_officer, i.committee, h.status,
               CASE WHEN h.ref IS NULL THEN 'status and update' ELSE 'update' END AS missing
        FROM items i
        LEFT JOIN status_history h
          ON h.programme = i.programme AND h.ref = i.ref AND h.period = ?
        WHERE i.programme = ? AND i.child_count = 0 AND (h.ref IS NULL OR h."update" = '')
        ORDER BY i.sort_key
        """,
        (period, programme),
    )


def get_transitions(db: Db, programme: str, period: str, direction: str | None = None) -> list[Row]:
    """Direction of travel into the period: ref, title, lead_officer, committee,
    previous_period, previous_status, status, direction (improved, deteriorated,
    unchanged, new, not comparable), optionally only one direction."""
    sql = """
        SELECT t.ref, i.title, i.lead_officer, i.committee, t.previous_period,
               t.previous_status, t.status, t.direction
        FROM transitions t
        JOIN items i ON i.programme = t.programme AND i.ref = t.ref
        WHERE t.programme = ? AND t.period = ?
    """
    params: list[Any] = [programme, period]
    if direction is not None:
        sql += " AND t.direction = ?"
        params.append(direction)
    return _rows(db, sql + " ORDER BY i.sort_key", params)


def get_item(db: Db, programme: str, ref: str) -> Row | None:
    """An item's details (items table columns), or None."""
    return _one(db, "SELECT * FROM items WHERE programme = ? AND ref = ?", (programme, ref))


def get_item_history(db: Db, programme: str, ref: str) -> list[Row]:
    """Every status and update recorded or corrected for an item, oldest first
    (status_events columns): both texts of a period stay visible."""
    return _rows(
        db,
        "SELECT s.* FROM audit_log a JOIN status_events s ON s.position = a.position "
        "WHERE a.programme = ? AND a.subject_ref = ? AND a.aggregate_kind = 'Item' "
        "ORDER BY s.period_start, s.position",
        (programme, ref),
    )


def get_item_timeline(
    db: Db,
    programme: str,
    ref: str,
    aggregate_kind: str = "Item",
    *,
    limit: int | None = None,
    before: int | None = None,
) -> list[Row]:
    """Everything that happened to a record, oldest first (audit_log columns: position,
    recorded_at, actor, event_type, summary, field, from_value, to_value, reason, period,
    version, chain_head...). `aggregate_kind` picks Risk, Indicator... for their refs.

    Paged like the audit log: `limit` keeps the newest that many (still oldest first),
    `before` (a position) only those recorded before it."""
    sql = "SELECT * FROM audit_log WHERE programme = ? AND subject_ref = ? AND aggregate_kind = ?"
    params: list[Any] = [programme, ref, aggregate_kind]
    if before is not None:
        sql += " AND position < ?"
        params.append(before)
    if limit is None:
        return _rows(db, sql + " ORDER BY position", params)
    return _rows(db, sql + " ORDER BY position DESC LIMIT ?", (*params, limit))[::-1]


# ---------------------------------------------------------------- the rest of a report


def get_indicators(db: Db, programme: str, period: str) -> list[Row]:
    """Indicator values for the period, by ref then breakdown (overall first): ref, name,
    unit, better, breakdown, value, value_text, previous_period, previous_value, change,
    direction (good/bad/neutral or None), restated, recorded_by, recorded_at."""
    return _rows(
        db,
        "SELECT ref, name, unit, better, breakdown, value, value_text, previous_period, "
        "previous_value, change, direction, restated, restated_reason, recorded_by, recorded_at "
        "FROM indicators WHERE programme = ? AND period = ? ORDER BY ref, breakdown != '', breakdown",
        (programme, period),
    )


def get_risks(db: Db, programme: str, kind: str | None = None, *, open_only: bool = False) -> list[Row]:
    """Risks and issues (risks_and_issues columns), by kind then ref: `kind` "risk" or
    "issue" for one kind; `open_only` hides closed ones."""
    sql = "SELECT * FROM risks_and_issues WHERE programme = ?"
    params: list[Any] = [programme]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    if open_only:
        sql += " AND state = 'open'"
    rows = _rows(db, sql, params)
    return sorted(rows, key=lambda r: (r["kind"] != "risk", natural_sort_key(r["ref"])))


def get_dependencies(db: Db, programme: str) -> list[Row]:
    """Dependencies (dependencies columns) in ref order."""
    rows = _rows(db, "SELECT * FROM dependencies WHERE programme = ?", (programme,))
    return sorted(rows, key=lambda r: natural_sort_key(r["ref"]))


def get_sections(db: Db, programme: str, period: str) -> list[Row]:
    """Report narrative sections for the period in report order: section, heading, text,
    written_by, written_at, first_written_at, revisions, version (the narrative's version
    after that write; the highest is the seen_version for write_narrative)."""
    return _rows(
        db,
        "SELECT section, heading, section_order, text, written_by, written_at, first_written_at, "
        "revisions, version FROM report_sections WHERE programme = ? AND period = ? "
        "ORDER BY section_order",
        (programme, period),
    )


def get_publications(db: Db, programme: str, period: str | None = None) -> list[Row]:
    """Published editions, newest first (publications columns)."""
    sql = "SELECT * FROM publications WHERE programme = ?"
    params: list[Any] = [programme]
    if period is not None:
        sql += " AND period = ?"
        params.append(period)
    return _rows(db, sql + " ORDER BY published_at DESC, edition DESC", params)


def get_changed_after_publication(db: Db, programme: str, period: str | None = None) -> list[Row]:
    """Changes recorded after the latest edition of each published report was built
    (changed_after_publication view columns), in log order."""
    sql = "SELECT * FROM changed_after_publication WHERE programme = ?"
    params: list[Any] = [programme]
    if period is not None:
        sql += " AND period = ?"
        params.append(period)
    return _rows(db, sql + " ORDER BY report, position", params)


def get_audit_log(
    db: Db,
    *,
    programme: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> list[Row]:
    """The newest audit_log rows first (paged by `before`, a position)."""
    clauses, params = [], []
    for column, value in (("programme", programme), ("actor", actor)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if before is not None:
        clauses.append("position < ?")
        params.append(before)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return _rows(db, f"SELECT * FROM audit_log {where} ORDER BY position DESC LIMIT ?", (*params, limit))


def get_accounts(db: Db) -> list[Row]:
    """Accounts by username: username, display_name, roles (list), programmes (list),
    active (bool), version. Never any password."""
    rows = _rows(
        db,
        "SELECT username, display_name, roles, programmes, active, version FROM accounts ORDER BY username",
    )
    for row in rows:
        row["roles"] = json.loads(row["roles"])
        row["programmes"] = json.loads(row["programmes"])
        row["active"] = bool(row["active"])
    return rows


def get_projection_position(db: Db) -> int:
    """The last event log position the read model includes: what a report built from it
    was "built from" (pass it to publish_report as log_position)."""
    row = _one(db, "SELECT position FROM projection_position WHERE projection = ?", (PROJECTION,))
    return int(row["position"]) if row else 0


# ---------------------------------------------------------------- search


def _fts_query(text: str) -> str:
    # Each word as a quoted string: users' punctuation can't break FTS5 syntax.
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def search(db: Db, text: str, *, programme: str | None = None, limit: int = 50) -> list[Row]:
    """Full-text search over updates and mitigation (every version recorded), report
    narratives, and risk and issue descriptions. Best matches first: source ("update",
    "section" or "risk"/"issue"), programme, ref (item, section key or risk ref), period,
    text (the matched text), snippet, recorded_at, recorded_by."""
    query = _fts_query(text)
    if not query:
        return []
    where_programme = " AND t.programme = :programme" if programme else ""
    sql = f"""
        SELECT * FROM (
            SELECT 'update' AS source, t.programme, t.ref, t.period,
                   t."update" || CASE WHEN t.mitigation != '' THEN ' ' || t.mitigation ELSE '' END AS text,
                   snippet(status_events_fts, -1, '', '', '…', 16) AS snippet,
                   t.recorded_at, t.recorded_by, bm25(status_events_fts) AS score
            FROM status_events_fts JOIN status_events t ON t.rowid = status_events_fts.rowid
            WHERE status_events_fts MATCH :query{where_programme}
            UNION ALL
            SELECT 'section', t.programme, t.section, t.period, t.text,
                   snippet(report_sections_fts, -1, '', '', '…', 16),
                   t.written_at, t.written_by, bm25(report_sections_fts)
            FROM report_sections_fts JOIN report_sections t ON t.rowid = report_sections_fts.rowid
            WHERE report_sections_fts MATCH :query{where_programme}
            UNION ALL
            SELECT t.kind, t.programme, t.ref, t.period, t.description || ' ' || t.mitigation,
                   snippet(risks_and_issues_fts, -1, '', '', '…', 16),
                   t.updated_at, t.updated_by, bm25(risks_and_issues_fts)
            FROM risks_and_issues_fts JOIN risks_and_issues t ON t.rowid = risks_and_issues_fts.rowid
            WHERE risks_and_issues_fts MATCH :query{where_programme}
        ) ORDER BY score LIMIT :limit
    """
    with _connection(db) as conn:
        cursor = conn.execute(sql, {"query": query, "programme": programme, "limit": limit})
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row.pop("score")
    return rows
