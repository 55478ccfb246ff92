"""Flags a committee should see beside a status: stale updates and watermelons.

- **Stale update**: the update for a period is identical, or nearly identical, to the
  same item's update for the period before. The measure is rapidfuzz's
  `fuzz.token_sort_ratio` (0-100: the words sorted, then an edit-distance ratio) on the
  two texts after whitespace is collapsed and case folded; the threshold is
  STALE_SIMILARITY (95). So a reordered or lightly re-punctuated copy is stale, while
  a rewrite that reports real progress is not.
- **Unchanged**: the same status and a stale update for N periods running, ending at the
  period asked about (N is per deployment: GOVLEDGER_UNCHANGED_PERIODS, default 3).
- **Watermelon**: rated in the "on track" category of its scale (so any council's scale
  works) while a linked indicator moved in its worse direction against the previous
  period, or while its due date has passed.

Every flag is worked out here from projected rows (a pure function of the log) and, for
the due date, the `today` passed in, as projections.queries.cycle does for days overdue.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict, dataclass
from datetime import date

from rapidfuzz import fuzz

from projections.queries.connection import Db, Row, rows

STALE_SIMILARITY = 95.0  # token_sort_ratio at or above this is "nearly identical"
DEFAULT_UNCHANGED_PERIODS = 3
ON_TRACK, COMPLETE = "on track", "complete"
KINDS = ("stale update", "unchanged", "watermelon")


def unchanged_periods_setting() -> int:
    """N for the "unchanged" flag: this deployment's GOVLEDGER_UNCHANGED_PERIODS, or 3."""
    text = os.environ.get("GOVLEDGER_UNCHANGED_PERIODS", "").strip()
    return max(2, int(text)) if text.isdigit() else DEFAULT_UNCHANGED_PERIODS


def similarity(a: str, b: str) -> float:
    """How alike two updates are, 0-100 (see the module's docstring)."""
    return fuzz.token_sort_ratio(" ".join(a.split()).casefold(), " ".join(b.split()).casefold())


def is_stale(update: str, previous: str) -> bool:
    return bool(update.strip() and previous.strip()) and similarity(update, previous) >= STALE_SIMILARITY


@dataclass(frozen=True)
class Flag:
    programme: str
    period: str
    ref: str
    title: str
    status: str
    kind: str  # one of KINDS
    why: str  # the flag in words


_HISTORY = """
SELECT h.ref, h.period, h.period_start, h.status, h.category, h."update",
       COALESCE(s.status_category, CASE h.category WHEN 'green' THEN 'on track' ELSE '' END)
         AS status_category,
       i.title, i.due_date, i.sort_key
FROM status_history h
JOIN items i ON i.programme = h.programme AND i.ref = h.ref
LEFT JOIN statuses s ON s.programme = h.programme AND s.status = h.status
WHERE h.programme = :programme
  AND h.period_start <= (SELECT MAX(period_start) FROM status_history
                         WHERE programme = :programme AND period = :period)
ORDER BY i.sort_key, h.period_start DESC
"""

_WORSENED = """
SELECT l.ref, d.name, d.unit, d.better, v.value_text, v.previous_period,
       p.value_text AS previous_text
FROM item_indicators l
JOIN indicator_definitions d ON d.programme = l.programme AND d.ref = l.indicator
JOIN indicators v ON v.programme = l.programme AND v.ref = l.indicator
     AND v.period = :period AND v.breakdown = ''
LEFT JOIN indicators p ON p.programme = l.programme AND p.ref = l.indicator
     AND p.period = v.previous_period AND p.breakdown = ''
WHERE l.programme = :programme AND v.direction = 'bad'
ORDER BY l.ref, l.indicator
"""


def _amount(value: str, unit: str) -> str:
    return f"{value}%" if unit == "%" else f"{value} {unit}".strip()


def _uk(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def get_flags(
    db: Db,
    programme: str,
    period: str,
    *,
    today: date,
    unchanged_periods: int | None = None,
) -> list[Flag]:
    """Every flag for a programme's items in one period, by item then kind."""
    n = unchanged_periods or unchanged_periods_setting()
    params = {"programme": programme, "period": period}
    history: dict[str, list[Row]] = {}
    for row in rows(db, _HISTORY, params):
        history.setdefault(row["ref"], []).append(row)
    worsened: dict[str, list[Row]] = {}
    for row in rows(db, _WORSENED, params):
        worsened.setdefault(row["ref"], []).append(row)
    flags: list[Flag] = []
    for ref, periods in history.items():
        now = periods[0]
        if now["period"] != period:
            continue  # not rated in this period
        flag = _flagger(programme, now)
        run = 1  # periods running with the same status and a stale update
        while (
            run < len(periods)
            and periods[run]["status"] == now["status"]
            and is_stale(periods[run - 1]["update"], periods[run]["update"])
        ):
            run += 1
        if len(periods) > 1 and is_stale(now["update"], periods[1]["update"]):
            before = periods[1]
            alike = (
                "identical to"
                if similarity(now["update"], before["update"]) == 100
                else (f"nearly identical ({similarity(now['update'], before['update']):.0f}% alike) to")
            )
            flags.append(flag("stale update", f"The update for {period} is {alike} {before['period']}'s."))
        if run >= n:
            flags.append(
                flag(
                    "unchanged",
                    f"Rated {now['status']} with the same update for {run} periods running "
                    f"({periods[run - 1]['period']} to {period}).",
                )
            )
        if now["status_category"] != ON_TRACK:
            continue
        for w in worsened.get(ref, []):
            flags.append(
                flag(
                    "watermelon",
                    f"Rated {now['status']} while {w['name']} worsened from "
                    f"{_amount(w['previous_text'], w['unit'])} to {_amount(w['value_text'], w['unit'])} "
                    f"({w['better']} is better).",
                )
            )
        if now["due_date"] and now["due_date"] < today.isoformat():
            days = (today - date.fromisoformat(now["due_date"])).days
            flags.append(
                flag(
                    "watermelon",
                    f"Rated {now['status']} but due {_uk(now['due_date'])} "
                    f"({days} days ago) and not complete.",
                )
            )
    return flags


def _flagger(programme: str, row: Row):
    def flag(kind: str, why: str) -> Flag:
        return Flag(programme, row["period"], row["ref"], row["title"], row["status"], kind, why)

    return flag


def count_flags(flags: list[Flag]) -> dict[str, int]:
    """How many flags of each kind (every kind present, zero or not)."""
    return {kind: sum(f.kind == kind for f in flags) for kind in KINDS}


FLAGS_FUNCTION = "govledger_flags"


def register_flags_function(conn: sqlite3.Connection) -> None:
    """Give `conn` the SQL function govledger_flags(programme, period): the period's flags
    as a JSON array, worked out by get_flags as at today, so the `flags` view (Datasette)
    shows exactly what the dashboards show."""

    def flags_json(programme: str, period: str) -> str:
        found = get_flags(conn, programme, period, today=date.today())
        return json.dumps([asdict(f) for f in found], ensure_ascii=False)

    conn.create_function(FLAGS_FUNCTION, 2, flags_json)
