"""The reporting cycle: what is due and overdue, whose it is, leads waiting to be linked
to an account, and the reminders to send.

"Today" is always passed in (the web and `govledger remind` pass the real date, tests
any date): days overdue are worked out from it here, never stored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from projections.queries.connection import Db, Row, rows

# The `due` view's rows, with days overdue as at the date given (the view's own
# overdue_days counts from SQLite's clock, for Datasette).
_DUE = """
SELECT programme, ref, title, period, period_start, due_date, lead_account, lead_officer,
       updated, sort_key,
       CASE WHEN updated = 0 AND :today > due_date
            THEN CAST(julianday(:today) - julianday(due_date) AS INTEGER) ELSE 0 END AS overdue_days
FROM due
"""


def get_due(
    db: Db,
    *,
    today: date,
    programme: str | None = None,
    period: str | None = None,
    lead_account: str | None = None,
    outstanding: bool = True,
) -> list[Row]:
    """Items expected to report in opened periods (`due` view columns, overdue_days as
    at `today`): only those not yet updated unless `outstanding` is False. Most overdue
    first, then by programme, period and ref."""
    where = ["(:programme IS NULL OR programme = :programme)", "(:period IS NULL OR period = :period)"]
    where.append("(:lead IS NULL OR lead_account = :lead)")
    if outstanding:
        where.append("updated = 0")
    return rows(
        db,
        f"SELECT * FROM ({_DUE}) WHERE {' AND '.join(where)} "
        "ORDER BY overdue_days DESC, programme, period_start, sort_key",
        {"today": today.isoformat(), "programme": programme, "period": period, "lead": lead_account},
    )


def get_due_summary(db: Db, *, today: date, programmes: Iterable[str] | None = None) -> list[Row]:
    """Per programme and opened period: due_date, items expected, not_updated, overdue
    (not updated and past the due date as at `today`) and the most days overdue."""
    wanted = None if programmes is None else sorted(set(programmes))
    found = rows(
        db,
        f"""
        SELECT programme, period, period_start, due_date, COUNT(*) AS expected,
               SUM(updated = 0) AS not_updated, SUM(overdue_days > 0) AS overdue,
               MAX(overdue_days) AS most_days_overdue
        FROM ({_DUE})
        GROUP BY programme, period
        ORDER BY programme, period_start DESC
        """,
        {"today": today.isoformat()},
    )
    return [r for r in found if wanted is None or r["programme"] in wanted]


def get_period_openings(db: Db, programme: str) -> list[Row]:
    """A programme's opened periods (period_openings columns), latest first."""
    return rows(
        db, "SELECT * FROM period_openings WHERE programme = ? ORDER BY period_start DESC", (programme,)
    )


def get_unlinked_leads(db: Db) -> list[Row]:
    """Free-text leads that no account is linked to, for an administrator to link: each
    text with the items it leads (programme, ref, title), most items first."""
    found = rows(
        db,
        """
        SELECT lead_officer, programme, ref, title, version
        FROM items
        WHERE lead_officer != '' AND (lead_account IS NULL OR lead_account = '')
        ORDER BY lead_officer COLLATE NOCASE, programme, sort_key
        """,
    )
    leads: dict[str, Row] = {}
    for row in found:
        lead = leads.setdefault(row["lead_officer"], {"lead_officer": row["lead_officer"], "items": []})
        lead["items"].append({k: row[k] for k in ("programme", "ref", "title", "version")})
    return sorted(leads.values(), key=lambda lead: (-len(lead["items"]), lead["lead_officer"].casefold()))


def get_item_leads(db: Db, *, programme: str | None = None, lead_account: str | None = None) -> list[Row]:
    """Every item's lead (or one programme's, or one account's items): programme, ref,
    title, lead_officer (the text) and lead_account (empty while free text only)."""
    return rows(
        db,
        "SELECT programme, ref, title, lead_officer, COALESCE(lead_account, '') AS lead_account "
        "FROM items WHERE (:programme IS NULL OR programme = :programme) "
        "AND (:lead IS NULL OR lead_account = :lead) ORDER BY programme, sort_key",
        {"programme": programme, "lead": lead_account},
    )


def get_reminders_to_send(db: Db, *, today: date) -> list[Row]:
    """One row per lead with an account and items outstanding in an opened period:
    username, display_name, email, active, and items (due rows, overdue_days as at `today`)."""
    leads: dict[str, Row] = {}
    accounts = {
        a["username"]: a
        for a in rows(db, "SELECT username, display_name, email, active FROM accounts ORDER BY username")
    }
    for item in get_due(db, today=today):
        account = accounts.get(item["lead_account"] or "")
        if account is None:
            continue  # free text only: listed for the administrator to link instead
        lead = leads.setdefault(account["username"], {**account, "items": []})
        lead["items"].append(item)
    return [leads[name] for name in sorted(leads)]


def get_reminders(db: Db, *, day: date | None = None) -> list[Row]:
    """Reminders recorded (reminders columns), for one day or all, newest first."""
    return rows(
        db,
        "SELECT * FROM reminders WHERE (:day IS NULL OR day = :day) ORDER BY sent_at DESC, lead_account",
        {"day": day.isoformat() if day else None},
    )
