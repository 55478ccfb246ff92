"""The read model's views: derived on read, so nothing has to be kept in step."""

from __future__ import annotations

from projections.schema.log import LOG_TABLES
from projections.schema.model import PERIOD, PERIOD_START, POSITION, PROGRAMME, REF, VERSION, View
from projections.schema.ratings import RATING_TABLES
from projections.schema.records import RECORD_TABLES

AUDIT_LOG = next(t for t in LOG_TABLES if t.name == "audit_log")
RISKS_AND_ISSUES = next(t for t in RECORD_TABLES if t.name == "risks_and_issues")
PERIOD_RATINGS = next(t for t in RATING_TABLES if t.name == "period_ratings")

# status_history's columns, in order: period_ratings' own, with the texts, who and when of
# the status event in force taken from its audit row (held once, there).
_IN_FORCE = {
    "update": ('a."update"', "The update (progress narrative) in force"),
    "mitigation": ("a.mitigation", "Mitigation or corrective action in hand (Amber and Red)"),
    "recorded_by": ("a.actor", "Who recorded the status and update in force"),
    "recorded_at": ("a.recorded_at", "When the status and update in force were recorded (UTC)"),
}
_RATED = {c.name: (f"p.{c.name}", c.description) for c in PERIOD_RATINGS.columns}
_HISTORY = {
    name: (_RATED | _IN_FORCE)[name]
    for name in (
        *("programme", "ref", "period", "period_start", "previous_period", "status", "category"),
        *("rank", "status_order", "update", "mitigation", "recorded_by", "recorded_at"),
        *("first_recorded_at", "restated", "restated_reason", "restated_at", "updates_count"),
        *("version", "position"),
    )
}

# The audit columns changed_after_publication shows (a status event's own are left out).
_AUDIT_COLUMNS = {
    c.name: c.description
    for c in AUDIT_LOG.columns
    if c.name in ("recorded_at", "actor", "aggregate_kind", "subject_ref", "event_type", "summary",
                  "field", "from_value", "to_value", "reason")
}

