"""The `flags` view (issue 13): stale updates, unchanged items and watermelons per
programme, period and item, as the dashboards show them.

The flags are worked out in Python (rapidfuzz's similarity; projections.queries.flags),
so the view calls the SQL function govledger_flags(programme, period), which Datasette's
connections are given (projections.datasette_plugins); a plain SQLite connection has no
such function and cannot read the view."""

from __future__ import annotations

from projections.schema.model import PERIOD, PERIOD_START, PROGRAMME, REF, View

FLAG_VIEWS: tuple[View, ...] = (
    View(
        "flags",
        "Flags a committee should see beside a status, worked out as at today: an update "
        "identical or nearly identical to the period before's (rapidfuzz token_sort_ratio "
        "of 95 or more), an item with the same status and update for N periods running, "
        "and a watermelon (rated on track while a linked indicator worsened, or past its "
        "due date and not complete). See docs/flags.md.",
        """
        SELECT p.programme, p.period, p.period_start,
               json_extract(f.value, '$.ref') AS ref,
               json_extract(f.value, '$.title') AS title,
               json_extract(f.value, '$.status') AS status,
               json_extract(f.value, '$.kind') AS kind,
               json_extract(f.value, '$.why') AS why
        FROM (SELECT DISTINCT programme, period, period_start FROM period_ratings) p,
             json_each(govledger_flags(p.programme, p.period)) f
        """,
        {
            "programme": PROGRAMME.description,
            "period": PERIOD.description,
            "period_start": PERIOD_START.description,
            "ref": REF.description,
            "title": "Title of the item",
            "status": "Status the item is rated in the period",
            "kind": "stale update, unchanged or watermelon",
            "why": "The flag in words, e.g. 'Rated Green while vacancy rate worsened from 12% to 14% "
            "(lower is better).'",
        },
        facets=("programme", "period", "kind"),
    ),
)
