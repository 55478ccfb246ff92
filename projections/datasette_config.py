"""Datasette over projections.db, configured as code.

    ds = make_datasette(projections_db, actor_from_request=read_flask_session)

Serves the read model only, never the event store. Mutable (the projector writes while
it runs). Everyone must be signed in with a role; only analysts may run their own SQL;
auditors and others read tables, views and the canned queries. No whole-file download.

Metadata comes from projections.schema, so every table, view and column is described.
Canned queries give the report's questions a stable URL:

    /projections/rag_summary_for_period.json?programme=...&period=...
    /projections/exceptions.json?programme=...&period=...
    /projections/deteriorated.json?programme=...&period=...
    /projections/no_update.json?programme=...&period=...
    /projections/changed_after_publication_for_programme.json?programme=...
    /projections/statuses_by_period.json?programme=...
    /projections/awaiting_my_review.json            (the signed-in reviewer's queue)
    /projections/approved_then_changed.json?programme=...

and a datasette-dashboards dashboard (statuses by period) for analysts, at
/-/dashboards/statuses-by-period. The dashboard runs its chart's SQL from the browser,
so it needs the execute-sql permission (analysts); everyone else can chart the
statuses_by_period query with datasette-vega on its page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from datasette.app import Datasette

from ledger.domain import ROLES
from projections.datasette_limits import BoundedDatasette
from projections.datasette_look import PageHeader
from projections.schema import TABLES, VIEWS, search_tables

# Called with the ASGI request; returns the actor ({"id": ..., "roles": [...]}) or None.
ActorFromRequest = Callable[[Any], dict[str, Any] | Awaitable[dict[str, Any] | None] | None]

TITLE = "Governance Ledger"
DESCRIPTION = (
    "The read model of the Governance Ledger: programmes, items and their RAG ratings per "
    "period, updates, risks, issues, dependencies, indicators, report narratives, "
    "publications and the audit log. Built from the tamper-evident event store, which is "
    "the only truth: these tables can be rebuilt from it at any time."
)

# Everyone with a role may look; only analysts may write their own SQL.
ALL_ROLES = list(ROLES)
SQL_ROLES = ["analyst"]

_SUMMARY_SQL = """
SELECT status, category, status_category, status_group, colour, count FROM (
    SELECT s.status, s.category, s.status_category, s.status_group, s.colour, s.sort_order,
           coalesce(r.count, 0) AS count
    FROM statuses s
    LEFT JOIN rag_summary r
      ON r.programme = s.programme AND r.period = :period AND r.status = s.status
    WHERE s.programme = :programme
    UNION ALL
    SELECT r.status, r.category, r.status_category, r.status_group, r.colour, r.status_order, r.count
    FROM rag_summary r
    WHERE r.programme = :programme AND r.period = :period
      AND r.status NOT IN (SELECT status FROM statuses WHERE programme = :programme)
)
ORDER BY sort_order
"""

CANNED_QUERIES: dict[str, dict[str, Any]] = {
    "rag_summary_for_period": {
        "title": "RAG summary for a period",
        "description": "How many items had each status in a period, in scale order (zeros included).",
        "sql": _SUMMARY_SQL,
    },
    "exceptions": {
        "title": "Exceptions: amber and red items",
        "description": "Items rated amber or red in a period, with their update and mitigation.",
        "sql": """
SELECT h.ref, i.title, i.lead_officer, i.committee, h.status, h."update", h.mitigation,
       h.recorded_by, h.recorded_at, h.restated
FROM status_history h
JOIN items i ON i.programme = h.programme AND i.ref = h.ref
WHERE h.programme = :programme AND h.period = :period AND h.category IN ('amber', 'red')
ORDER BY h.status_order, i.sort_key
""",
    },
    "deteriorated": {
        "title": "Deteriorated since the last period",
        "description": "Items whose status got worse (by rank) since the period before.",
        "sql": """
SELECT t.ref, i.title, i.lead_officer, i.committee, t.previous_period, t.previous_status,
       t.status, h."update", h.mitigation
FROM transitions t
JOIN items i ON i.programme = t.programme AND i.ref = t.ref
JOIN status_history h ON h.programme = t.programme AND h.period = t.period AND h.ref = t.ref
WHERE t.programme = :programme AND t.period = :period AND t.direction = 'deteriorated'
ORDER BY i.sort_key
""",
    },
    "no_update": {
        "title": "No update recorded this period",
        "description": (
            "Items expected to report (nothing registered under them) with no status for the "
            "period, or a status without an update."
        ),
        "sql": """
SELECT i.ref, i.title, i.lead_officer, i.committee, h.status,
       CASE WHEN h.ref IS NULL THEN 'status and update' ELSE 'update' END AS missing
FROM items i
LEFT JOIN status_history h ON h.programme = i.programme AND h.ref = i.ref AND h.period = :period
WHERE i.programme = :programme AND i.child_count = 0 AND (h.ref IS NULL OR h."update" = '')
ORDER BY i.sort_key
""",
    },
    "changed_after_publication_for_programme": {
        "title": "Changes recorded after a report was published",
        "description": (
            "Everything recorded for a published period after the latest edition of its "
            "report was built: what the published report does not show."
        ),
        "sql": """
