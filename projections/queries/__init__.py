"""Queries for pages and reports: plain functions over projections.db returning plain data.

The only SQL the web and the reports see. Every function takes `db` first: a path to
projections.db or an as-at snapshot (opened read-only for the call), an open
`sqlite3.Connection`, or a `sqlite_utils.Database` (see projections.queries.connection).
They read the precomputed tables by an index, so they cost the same however long the
history is. Rows come back as dicts with the column names documented in
projections.schema.

One module per page family: programmes (and accounts), cycle (due, overdue, leads to
link, reminders), dashboards (summaries,
exceptions, grid, search), scales (scales, changes of scale, summaries by category
and group), items (details, texts, timeline), reports (indicators, risks,
dependencies, narratives, publications) and audit (the audit log and as-at positions).
"""

from projections.queries.audit import (
    AuditFilter,
    get_audit_log,
    get_event_types,
    get_position_as_at,
    get_recorded_at,
    get_snapshot_name,
    iter_audit_log,
)
from projections.queries.connection import Connection, Db, Row, connect_read_only
from projections.queries.cycle import (
    get_due,
    get_due_summary,
    get_item_leads,
    get_period_openings,
    get_reminders,
    get_reminders_to_send,
    get_unlinked_leads,
)
from projections.queries.dashboards import (
    get_exceptions,
    get_grid,
    get_missing_updates,
    get_programme_summaries,
    get_ratings,
    get_summary,
    get_transitions,
    search,
)
from projections.queries.items import (
    get_item,
    get_item_history,
    get_item_timeline,
    get_possible_parents,
    get_timeline_position_after,
)
from projections.queries.programmes import (
    get_accounts,
    get_periods,
    get_programme,
    get_programmes,
    get_projection_position,
    get_scale,
)
from projections.queries.register import get_item_notes, get_retired, get_retirements
from projections.queries.reports import (
    get_changed_after_publication,
    get_dependencies,
    get_indicator_definitions,
    get_indicators,
    get_publications,
    get_record_changes_after,
    get_risks,
    get_risks_in,
    get_sections,
)
from projections.queries.scales import get_scale_changes, get_scales
from projections.queries.sides import get_dependency_register, get_dependency_sides

__all__ = [
    "AuditFilter",
    "Connection",
    "Db",
    "Row",
    "connect_read_only",
    "get_accounts",
    "get_audit_log",
    "get_changed_after_publication",
    "get_dependencies",
    "get_dependency_register",
    "get_dependency_sides",
    "get_due",
    "get_due_summary",
    "get_event_types",
    "get_exceptions",
    "get_grid",
    "get_indicator_definitions",
    "get_indicators",
    "get_item",
    "get_item_history",
    "get_item_leads",
    "get_item_notes",
    "get_item_timeline",
    "get_missing_updates",
    "get_period_openings",
    "get_periods",
    "get_position_as_at",
    "get_possible_parents",
    "get_programme",
    "get_programme_summaries",
    "get_programmes",
    "get_projection_position",
    "get_publications",
    "get_ratings",
    "get_record_changes_after",
    "get_recorded_at",
    "get_reminders",
    "get_reminders_to_send",
    "get_retired",
    "get_retirements",
    "get_risks",
    "get_risks_in",
    "get_scale",
    "get_scale_changes",
    "get_scales",
    "get_sections",
    "get_snapshot_name",
    "get_summary",
    "get_timeline_position_after",
    "get_transitions",
    "get_unlinked_leads",
    "iter_audit_log",
    "search",
]
