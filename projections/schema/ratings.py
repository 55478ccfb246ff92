"""Tables of programmes, their scales and periods, items and their ratings."""

from __future__ import annotations

from projections.schema.model import (
    PERIOD,
    PERIOD_START,
    POSITION,
    PROGRAMME,
    REF,
    VERSION,
    Table,
    column,
)
from projections.schema.scales import COLOUR, STATUS_CATEGORY, STATUS_GROUP

RATING_TABLES: tuple[Table, ...] = (
    Table(
        "programmes",
        "Plans, partnerships and boards that report on a cadence, with their status scale.",
        (
            PROGRAMME,
            column("programme_id", str, "Internal id of the programme (UUID)"),
            column("name", str, "Programme name"),
            column(
                "cadence",
                str,
                "How often it reports: quarterly (municipal year), monthly, or custom (periods it defines)",
            ),
            column(
                "periods",
                str,
                "A custom-cadence programme's periods as JSON, each [name, first day, last day] in "
                "time order (the periods table lists them); empty otherwise",
            ),
            column(
                "earlier_scales", str,
                "Each change of scale made from a period, as JSON [[its first day, the scale before it]]: "
                "the periods before it are rated on that scale",
            ),
            column("scale_name", str, "Name of the status scale in force, e.g. RAG"),
            column("scale", str, "The status scale in force, as JSON (statuses, categories, ranks)"),
            column(
                "requires_mitigation", int, "1 if Amber and Red ratings must say what mitigation is in hand"
            ),
            column("description", str, "What the programme is"),
            column("contact", str, "Contact details as JSON, e.g. contact officer, email, phone"),
            column("registered_at", str, "When the programme was registered (UTC)"),
            column("registered_by", str, "Who registered it"),
            column("updated_at", str, "When the programme was last changed (UTC)"),
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
            column("status", str, "Status name, e.g. Green, Amber, Red, Not yet due"),
            column("category", str, "RAG band (green, amber, red or unrated) of the status's category"),
            column("rank", int, "Direction-of-travel rank, lower is better; empty for unrated statuses"),
            column("sort_order", int, "Position on the scale (0 first); statuses sort in scale order"),
            column("description", str, "What the status means, e.g. On track"),
            column("aliases", str, "Other spellings accepted, as a JSON list (e.g. Measure not due)"),
            STATUS_CATEGORY,
            STATUS_GROUP,
            COLOUR,
            column("needs_mitigation", int, "1 if an item with this status must say what mitigation is done"),
        ),
        pk=("programme", "status"),
        sort="sort_order",
        facets=("programme", "status_category"),
    ),
    Table(
        "periods",
        "Reporting periods that have anything recorded against them, per programme.",
        (
            PROGRAMME,
            PERIOD,
            PERIOD_START,
            column("period_end", str, "Last day of the period (ISO date)"),
            column("description", str, "The period in words, e.g. April 2024 to June 2024"),
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
            column("item_id", str, "Internal id of the item (UUID)"),
            column("kind", str, "vision, aim, priority, action, workstream, core area or objective"),
            column("title", str, "Title of the item"),
            column("parent_ref", str, "Ref of the item it sits under (empty at the top)"),
            column("path", str, "Refs from the top of the hierarchy down to this item, joined by ' > '"),
            column("depth", int, "Level in the hierarchy (0 at the top)"),
            column("sort_key", str, "Natural sort key of the ref: A1.9 sorts before A1.10"),
            column("lead_officer", str, "Lead officer"),
            column("lead_account", str, "Lead's account username once linked (empty: free text only)"),
            column("committee", str, "Committee the item reports to, e.g. CPC, E+C"),
            column("child_count", int, "Number of items directly under this one (0 for a leaf)"),
            column("latest_period", str, "Latest period the item has a status for (empty if never rated)"),
            column("latest_period_start", str, "First day of latest_period (ISO date)"),
            column("registered_at", str, "When the item was registered (UTC)"),
            column("registered_by", str, "Who registered it"),
            column("updated_at", str, "When the item's details last changed (UTC)"),
            column("due_date", str, "Date the item is due (ISO date; empty if none is set)"),
            column("indicators", str, "Refs of the indicators the item is measured by, joined by '; '"),
            column(
                "version",
                int,
                "Current version of the item's record (any change, ratings included): "
                "what a form passes back as seen_version",
            ),
        ),
        pk=("programme", "ref"),
        unique_indexes=(("item_id",),),
        fixed=("item_id", "sort_key"),
        indexes=(("programme", "sort_key"), ("lead_account",)),
        facets=("programme", "kind", "lead_officer", "lead_account", "committee"),
        sort="sort_key",
        label_column="title",
    ),
    Table(
        "item_indicators",
        "Which indicators each item is measured by (a watermelon flag compares them with its status).",
        (
            PROGRAMME,
            REF,
            column("indicator", str, "Ref of the indicator the item is linked to"),
            column("linked_at", str, "When the link was recorded (UTC)"),
            column("linked_by", str, "Who linked them"),
        ),
        pk=("programme", "ref", "indicator"),
        facets=("programme", "indicator"),
    ),
    Table(
        "period_ratings",
        "Internal: one row per item per period, the status in force and whether it was "
        "restated; the status_history view adds the texts from the audit row at position.",
        (
            PROGRAMME,
            REF,
            PERIOD,
            PERIOD_START,
            column("previous_period", str, "The period before in the programme's cadence"),
            column("status", str, "Status in force for the period (Not rated if left empty)"),
            column("category", str, "green, amber, red or unrated, under the scale in force when recorded"),
            column("rank", int, "Direction-of-travel rank (lower is better); empty for unrated statuses"),
            column("status_order", int, "Position of the status on the scale, for sorting"),
            column(
                "first_recorded_at", str, "When anything was first recorded for this item and period (UTC)"
            ),
            column("restated", int, "1 if the period was later corrected or re-rated (a restatement)"),
            column("restated_reason", str, "Reason given for the latest correction or re-rating"),
            column("restated_at", str, "When the latest correction or re-rating was recorded (UTC)"),
            column("updates_count", int, "How many times a status or update was recorded for the period"),
            VERSION,
            POSITION,
        ),
        # Period before ref: the key's index also serves "everything for a period".
        pk=("programme", "period", "ref"),
        hidden=True,
        # A rebuild writes it in key order (ratings_at_end): 146 -> 116 bytes an event.
        without_rowid=True,
    ),
    Table(
        "rag_summary",
        "How many items had each status, per programme and period, in scale order.",
        (
            PROGRAMME,
            PERIOD,
            PERIOD_START,
            column("status", str, "Status, in the programme's own words, under the scale it was rated on"),
            column("category", str, "RAG band (green, amber, red or unrated) of the status's category"),
            column("status_order", int, "Position of the status on the scale: sort by this"),
            column("count", int, "Number of items with this status in the period"),
            STATUS_CATEGORY,
            STATUS_GROUP,
            COLOUR,
        ),
        pk=("programme", "period", "status"),
        indexes=(("programme", "period_start"),),
        facets=("programme", "period", "status"),
        sort="status_order",
    ),
)
