"""The read model's tables and views, described once.

Each table lists its columns with a description; Datasette's metadata is generated from
here (projections.datasette_config), so a column can't exist without one. Tables are
denormalised for the pages that read them: a page reads one or two tables by an index,
however long the history.

Conventions: `programme` is the programme's slug; `period` is the canonical label
("2024/25 Q1", "2026-01") and `period_start` its first day as an ISO date, which sorts
periods in time order; times are ISO 8601 in UTC; `position` is the event log position
of the change in force, so anything can be traced back to the event that wrote it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

# Bump when tables or handlers change shape: an out-of-date projections.db is rebuilt.
SCHEMA_VERSION = 1

# What a status the officer left empty is called in the read model.
NOT_RATED = "Not rated"


@dataclass(frozen=True)
class Column:
    name: str
    type: type
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    pk: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    unique_indexes: tuple[tuple[str, ...], ...] = ()
    fts: tuple[str, ...] = ()  # columns indexed for full-text search
    # Indexed columns set once and never changed: left out of upserts' SET, so SQLite
    # doesn't rewrite their index entries on every update.
    fixed: tuple[str, ...] = ()
    hidden: bool = False  # internal to the projector: hidden in Datasette
    facets: tuple[str, ...] = ()
    sort: str | None = None
    sort_desc: str | None = None
    label_column: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class View:
    name: str
    description: str
    sql: str
    columns: dict[str, str] = field(default_factory=dict)  # name -> description
    facets: tuple[str, ...] = ()


def _c(name: str, type_: type, description: str) -> Column:
    return Column(name, type_, description)


# Columns shared by many tables, described once.
PROGRAMME = _c("programme", str, "Programme id: the short name it was registered with")
REF = _c("ref", str, "Item reference as registered, e.g. A1.1.1, P2.6 or WS7")
PERIOD = _c("period", str, "Reporting period: 2024/25 Q1 (April to June 2024) or 2026-01")
PERIOD_START = _c("period_start", str, "First day of the period (ISO date); sorts periods in time order")
VERSION = _c("version", int, "Version of the record after this change (1 = as first recorded)")
POSITION = _c("position", int, "Event log position of the change in force")


def _period_columns() -> tuple[Column, Column]:
    return PERIOD, PERIOD_START


TABLES: tuple[Table, ...] = (
    Table(
        "programmes",
        "Plans, partnerships and boards that report on a cadence, with their status scale.",
        (
            PROGRAMME,
            _c("programme_id", str, "Internal id of the programme (UUID)"),
            _c("name", str, "Programme name"),
            _c("cadence", str, "How often it reports: quarterly (municipal year) or monthly"),
            _c("scale_name", str, "Name of the status scale in force, e.g. RAG"),
            _c("scale", str, "The status scale in force, as JSON (statuses, categories, ranks)"),
            _c("requires_mitigation", int, "1 if Amber and Red ratings must say what mitigation is in hand"),
            _c("description", str, "What the programme is"),
            _c("contact", str, "Contact details as JSON, e.g. contact officer, email, phone"),
            _c("registered_at", str, "When the programme was registered (UTC)"),
            _c("registered_by", str, "Who registered it"),
            _c("updated_at", str, "When the programme was last changed (UTC)"),
            VERSION,
        ),
        pk=("programme",),
        unique_indexes=(("programme_id",),),
        label_column="name",
    ),
    Table(
        "statuses",
        "Each programme's status scale in force, in scale order.",
        (
            PROGRAMME,
            _c("status", str, "Status name, e.g. Green, Amber, Red, Not yet due"),
            _c("category", str, "green, amber, red or unrated: what summaries and exceptions work from"),
            _c("rank", int, "Direction-of-travel rank, lower is better; empty for unrated statuses"),
            _c("sort_order", int, "Position on the scale (0 first); statuses sort in scale order"),
            _c("description", str, "What the status means, e.g. On track"),
            _c("aliases", str, "Other spellings accepted, as a JSON list (e.g. Measure not due)"),
        ),
        pk=("programme", "status"),
        sort="sort_order",
        facets=("programme", "category"),
    ),
    Table(
        "periods",
        "Reporting periods that have anything recorded against them, per programme.",
        (
            PROGRAMME,
            PERIOD,
            PERIOD_START,
            _c("period_end", str, "Last day of the period (ISO date)"),
            _c("description", str, "The period in words, e.g. April 2024 to June 2024"),
        ),
        pk=("programme", "period"),
        indexes=(("programme", "period_start"),),
        sort_desc="period_start",
        facets=("programme",),
    ),
    Table(
        "items",
        "Everything rated or reported under a programme: aims, priorities, actions, workstreams.",
        (
            PROGRAMME,
            REF,
            _c("item_id", str, "Internal id of the item (UUID)"),
            _c("kind", str, "vision, aim, priority, action, workstream, core area or objective"),
            _c("title", str, "Title of the item"),
            _c("parent_ref", str, "Ref of the item it sits under (empty at the top)"),
            _c("path", str, "Refs from the top of the hierarchy down to this item, joined by ' > '"),
            _c("depth", int, "Level in the hierarchy (0 at the top)"),
            _c("sort_key", str, "Natural sort key of the ref: A1.9 sorts before A1.10"),
            _c("lead_officer", str, "Lead officer"),
            _c("committee", str, "Committee the item reports to, e.g. CPC, E+C"),
            _c("child_count", int, "Number of items directly under this one (0 for a leaf)"),
            _c("latest_period", str, "Latest period the item has a status for (empty if never rated)"),
            _c("latest_period_start", str, "First day of latest_period (ISO date)"),
            _c("registered_at", str, "When the item was registered (UTC)"),
            _c("registered_by", str, "Who registered it"),
            _c("updated_at", str, "When the item's details last changed (UTC)"),
            _c(
                "version",
                int,
                "Current version of the item's record (any change, ratings included): "
                "what a form passes back as seen_version",
            ),
        ),
        pk=("programme", "ref"),
        unique_indexes=(("item_id",),),
        indexes=(("programme", "sort_key"),),
        fixed=("item_id", "sort_key"),
        facets=("programme", "kind", "lead_officer", "committee"),
        sort="sort_key",
        label_column="title",
    ),
    Table(
        "status_history",
        "One row per item per period: the status and update in force, and whether it was restated.",
        (
            PROGRAMME,
            REF,
            *_period_columns(),
            _c("previous_period", str, "The period before in the programme's cadence"),
            _c("status", str, "Status in force for the period (Not rated if left empty)"),
            _c("category", str, "green, amber, red or unrated, under the scale in force when recorded"),
            _c("rank", int, "Direction-of-travel rank (lower is better); empty for unrated statuses"),
            _c("status_order", int, "Position of the status on the scale, for sorting"),
            _c("update", str, "The update (progress narrative) in force"),
            _c("mitigation", str, "Mitigation or corrective action in hand (Amber and Red)"),
            _c("recorded_by", str, "Who recorded the status and update in force"),
            _c("recorded_at", str, "When the status and update in force were recorded (UTC)"),
            _c("first_recorded_at", str, "When anything was first recorded for this item and period (UTC)"),
            _c("restated", int, "1 if the period was later corrected or re-rated (a restatement)"),
            _c("restated_reason", str, "Reason given for the latest correction or re-rating"),
            _c("restated_at", str, "When the latest correction or re-rating was recorded (UTC)"),
            _c("updates_count", int, "How many times a status or update was recorded for the period"),
            VERSION,
            POSITION,
        ),
        # Period before ref: the key's index also serves "everything for a period".
        pk=("programme", "period", "ref"),
        facets=("programme", "period", "status", "category", "restated"),
        sort_desc="period_start",
    ),
    Table(
        "status_events",
        "Every status and update recorded or corrected, in log order: earlier texts stay visible.",
        (
            POSITION,
            PROGRAMME,
            REF,
            *_period_columns(),
            _c("event_type", str, "recorded or corrected"),
            _c("status", str, "Status recorded (Not rated if left empty)"),
            _c("category", str, "green, amber, red or unrated"),
            _c("update", str, "The update as recorded"),
            _c("mitigation", str, "Mitigation or corrective action as recorded"),
            _c("reason", str, "Reason given (required for corrections and re-ratings)"),
            _c("recorded_by", str, "Who recorded it"),
            _c("recorded_at", str, "When it was recorded (UTC)"),
            VERSION,
            _c("corrects_version", int, "For a correction: the version it corrects"),
        ),
        pk=("position",),
        # An item's texts are found through audit_log's (programme, subject_ref) index.
        fts=("update", "mitigation"),
        facets=("programme", "period", "event_type", "status"),
        sort_desc="position",
    ),
    Table(
        "rag_summary",
        "How many items had each status, per programme and period, in scale order.",
        (
            PROGRAMME,
            *_period_columns(),
            _c("status", str, "Status"),
            _c("category", str, "green, amber, red or unrated"),
            _c("status_order", int, "Position of the status on the scale: sort by this"),
            _c("count", int, "Number of items with this status in the period"),
        ),
        pk=("programme", "period", "status"),
        indexes=(("programme", "period_start"),),
        facets=("programme", "period", "status"),
        sort="status_order",
    ),
    Table(
        "risks_and_issues",
        "Risks and issues (kind column), with RAG before and after mitigation. "
        "Views risks and issues show each kind.",
        (
            PROGRAMME,
            _c("kind", str, "risk or issue"),
            _c("ref", str, "Risk or issue reference, e.g. R1"),
            _c("description", str, "Description"),
            _c("rag_before", str, "RAG before mitigation (inherent)"),
            _c("rag_before_category", str, "Category of the RAG before mitigation"),
            _c("mitigation", str, "Mitigation plan"),
            _c("rag_after", str, "RAG re-rated after mitigation (residual); empty if not re-rated"),
            _c("rag_after_category", str, "Category of the RAG after mitigation"),
            _c("owner", str, "Owner"),
            *_period_columns(),
            _c("state", str, "open or closed"),
            _c("closed_period", str, "Period it was closed in (empty while open)"),
            _c("raised_at", str, "When it was raised (UTC)"),
            _c("raised_by", str, "Who raised it"),
            _c("updated_at", str, "When it last changed (UTC)"),
            _c("updated_by", str, "Who last changed it"),
            _c("last_reason", str, "Reason given for the latest change"),
            VERSION,
        ),
        pk=("programme", "kind", "ref"),
        fts=("description", "mitigation"),
        facets=("programme", "kind", "state", "rag_before", "rag_after", "owner"),
        label_column="description",
    ),
    Table(
        "dependencies",
        "What each programme relies on: is a jointly agreed plan in place, and how confident.",
        (
            PROGRAMME,
            _c("ref", str, "Dependency reference, e.g. D1"),
            _c("description", str, "Description"),
            _c("plan_agreed", str, "Jointly agreed plan in place: yes, no, or empty if not stated"),
            _c("confidence", str, "Confidence: High, Medium, Low, or empty if not stated"),
            _c("owner", str, "Owner"),
            *_period_columns(),
            _c("registered_at", str, "When it was registered (UTC)"),
            _c("registered_by", str, "Who registered it"),
            _c("updated_at", str, "When it last changed (UTC)"),
            _c("updated_by", str, "Who last changed it"),
            VERSION,
        ),
        pk=("programme", "ref"),
        facets=("programme", "plan_agreed", "confidence", "owner"),
        label_column="description",
    ),
    Table(
        "indicator_definitions",
        "Measured indicators: unit and which direction is better.",
        (
            PROGRAMME,
            _c("ref", str, "Indicator reference, e.g. FTE"),
            _c("name", str, "Indicator name"),
            _c("unit", str, "Unit of the values, e.g. FTE, %, £m"),
            _c("better", str, "Which direction is better: higher, lower or neither"),
            _c("description", str, "What is measured"),
            _c("defined_at", str, "When it was defined (UTC)"),
            _c("defined_by", str, "Who defined it"),
            _c("version", int, "Version of the indicator record after its latest value"),
        ),
        pk=("programme", "ref"),
        facets=("programme", "better"),
        label_column="name",
    ),
    Table(
        "indicators",
        "Indicator values per period and breakdown, with the change from the period before.",
        (
            PROGRAMME,
            _c("ref", str, "Indicator reference"),
            _c("name", str, "Indicator name"),
            _c("unit", str, "Unit of the value (see the row: units differ by indicator)"),
            _c("better", str, "Which direction is better: higher, lower or neither"),
            *_period_columns(),
            _c("breakdown", str, "Breakdown, e.g. a directorate (empty for the overall figure)"),
            _c("value", float, "Value as a number"),
            _c("value_text", str, "Value exactly as recorded (decimal text)"),
            _c("previous_period", str, "The period before"),
            _c("previous_value", float, "Value in the period before (empty if none recorded)"),
            _c("change", float, "value − previous_value"),
            _c("direction", str, "good, bad or neutral, using better; empty with no previous value"),
            _c("recorded_by", str, "Who recorded the value in force"),
            _c("recorded_at", str, "When the value in force was recorded (UTC)"),
            _c("restated", int, "1 if the value was corrected after first being recorded"),
            _c("restated_reason", str, "Reason given for the latest correction"),
            VERSION,
            POSITION,
        ),
        pk=("programme", "ref", "period", "breakdown"),
        indexes=(("programme", "period"), ("programme", "ref", "breakdown", "period_start")),
        facets=("programme", "period", "name", "breakdown", "direction"),
        sort_desc="period_start",
    ),
    Table(
        "report_sections",
        "Report narrative per programme and period: achievements, challenges, plans...",
        (
            PROGRAMME,
            *_period_columns(),
            _c("section", str, "Section key, e.g. achievements, planned_next"),
            _c("heading", str, "Section heading as the report prints it"),
            _c("section_order", int, "Order of the section in the report"),
            _c("text", str, "Narrative text in force"),
            _c("written_by", str, "Who wrote the text in force"),
            _c("written_at", str, "When the text in force was written (UTC)"),
            _c("first_written_at", str, "When the section was first written (UTC)"),
            _c("revisions", int, "How many times the section was written"),
            VERSION,
            POSITION,
        ),
        pk=("programme", "period", "section"),
        indexes=(("programme", "period_start"),),
        fts=("text",),
        facets=("programme", "period", "section"),
        sort="section_order",
    ),
    Table(
        "publications",
        "Reports as published: the log position each was built from and a hash of its content.",
        (
            PROGRAMME,
            _c("report", str, "Report name, e.g. committee-pack or highlight-report"),
            *_period_columns(),
            _c("edition", int, "Edition: 1 when first published, then 2, 3... on republication"),
            _c("title", str, "Title of the report"),
            _c("log_position", int, "Event log position the report was built from"),
            _c("content_sha256", str, "SHA-256 of the published content"),
            _c("published_at", str, "When it was published (UTC)"),
            _c("published_by", str, "Who published it"),
            _c("reason", str, "Reason given (required to republish)"),
            VERSION,
            POSITION,
        ),
        pk=("programme", "report", "period", "edition"),
        facets=("programme", "report", "period"),
        sort_desc="published_at",
        label_column="title",
    ),
    Table(
        "accounts",
        "People's access: roles and programmes. No passwords are ever held here.",
        (
            _c("username", str, "Username"),
            _c("display_name", str, "The person's name"),
            _c(
                "roles",
                str,
                "Roles as a JSON list: officer, programme manager, auditor, analyst, administrator",
            ),
            _c("programmes", str, "Programmes the person can work on, as a JSON list of programme ids"),
            _c("active", int, "1 if the account is active"),
            _c("opened_at", str, "When the account was opened (UTC)"),
            _c("opened_by", str, "Who opened it"),
            _c("updated_at", str, "When it last changed (UTC)"),
            VERSION,
        ),
        pk=("username",),
        facets=("active",),
        label_column="display_name",
    ),
    Table(
        "audit_log",
        "Every event in the ledger, one row each: who changed what, from what to what, when and why.",
        (
            _c("position", int, "Event log position (the order events were recorded in)"),
            _c("recorded_at", str, "When the event was recorded (UTC)"),
            _c("actor", str, "Who made the change"),
            _c("programme", str, "Programme it concerns (empty for accounts not tied to one)"),
            _c("subject_ref", str, "What it concerns: item, risk, indicator ref, username, report..."),
            _c("aggregate_kind", str, "Kind of record: Programme, Item, Risk, Indicator, Account..."),
            _c("event_type", str, "What happened, e.g. StatusRecorded, StatusCorrected, Retitled"),
            _c("summary", str, "What changed, in words"),
            _c("field", str, "Field that changed, e.g. status, title, value"),
            _c("from_value", str, "Value before the change (empty if new)"),
            _c("to_value", str, "Value after the change"),
            _c("reason", str, "Reason given"),
            _c("period", str, "Reporting period the change is for, if any"),
            _c("aggregate_id", str, "Internal id of the record changed (UUID)"),
            _c("version", int, "Version of the record after the change"),
            _c("chain_head", str, "Hash-chain head after this event (hex), to check against a checkpoint"),
        ),
        pk=("position",),
        indexes=(
            ("programme", "subject_ref", "position"),
            ("programme", "period", "position"),
        ),
        facets=("programme", "aggregate_kind", "event_type", "actor", "period"),
        sort_desc="position",
    ),
    Table(
        "subjects",
        "Internal: what each record id refers to (programme and ref), for the projector.",
        (
            _c("aggregate_id", str, "Internal id of the record (UUID)"),
            _c("aggregate_kind", str, "Kind of record"),
            _c("programme", str, "Programme it belongs to"),
            _c("ref", str, "Its ref, username, period or report name"),
            _c("kind", str, "For risks: risk or issue"),
            _c("period", str, "For narratives and publications: the period"),
        ),
        pk=("aggregate_id",),
        hidden=True,
    ),
    Table(
        "projection_position",
        "Internal: the last event log position applied, written in the same transaction as the rows.",
        (
            _c("projection", str, "Name of the projection"),
            _c("position", int, "Last event log position applied"),
            _c("schema_version", int, "Version of the read model's shape"),
            _c("as_at", str, "For a snapshot: the time or position it was taken as at (empty when live)"),
        ),
        pk=("projection",),
        hidden=True,
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


_AUDIT_COLUMNS = {
    c.name: c.description
    for c in TABLES_BY_NAME["audit_log"].columns
    if c.name not in ("programme", "period", "position")
}

VIEWS: tuple[View, ...] = (
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
        {c.name: c.description for c in TABLES_BY_NAME["risks_and_issues"].columns},
        facets=("programme", "state", "rag_before", "rag_after", "owner"),
    ),
    View(
        "issues",
        "Issues only (risks_and_issues where kind is issue).",
        "SELECT * FROM risks_and_issues WHERE kind = 'issue'",
        {c.name: c.description for c in TABLES_BY_NAME["risks_and_issues"].columns},
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


def _sql_type(type_: type) -> str:
    return {str: "TEXT", int: "INTEGER", float: "REAL"}[type_]


def create_schema(conn: sqlite3.Connection, *, bulk_load: bool = False) -> None:
    """Create every table, index and view (in the caller's transaction, if any).

    With `bulk_load` (a new file being built from zero) only the tables, their keys and
    the views are created; `finish_bulk_load` adds the secondary and full-text indexes
    at the end, which sorts each index once instead of inserting into it row by row."""
    for table in TABLES:
        columns = ", ".join(f'"{c.name}" {_sql_type(c.type)}' for c in table.columns)
        pk = ", ".join(f'"{c}"' for c in table.pk)
        # Rowid tables throughout: rows arrive in log order, so appending by rowid with a
        # narrow key index measured ~2x faster than WITHOUT ROWID tables for wide rows.
        conn.execute(f'CREATE TABLE IF NOT EXISTS "{table.name}" ({columns}, PRIMARY KEY ({pk}))')
    for view in VIEWS:
        conn.execute(f'CREATE VIEW IF NOT EXISTS "{view.name}" AS {view.sql}')
    if not bulk_load:
        finish_bulk_load(conn)


def finish_bulk_load(conn: sqlite3.Connection) -> None:
    """The secondary indexes and the full-text indexes (created if missing, populated
    from the rows already there). Idempotent."""
    for table in TABLES:
        indexes = [*((c, False) for c in table.indexes), *((c, True) for c in table.unique_indexes)]
        for cols, unique in indexes:
            conn.execute(
                f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS "
                f'"idx_{table.name}_{"_".join(cols)}" '
                f'ON "{table.name}" ({", ".join(cols)})'
            )
    enable_search(conn)


def enable_search(conn: sqlite3.Connection) -> None:
    """Full-text indexes (FTS5, kept current by triggers) over updates, mitigation and
    narratives. Populates them from the rows already there."""
    import sqlite_utils  # local: the projector's hot path doesn't need it

    db = sqlite_utils.Database(conn, execute_plugins=False)
    for table in TABLES:
        if table.fts and f"{table.name}_fts" not in db.table_names():
            db[table.name].enable_fts(list(table.fts), create_triggers=True)


def search_tables() -> list[Table]:
    return [t for t in TABLES if t.fts]
