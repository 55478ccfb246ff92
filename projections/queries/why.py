""" "Why is this red?": the events that led to an item's rating for a period, in log order.

Each step says who, when, what changed (status and update, from -> to), the reason, and
whether it restated the period (a correction, or a re-rating after the first record).
The step that moved the status into its current category is marked `changed_category`,
so a page can highlight it in words, not by colour alone."""

from __future__ import annotations

from projections.queries.connection import Db, Row, rows

_STEPS = """
SELECT position, event_type, status, category, "update", mitigation, reason, recorded_by,
       recorded_at, version, corrects_version
FROM status_events
WHERE programme = :programme AND ref = :ref AND period = :period
ORDER BY position
"""


def get_rating_story(db: Db, programme: str, ref: str, period: str) -> list[Row]:
    """The status events of one item and period, oldest first, each with `from_status`,
    `from_category`, `from_update`, `restatement` (1 for a correction or a later change of
    status) and `changed_category` (1 on the last step that moved the category to the
    one in force)."""
    steps: list[Row] = []
    before: Row | None = None
    for row in rows(db, _STEPS, {"programme": programme, "ref": ref, "period": period}):
        steps.append(
            {
                **row,
                "from_status": before["status"] if before else "",
                "from_category": before["category"] if before else "",
                "from_update": before["update"] if before else "",
                "restatement": int(
                    row["event_type"] == "corrected"
                    or (before is not None and before["status"] != row["status"])
                ),
                "changed_category": 0,
            }
        )
        before = row
    for step in reversed(steps):
        if step["from_category"] != step["category"]:
            step["changed_category"] = 1
            break
    return steps
