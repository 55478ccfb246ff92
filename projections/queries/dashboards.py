"""What the dashboards and the report's tables read: status counts, exceptions, every
rating, the items-by-periods grid, missing updates, direction of travel, and search."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.queries.connection import Db, Row, rows
from projections.queries.programmes import get_periods, get_programmes
from projections.queries.register import get_item_notes, get_retired, get_retirements, retired_in
from projections.queries.scales import category_totals, group_totals, map_onto_current_scale


def get_summary(db: Db, programme: str, period: str) -> Row:
    """Status counts for a period, every status of the scale in scale order (zeros
    included): {programme, period, total, statuses: [{status, category, sort_order,
    description, count, status_category, status_group, colour}], groups, categories}.
    Statuses no longer on the scale (and Not rated) come last; `groups` are the scale's
    group totals beside their parts, `categories` the counts by category (see
    projections.queries.scales)."""
    statuses = rows(
        db,
        """
        SELECT s.status, s.category, s.sort_order, s.description, coalesce(r.count, 0) AS count,
               s.status_category, s.status_group, s.colour
        FROM statuses s
        LEFT JOIN rag_summary r
          ON r.programme = s.programme AND r.period = ? AND r.status = s.status
        WHERE s.programme = ?
        UNION ALL
        SELECT r.status, r.category, r.status_order, '', r.count, r.status_category, r.status_group,
               r.colour
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
        "groups": group_totals(statuses),
        "categories": category_totals(statuses),
    }


def get_programme_summaries(db: Db) -> list[Row]:
    """Each programme as in get_programmes, with its latest period's status counts
    (`summary`, as get_summary, or None if nothing is recorded yet)."""
    programmes = get_programmes(db)
    for programme in programmes:
        latest = programme["latest_period"]
        programme["summary"] = get_summary(db, programme["programme"], latest) if latest else None
    return programmes


_ITEM_COLUMNS = "i.title, i.kind, i.lead_officer, i.committee, i.path, i.depth, i.sort_key"


def get_exceptions(db: Db, programme: str, period: str) -> list[Row]:
    """Amber and red items for the period, in scale order then ref order: ref, title,
    kind, lead_officer, committee, path, depth, sort_key, status, category, update,
    mitigation, recorded_by, recorded_at, restated, restated_reason, item_version (the
    version to pass as seen_version to item commands)."""
    return rows(
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
    return rows(
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
    restated, update, position, mapped_status, mapped_category}}, retired: {period: "retired
    (merged into R5)"}, notes: {period: footnote}}], scale_changes} with every item in ref
    order (unrated cells are absent). A cell rated on an earlier scale gives
    the status it maps onto on the scale in force (`mapped_status`, else None), so
    periods compare like with like; `scale_changes` lists the changes (get_scale_changes).
    `periods` defaults to every period of the programme."""
    known = get_periods(db, programme)
    wanted = [p["period"] for p in known if periods is None or p["period"] in set(periods)]
    items = rows(
        db,
        "SELECT ref, title, kind, depth, path, lead_officer, committee, child_count "
        "FROM items WHERE programme = ? ORDER BY sort_key",
        (programme,),
    )
    by_ref = {item["ref"]: {**item, "ratings": {}, "retired": {}, "notes": {}} for item in items}
    if wanted:
        marks = ", ".join("?" for _ in wanted)
        for cell in rows(
            db,
            f'SELECT ref, period, period_start, status, category, restated, "update", position '
            f"FROM status_history "
            f"WHERE programme = ? AND period IN ({marks})",
            (programme, *wanted),
        ):
            ref = cell.pop("ref")
            period = cell.pop("period")
            if ref in by_ref:
                by_ref[ref]["ratings"][period] = cell
    cells = [cell for row in by_ref.values() for cell in row["ratings"].values()]
    changes = map_onto_current_scale(db, programme, cells)
    # Periods an item is off the register say so ("retired (merged into R5)"), not blank.
    spans, notes = get_retirements(db, programme), get_item_notes(db, programme)
    for p in known:
        if p["period"] in wanted:
            for ref, words in retired_in(spans, p["period_start"]).items():
                if ref in by_ref:
                    by_ref[ref]["retired"][p["period"]] = words
    for (ref, period), note in notes.items():
        if ref in by_ref and period in wanted:
            by_ref[ref]["notes"][period] = note
    return {"periods": wanted, "rows": list(by_ref.values()), "scale_changes": changes}


def get_missing_updates(db: Db, programme: str, period: str) -> list[Row]:
    """Items expected to report (leaf items: nothing registered under them) with no status
    for the period, or a status but no update text: ref, title, kind, lead_officer,
    committee, status (None if none), missing ("status and update" or "update"). An item
    retired (or merged) for the period is not expected to report."""
    retired = get_retired(db, programme, period)
    found = rows(
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
    return [row for row in found if row["ref"] not in retired]


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
    return rows(db, sql + " ORDER BY i.sort_key", params)


def _fts_query(text: str) -> str:
    # Each word as a quoted string: users' punctuation can't break FTS5 syntax. FTS5 reads
    # its query as a C string, so a NUL ended it mid-quote ("unterminated string", a 500).
    words = text.replace("\x00", " ").split()
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def search(db: Db, text: str, *, programme: str | None = None, limit: int = 50) -> list[Row]:
    """Full-text search over updates and mitigation (every version recorded), report
    narratives, and risk and issue descriptions. Best matches first (the newest first
    among equal matches, so a page is the same whichever way SQLite joins): source ("update",
    "section" or "risk"/"issue"), programme, ref (item, section key or risk ref), period,
    text (the matched text), snippet, recorded_at, recorded_by."""
    query = _fts_query(text)
    if not query:
        return []
    # CROSS JOIN: the matches first, then each one's audit row. Given a programme, the
    # planner otherwise walked the programme's audit rows and ran the full-text query
    # once per row (17 s for one search of a 100k-event log).
    where_programme = " AND t.programme = :programme" if programme else ""
    sql = f"""
        SELECT * FROM (
            SELECT 'update' AS source, t.programme, t.ref, t.period,
                   t."update" || CASE WHEN t.mitigation != '' THEN ' ' || t.mitigation ELSE '' END AS text,
                   snippet(audit_log_fts, -1, '', '', '…', 16) AS snippet,
                   t.recorded_at, t.recorded_by, bm25(audit_log_fts) AS score
            FROM audit_log_fts CROSS JOIN status_events t ON t.position = audit_log_fts.rowid
            WHERE audit_log_fts MATCH :query{where_programme}
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
        ) ORDER BY score, recorded_at DESC, source, programme, ref, period LIMIT :limit
    """
    found = rows(db, sql, {"query": query, "programme": programme, "limit": limit})
    for row in found:
        row.pop("score")
    return found