VIEWS: tuple[View, ...] = (
    View(
        "status_history",
        "One row per item per period: the status and update in force, and whether it was restated.",
        f"""
        SELECT {", ".join(f'{expr} AS "{name}"' for name, (expr, _) in _HISTORY.items())}
        FROM period_ratings p
        JOIN audit_log a ON a.position = p.position
        """,
        {name: description for name, (_, description) in _HISTORY.items()},
        facets=("programme", "period", "status", "category", "restated"),
        sort_desc="period_start",
    ),
    View(
        "status_events",
        "Every status and update recorded or corrected, in log order: earlier texts stay visible.",
        # A view over the status events' audit rows, which hold the texts: one row per
        # event instead of two, each text held once (and searched through audit_log_fts).
        """
        SELECT position, programme, subject_ref AS ref, period, period_start,
               CASE event_type WHEN 'StatusCorrected' THEN 'corrected' ELSE 'recorded' END
                 AS event_type,
               status, category, "update", mitigation, reason, actor AS recorded_by,
               recorded_at, version, corrects_version
        FROM audit_log
        WHERE aggregate_kind = 'Item' AND event_type IN ('StatusRecorded', 'StatusCorrected')
        """,
        {
            "position": POSITION.description,
            "programme": PROGRAMME.description,
            "ref": REF.description,
            "period": PERIOD.description,
            "period_start": PERIOD_START.description,
            "event_type": "recorded or corrected",
            "status": "Status recorded (Not rated if left empty)",
            "category": "green, amber, red or unrated",
            "update": "The update as recorded",
            "mitigation": "Mitigation or corrective action as recorded",
            "reason": "Reason given (required for corrections and re-ratings)",
            "recorded_by": "Who recorded it",
            "recorded_at": "When it was recorded (UTC)",
            "version": VERSION.description,
            "corrects_version": "For a correction: the version it corrects",
        },
        facets=("programme", "period", "event_type", "status"),
        search=("audit_log_fts", "position"),
        sort_desc="position",
    ),
    View(
        "current_status",
        "Each rated item's status in its latest period, with the item's details.",
        # A view over the item's latest_period: nothing to keep in step when an item is
        # retitled or an older period is corrected.
        """
        SELECT i.programme, i.ref, i.kind, i.title, i.lead_officer, i.committee, i.sort_key,
               i.path, h.period, h.period_start, h.status, h.category, h.rank, h.status_order,
               h."update", h.mitigation, h.recorded_by, h.recorded_at, h.restated,
               i.version AS item_version
        FROM items i
        JOIN status_history h
          ON h.programme = i.programme AND h.period = i.latest_period AND h.ref = i.ref
        """,
        {
            "programme": PROGRAMME.description,
            "ref": REF.description,
            "kind": "Kind of item",
            "title": "Title of the item",
            "lead_officer": "Lead officer",
            "committee": "Committee the item reports to",
            "sort_key": "Natural sort key of the ref (A1.9 before A1.10)",
            "path": "Refs from the top of the hierarchy down to this item",
            "period": "Latest period the item has a status for",
            "period_start": PERIOD_START.description,
            "status": "Status in that period",
            "category": "green, amber, red or unrated",
            "rank": "Direction-of-travel rank (lower is better)",
            "status_order": "Position of the status on the scale",
            "update": "The update in force",
            "mitigation": "Mitigation or corrective action in hand",
            "recorded_by": "Who recorded it",
            "recorded_at": "When it was recorded (UTC)",
            "restated": "1 if the period was corrected or re-rated",
            "item_version": "Current version of the item's record (seen_version for forms)",
        },
        facets=("programme", "period", "status", "lead_officer", "committee"),
    ),
    View(
        "transitions",
        "Direction of travel per item per period, against the period before. "
        "improved / deteriorated / unchanged by rank (lower is better); new if nothing was "
        "recorded the period before; unchanged for the same status; not comparable when "
        "the statuses differ and either is unrated (Not yet due, Complete...).",
        # A view, not a table: a late correction of one period is reflected in the next
        # period's direction with nothing to keep in step.
        """
        SELECT h.programme, h.ref, h.period, h.period_start, h.previous_period,
               p.status AS previous_status, h.status, p.rank AS previous_rank, h.rank,
               CASE
                 WHEN p.status IS NULL THEN 'new'
                 WHEN p.status = h.status THEN 'unchanged'
                 WHEN p.rank IS NULL OR h.rank IS NULL THEN 'not comparable'
                 WHEN h.rank < p.rank THEN 'improved'
                 WHEN h.rank > p.rank THEN 'deteriorated'
                 ELSE 'unchanged'
               END AS direction
        FROM status_history h
        LEFT JOIN status_history p
          ON p.programme = h.programme AND p.ref = h.ref AND p.period = h.previous_period
        """,
        {
            "programme": PROGRAMME.description,
            "ref": REF.description,
            "period": PERIOD.description,
            "period_start": PERIOD_START.description,
            "previous_period": "The period before",
            "previous_status": "Status in the period before (empty if none recorded)",
            "status": "Status in this period",
            "previous_rank": "Rank in the period before (lower is better)",
            "rank": "Rank in this period",
            "direction": "improved, deteriorated, unchanged, new or not comparable",
        },
        facets=("programme", "period", "direction"),
    ),
    View(
        "risks",
        "Risks only (risks_and_issues where kind is risk).",
        "SELECT * FROM risks_and_issues WHERE kind = 'risk'",
        {c.name: c.description for c in RISKS_AND_ISSUES.columns},
        facets=("programme", "state", "rag_before", "rag_after", "owner"),
    ),
    View(
        "issues",
        "Issues only (risks_and_issues where kind is issue).",
        "SELECT * FROM risks_and_issues WHERE kind = 'issue'",
        {c.name: c.description for c in RISKS_AND_ISSUES.columns},
        facets=("programme", "state", "rag_before", "rag_after", "owner"),
    ),
    View(
        "changed_after_publication",
        "Changes recorded for a programme and period after the latest edition of a report "
        "for it was built (by log position): what the published report does not show.",
        """
        SELECT p.programme, p.report, p.period, p.edition AS publication_edition,
               p.published_at, p.log_position AS published_from_position,
               a.position, a.recorded_at, a.actor, a.aggregate_kind, a.subject_ref,
               a.event_type, a.summary, a.field, a.from_value, a.to_value, a.reason
        FROM publications p
        JOIN audit_log a
          ON a.programme = p.programme AND a.period = p.period
         AND a.position > p.log_position AND a.aggregate_kind != 'Publication'
        WHERE p.edition = (
            SELECT max(q.edition) FROM publications q
            WHERE q.programme = p.programme AND q.report = p.report AND q.period = p.period
        )
        """,
        {
            "programme": PROGRAMME.description,
            "report": "Report name",
            "period": PERIOD.description,
            "publication_edition": "Edition of the report the change came after (the latest)",
            "published_at": "When that edition was published (UTC)",
            "published_from_position": "Event log position that edition was built from",
            "position": "Event log position of the change",
            **_AUDIT_COLUMNS,
        },
        facets=("programme", "report", "period", "aggregate_kind", "actor"),
    ),
)
