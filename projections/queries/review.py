"""Review of updates (issue 12): the queue a reviewer works through, and each item's
review state for a period (draft when recorded and never submitted)."""

from __future__ import annotations

from collections.abc import Iterable

from projections.queries.connection import Db, Row, rows

# Each state in words, for pages and reports: said as text, never by colour alone.
REVIEW_STATE_WORDS = {
    "draft": "Draft: not submitted for review",
    "submitted": "Submitted: awaiting review",
    "approved": "Approved",
    "returned": "Returned",
    "superseded": "Approval superseded",
}

_WITH_CONTENT = """
SELECT r.programme, r.ref, i.title, i.lead_officer, i.lead_account, r.period, r.period_start,
       r.state, r.content_sha256, r.by, r.at, r.superseded, r.approved_sha256, r.approved_by,
       r.approved_at, r.submitted_by, r.comment, r.returns, r.version,
       h.status, h."update", h.mitigation, h.recorded_by, i.sort_key
FROM review_state r
JOIN items i ON i.programme = r.programme AND i.ref = r.ref
LEFT JOIN status_history h ON h.programme = r.programme AND h.ref = r.ref AND h.period = r.period
"""


def get_review_queue(db: Db, *, programmes: Iterable[str], reviewer: str) -> list[Row]:
    """Updates submitted and awaiting review in `programmes`, oldest submission first,
    leaving out those `reviewer` submitted (nobody approves their own)."""
    wanted = sorted(set(programmes))
    if not wanted:
        return []
    marks = ", ".join("?" for _ in wanted)
    return rows(
        db,
        f"{_WITH_CONTENT} WHERE r.state = 'submitted' AND r.programme IN ({marks}) AND r.submitted_by != ? "
        "ORDER BY r.at, r.programme, i.sort_key",
        [*wanted, reviewer],
    )


def get_returned_updates(db: Db, programme: str, period: str) -> list[Row]:
    """The period's updates returned to their officers, with the reviewer's comment
    (`comment`) and who returned them (`by`), in ref order."""
    return rows(
        db,
        f"{_WITH_CONTENT} WHERE r.state = 'returned' AND r.programme = ? AND r.period = ? "
        "ORDER BY i.sort_key",
        [programme, period],
    )


def get_review(db: Db, programme: str, ref: str, period: str) -> Row | None:
    """One item's review for a period, with the content as stored; None while a draft."""
    found = rows(
        db, f"{_WITH_CONTENT} WHERE r.programme = ? AND r.ref = ? AND r.period = ?", [programme, ref, period]
    )
    return found[0] if found else None


def get_review_states(db: Db, programme: str, period: str) -> dict[str, Row]:
    """ref -> review row for every item of the programme reviewed in the period."""
    return {
        row["ref"]: row
        for row in rows(
            db, "SELECT * FROM review_state WHERE programme = ? AND period = ?", [programme, period]
        )
    }


def get_review_summary(db: Db, programme: str, period: str) -> dict[str, int]:
    """How many of the period's updates are draft, submitted, approved, returned and
    superseded (draft: a status recorded, never submitted)."""
    counts = {"draft": 0, "submitted": 0, "approved": 0, "returned": 0, "superseded": 0}
    found = rows(
        db,
        """
        SELECT coalesce(r.state, 'draft') AS state, COUNT(*) AS n
        FROM status_history h
        LEFT JOIN review_state r ON r.programme = h.programme AND r.ref = h.ref AND r.period = h.period
        WHERE h.programme = ? AND h.period = ?
        GROUP BY 1
        """,
        [programme, period],
    )
    counts.update({row["state"]: row["n"] for row in found})
    return counts


def get_item_reviews(db: Db, programme: str, ref: str) -> list[Row]:
    """The review state of each period an item has a status for, newest period first
    (review_state columns; `state` is draft where the update was never submitted)."""
    return rows(
        db,
        """
        SELECT h.period, h.period_start, coalesce(r.state, 'draft') AS state, r.by, r.at,
               r.comment, r.submitted_by, r.approved_by, r.approved_at, r.approved_sha256,
               r.content_sha256, coalesce(r.superseded, 0) AS superseded, coalesce(r.returns, 0) AS returns
        FROM status_history h
        LEFT JOIN review_state r ON r.programme = h.programme AND r.ref = h.ref AND r.period = h.period
        WHERE h.programme = ? AND h.ref = ?
        ORDER BY h.period_start DESC
        """,
        [programme, ref],
    )
