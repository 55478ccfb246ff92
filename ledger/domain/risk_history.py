"""A risk's history period by period: the rating and the state in force in each period.

What the ledger records for a risk is a rating for some periods and, for some periods, a
close or a reopen. Registers arrive in any order (an older quarter imported after a newer
one), so what is in force is worked out by period order, never by the order recorded:
the register as it stands is its latest period's row. The domain, the projection and
the export all read a risk's history through `risk_periods`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple


class RiskRating(NamedTuple):
    rag_before: str
    mitigation: str
    rag_after: str


NO_RATING = RiskRating("", "", "")


class RiskPeriod(NamedTuple):
    """One period of a risk's history."""

    period: str
    rating: RiskRating  # in force in this period
    rated: bool  # rated in this period; else carried from the latest rated period before it
    is_open: bool
    change: str  # "closed" or "reopened" when the state changed in this period, else ""


def risk_periods(
    ratings: Mapping[str, Sequence[str]],
    changes: Mapping[str, bool],
    order: Callable[[str], Any],
) -> list[RiskPeriod]:
    """Every period with a rating or a recorded close/reopen, in period order.

    `ratings`: period -> (rag_before, mitigation, rag_after); `changes`: period -> open
    (True for a reopen, False for a close); `order`: a sort key for a period label.
    A risk is open until a period that closes it; closing a risk already closed (an
    earlier quarter imported after a later one) changes nothing after it."""
    rows: list[RiskPeriod] = []
    rating, is_open = NO_RATING, True
    for period in sorted(ratings.keys() | changes.keys(), key=order):
        if period in ratings:
            rating = RiskRating(*ratings[period])
        change = ""
        if period in changes and changes[period] != is_open:
            is_open = changes[period]
            change = "reopened" if is_open else "closed"
        rows.append(RiskPeriod(period, rating, period in ratings, is_open, change))
    return rows


def closed_period(rows: Sequence[RiskPeriod]) -> str | None:
    """The period the risk was closed in, if its latest period has it closed."""
    if not rows or rows[-1].is_open:
        return None
    return next(row.period for row in reversed(rows) if row.change == "closed")