SELECT report, period, publication_edition, published_at, position, recorded_at, actor,
       aggregate_kind, subject_ref, event_type, summary, from_value, to_value, reason
FROM changed_after_publication
WHERE programme = :programme
ORDER BY report, period, position
""",
    },
    "statuses_by_period": {
        "title": "Statuses by period",
        "description": "Counts of each status per period, oldest first: chart it with the Vega controls.",
        "sql": """
SELECT period, period_start, status, category, status_category, status_group, colour, status_order, count
FROM rag_summary
WHERE programme = :programme
ORDER BY period_start, status_order
""",
    },
    "categories_by_period": {
        "title": "Categories by period",
        "description": (
            "Counts by category (on track, minor issues, major issues, complete, not yet due, not rated, "
            "closed) per programme and period: programmes on different scales side by side."
        ),
        "sql": """
SELECT programme, period, period_start, status_category, count
FROM category_summary
WHERE programme = coalesce(nullif(:programme, ''), programme)
ORDER BY period_start, programme, status_category
""",
    },
    "overdue": {
        "title": "Overdue updates",
        "description": (
            "Items in opened periods with no update yet and past their due date, most days "
            "overdue first (as at today). Leave the programme empty for every programme."
        ),
        "sql": """
SELECT programme, ref, title, period, due_date, overdue_days, lead_account, lead_officer
FROM due
WHERE updated = 0 AND overdue_days > 0 AND (:programme = '' OR programme = :programme)
ORDER BY overdue_days DESC, programme, period_start, sort_key
""",
    },
    "awaiting_my_review": {
        "title": "Awaiting my review",
        "description": (
            "Updates submitted for review in the programmes you manage, oldest first, leaving out "
            "your own (nobody approves their own update). Approve or return them on the review page."
        ),
        # :_actor_id is Datasette's magic parameter: the signed-in person's username.
        "sql": """
SELECT r.programme, r.ref, i.title, r.period, r.submitted_by, r.at AS submitted_at, r.content_sha256,
       r.returns
FROM review_state r
JOIN items i ON i.programme = r.programme AND i.ref = r.ref
JOIN accounts a ON a.username = :_actor_id AND a.active = 1
WHERE r.state = 'submitted' AND r.submitted_by != a.username
  AND EXISTS (SELECT 1 FROM json_each(a.roles) WHERE value = 'programme manager')
  AND EXISTS (SELECT 1 FROM json_each(a.programmes) WHERE value = r.programme)
ORDER BY r.at, r.programme, i.sort_key
""",
    },
    "approved_then_changed": {
        "title": "Approved, then changed",
        "description": (
            "Approvals superseded because the content approved (status, update, mitigation) changed "
            "afterwards: the hash approved beside the hash of the content now. Leave the programme "
            "empty for every programme."
        ),
        "sql": """
SELECT r.programme, r.ref, i.title, r.period, r.approved_by, r.approved_at, r.approved_sha256,
       r.state, r.content_sha256 AS changed_sha256, r.by AS changed_by, r.at AS changed_at
FROM review_state r
JOIN items i ON i.programme = r.programme AND i.ref = r.ref
WHERE r.superseded = 1 AND (:programme = '' OR r.programme = :programme)
ORDER BY r.at DESC
""",
    },
    "dependency_disagreements": {
        "title": "Dependencies whose sides disagree",
        "description": (
            "Dependencies whose provider and receiver confirmed different things (whether a jointly "
            "agreed plan is in place, or their confidence), or where a side has not confirmed yet, "
            "with what each side said, who and when. Leave the programme empty for every programme."
        ),
        "sql": """
SELECT s.programme, s.ref, d.description, s.agreement, s.agreement_text,
       s.provider, s.provider_plan_agreed, s.provider_confidence, s.provider_confirmed_by,
       s.provider_confirmed_at, s.receiver, s.receiver_plan_agreed, s.receiver_confidence,
       s.receiver_confirmed_by, s.receiver_confirmed_at
