"""Tables and views of the reporting cycle: periods opened with a due date, the items due
in them (and how many days overdue), and the reminders sent to leads.

Days overdue depend on today's date, which a projection must not read (it must equal a
replay): the tables hold due dates, and the `due` view and the query functions work the
days out when they are read."""

from __future__ import annotations

from projections.schema.model import PERIOD, PERIOD_START, PROGRAMME, REF, VERSION, Table, View, column

CYCLE_TABLES: tuple[Table, ...] = (
    Table(
        "period_openings",
        "Periods a programme manager opened for updates, with the date updates are due.",
        (
            PROGRAMME,
            PERIOD,
            PERIOD_START,
            column("due_date", str, "Date updates are due (ISO date), after any extension"),
            column("first_due_date", str, "Due date the period was opened with (ISO date)"),
            column("opened_at", str, "When the period was opened (UTC)"),
            column("opened_by", str, "Who opened it"),
            column("extensions", int, "How many times the due date was extended"),
            column("extended_reason", str, "Reason given for the latest extension (empty if none)"),
            column("updated_at", str, "When the opening last changed (UTC)"),
            VERSION,
        ),
        pk=("programme", "period"),
        facets=("programme",),
        sort_desc="period_start",
    ),
    Table(
        "reminders",
        "Reminders sent to leads: one per lead, programme and day, naming the items due. "
        "The message itself is never kept.",
        (
            PROGRAMME,
            column("lead_account", str, "Username of the lead reminded"),
            column("day", str, "Day the reminder was sent for (ISO date)"),
            column("items", str, "Items the reminder listed, as JSON: ref, period and due date of each"),
            column("item_count", int, "How many items the reminder listed"),
            column("run", str, "Id of the `govledger remind` run that sent it"),
            column("sent_at", str, "When the reminder was recorded (UTC)"),
            column("sent_by", str, "Who or what sent it"),
        ),
        pk=("programme", "lead_account", "day"),
        facets=("programme", "lead_account", "day"),
        sort_desc="sent_at",
    ),
)

# Whether an item still owes its update for a period: no status, or a status without an
# update (the same rule as the missing-updates list).
NOT_UPDATED = "(h.ref IS NULL OR h.\"update\" = '')"

DUE_SQL = f"""
SELECT o.programme, i.ref, i.title, o.period, o.period_start, o.due_date,
       i.lead_account, i.lead_officer,
       CASE WHEN {NOT_UPDATED} THEN 0 ELSE 1 END AS updated,
       CASE WHEN {NOT_UPDATED} AND date('now') > o.due_date
            THEN CAST(julianday(date('now')) - julianday(o.due_date) AS INTEGER) ELSE 0 END
         AS overdue_days,
       i.sort_key
FROM period_openings o
JOIN items i ON i.programme = o.programme AND i.child_count = 0
LEFT JOIN status_history h ON h.programme = i.programme AND h.ref = i.ref AND h.period = o.period
WHERE NOT EXISTS (  -- an item retired (or merged) for the period owes no update
    SELECT 1 FROM item_retirements r
    WHERE r.programme = i.programme AND r.ref = i.ref AND r.retired_from_start <= o.period_start
      AND (r.reinstated_from_start = '' OR o.period_start < r.reinstated_from_start)
)
"""

CYCLE_VIEWS: tuple[View, ...] = (
    View(
        "due",
        "Each item expected to report in an opened period: its due date, its lead, whether "
        "it is updated and how many days overdue as at today.",
        DUE_SQL,
        {
            "programme": PROGRAMME.description,
            "ref": REF.description,
            "title": "Title of the item",
            "period": PERIOD.description,
            "period_start": PERIOD_START.description,
            "due_date": "Date the update is due (ISO date), after any extension",
            "lead_account": "Username of the lead's account (empty while the lead is free text)",
            "lead_officer": "Lead officer as recorded (free text)",
            "updated": "1 if the item has a status and an update for the period",
            "overdue_days": "Days past the due date as at today, while not updated (0 otherwise)",
            "sort_key": "Natural sort key of the ref (A1.9 before A1.10)",
        },
        facets=("programme", "period", "lead_account", "updated"),
    ),
)
