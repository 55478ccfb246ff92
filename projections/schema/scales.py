"""Tables and views of status scales: the scales a council defined, each programme's
changes of scale (with the mapping old status -> new), and summaries by category and by
group, derived from rag_summary so they always agree with it."""

from __future__ import annotations

from projections.schema.model import PERIOD, PERIOD_START, POSITION, PROGRAMME, VERSION, Table, View, column

STATUS_CATEGORY = column(
    "status_category", str,
    "Category of the status: on track, minor issues, major issues, complete, not yet due, "
    "not rated or closed",
)
STATUS_GROUP = column(
    "status_group", str, "Group the status is printed under, e.g. In progress (empty if none)"
)
COLOUR = column("colour", str, "Colour the programme shows the status in (#rrggbb); always beside its name")

SCALE_TABLES: tuple[Table, ...] = (
    Table(
        "scales",
        "Status scales councils defined, as now revised. Programmes keep the copy they adopted.",
        (
            column("scale", str, "Scale id, e.g. rag, five-point or outcomes"),
            column("name", str, "Scale name"),
            column("statuses", str, "The statuses in order, as JSON (category, colour, aliases, group)"),
            column("defined_at", str, "When the scale was defined (UTC)"),
            column("defined_by", str, "Who defined it"),
            column("revised_at", str, "When it was last revised (UTC; empty if never)"),
            column("reason", str, "Reason given for the latest revision"),
            VERSION,
        ),
        pk=("scale",),
        label_column="name",
    ),
    Table(
        "scale_changes",
        "Each change of a programme's scale, with the mapping that compares old periods with new.",
        (
            POSITION,
            PROGRAMME,
            column("from_scale", str, "Scale in force before, by name"),
            column("to_scale", str, "Scale in force after, by name"),
            column("mapping", str, "Old status -> new status, as a JSON object (empty object if none given)"),
            column("from_period", str, "First period rated on the new scale (empty: from when recorded)"),
            column("from_period_start", str, "First day of from_period (ISO date); empty if none"),
            column("reason", str, "Why the scale changed"),
            column("changed_by", str, "Who changed it"),
            column("changed_at", str, "When it changed (UTC)"),
        ),
        pk=("position",),
        indexes=(("programme", "position"),),
        facets=("programme",),
        sort_desc="position",
    ),
)

_SUMMARY_COLUMNS = {
    "programme": PROGRAMME.description,
    "period": PERIOD.description,
    "period_start": PERIOD_START.description,
}

SCALE_VIEWS: tuple[View, ...] = (
    View(
        "category_summary",
        "How many items had a status of each category, per programme and period: compares "
        "programmes on different scales side by side.",
        """
        SELECT programme, period, period_start, status_category, sum(count) AS count
        FROM rag_summary GROUP BY programme, period, status_category
        """,
        {**_SUMMARY_COLUMNS, "status_category": STATUS_CATEGORY.description,
         "count": "Number of items with a status of this category in the period"},
        facets=("programme", "period", "status_category"),
    ),
    View(
        "group_summary",
        "Totals of each status group (e.g. In progress = Green + Amber + Red) per programme and "
        "period; rag_summary holds the parts.",
        """
        SELECT programme, period, period_start, status_group, sum(count) AS count,
               min(status_order) AS group_order
        FROM rag_summary WHERE status_group != '' GROUP BY programme, period, status_group
        """,
        {**_SUMMARY_COLUMNS, "status_group": STATUS_GROUP.description,
         "count": "Number of items with a status in the group in the period",
         "group_order": "Position of the group's first status on the scale: sort by this"},
        facets=("programme", "period"),
    ),
)