FROM dependency_sides s
JOIN dependencies d ON d.programme = s.programme AND d.ref = s.ref
WHERE s.agreement != 'sides agree' AND (:programme = '' OR s.programme = :programme)
ORDER BY s.agreement = 'sides disagree' DESC, s.programme, s.ref
""",
    },
}

DASHBOARDS: dict[str, Any] = {
    "statuses-by-period": {
        "title": "Statuses by period",
        "description": "How many items had each status, period by period, for a programme.",
        "layout": [["statuses"]],
        "filters": {
            "programme": {
                "name": "Programme",
                "type": "select",
                "db": "projections",
                "query": "SELECT programme FROM programmes ORDER BY programme",
            },
        },
        "charts": {
            "statuses": {
                "title": "Items by status and period",
                "db": "projections",
                "query": (
                    "SELECT period, period_start, status, status_order, colour, sum(count) AS count "
                    "FROM rag_summary "
                    # One programme at a time (each has its own scale): the first when none is
                    # chosen (the page itself opens on it: datasette_look.asgi_wrapper).
                    "WHERE programme = coalesce(nullif(:programme, ''), "
                    "(SELECT programme FROM programmes ORDER BY programme LIMIT 1)) "
                    "GROUP BY period, period_start, status, status_order, colour "
                    "ORDER BY period_start, status_order"
                ),
                "library": "vega-lite",
                "display": {
                    "mark": {"type": "bar", "tooltip": True},
                    "encoding": {
                        "x": {"field": "period", "type": "ordinal", "sort": {"field": "period_start"}},
                        "y": {"field": "count", "type": "quantitative", "title": "Items"},
                        # Each programme's own colour for the status; the tooltip names it.
                        "color": {"field": "colour", "type": "nominal", "scale": None, "legend": None},
                        "order": {"field": "status_order", "type": "quantitative"},
                    },
                },
            },
        },
    },
}


def _table_metadata() -> dict[str, dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {}
    for table in TABLES:
        meta: dict[str, Any] = {
            "description": table.description,
            "columns": {c.name: c.description for c in table.columns},
        }
        if table.hidden:
            meta["hidden"] = True
        if table.facets:
            meta["facets"] = list(table.facets)
        if table.sort:
            meta["sort"] = table.sort
        if table.sort_desc:
            meta["sort_desc"] = table.sort_desc
        if table.label_column:
            meta["label_column"] = table.label_column
        tables[table.name] = meta
    for view in VIEWS:
        tables[view.name] = {
            "description": view.description,
            "columns": dict(view.columns),
            **({"facets": list(view.facets)} if view.facets else {}),
            **({"fts_table": view.search[0], "fts_pk": view.search[1]} if view.search else {}),
            **({"sort_desc": view.sort_desc} if view.sort_desc else {}),
        }
    for table in search_tables():
        # The full-text index itself: searched from its table's page (?_search=...).
        tables[f"{table.name}_fts"] = {
            "description": f"Internal: full-text index over {table.name} ({', '.join(table.fts)}).",
            "columns": {
                **{c: f"{c} of the {table.name} row, as indexed" for c in table.fts},
                f"{table.name}_fts": "Internal column of the full-text index",
                "rank": "Internal: relevance of a match (lower is better)",
            },
            "hidden": True,
        }
    return tables


def metadata(database: str = "projections") -> dict[str, Any]:
    """Datasette metadata for a projections database named `database` (its file stem)."""
    dashboards: dict[str, Any] = {}
    for slug, dashboard in DASHBOARDS.items():
        copy = {**dashboard}
        copy["filters"] = {k: {**f, "db": database} for k, f in dashboard["filters"].items()}
        copy["charts"] = {k: {**c, "db": database} for k, c in dashboard["charts"].items()}
        dashboards[slug] = copy
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "source": "Governance Ledger event store, projected by projections.projector",
        "allow": {"roles": ALL_ROLES},
        "allow_sql": {"roles": SQL_ROLES},
        "databases": {
            database: {
                "description": DESCRIPTION,
                "tables": _table_metadata(),
                "queries": {name: dict(query) for name, query in CANNED_QUERIES.items()},
            }
        },
        "plugins": {"datasette-dashboards": dashboards},
    }


# Time and rows are bounded here; bytes per value and per answer in datasette_limits.
SETTINGS: dict[str, Any] = {
    "allow_download": False,  # no whole-file download of the database
    "default_page_size": 100,
    "max_returned_rows": 5000,
    "sql_time_limit_ms": 5000,
    "facet_time_limit_ms": 500,
    "max_csv_mb": 100,  # a streamed CSV (_stream=on) stops there
    "trace_debug": False,
}


def make_datasette(
    projections_db: Path,
    *,
    actor_from_request: ActorFromRequest | None = None,
    base_url: str = "/",
    sign_in_url: str | None = None,
    page_header: PageHeader | None = None,
) -> Datasette:
    """Datasette serving `projections_db` (and nothing else), read-only to its users.

    `actor_from_request(request)` identifies the signed-in user (for example from the
    web app's signed session); it returns {"id": ..., "roles": [...]} or None. `base_url`
    is where it is mounted (links carry it). With `sign_in_url`, a visitor who is not
    signed in is sent there (with `next`) instead of being shown a bare 403.
    `page_header(request)` puts the app's name, address and sign-out in every page's
    header (projections.datasette_look)."""
    from projections import datasette_look, datasette_plugins

    datasette_plugins.register()
    path = Path(projections_db).resolve()
    if not path.exists():
        raise FileNotFoundError(f"No projections database at {path}: open the system or rebuild first.")
    ds = BoundedDatasette(
        files=[str(path)],
        metadata=metadata(path.stem),
        settings={**SETTINGS, "base_url": base_url},
        template_dir=str(datasette_look.TEMPLATES),
        static_mounts=datasette_look.STATIC_MOUNTS,
    )
    datasette_look.set_page_header(ds, page_header)
    datasette_plugins.set_actor_from_request(ds, actor_from_request)
    datasette_plugins.set_sign_in_url(ds, sign_in_url)
    return ds
