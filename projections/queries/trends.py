"""Trends over periods: status counts per period (from rag_summary, via get_summary) and
each indicator's figures, for the last few periods up to a given one."""

from __future__ import annotations

from projections.queries.connection import Db, Row, rows
from projections.queries.dashboards import get_summary
from projections.queries.programmes import get_periods

# How many periods a trend shows at most (a committee compares up to two years' quarters).
TREND_PERIODS = 8


def trend_periods(db: Db, programme: str, period: str, last: int, recorded: set[str]) -> list[str]:
    """Up to `last` period labels ending with `period`, oldest first. A period not in
    `recorded` is left out, unless it is `period` itself, so no column is empty."""
    found = [p["period"] for p in get_periods(db, programme)]
    if period not in found:
        return []
    upto = found.index(period)
    return ([p for p in found[:upto] if p in recorded] + [period])[-last:]


def _periods_in(db: Db, table: str, programme: str) -> set[str]:
    where = " AND count > 0" if table == "rag_summary" else ""
    return {
        r["period"]
        for r in rows(db, f"SELECT DISTINCT period FROM {table} WHERE programme = ?{where}", (programme,))
    }


def get_status_trend(db: Db, programme: str, period: str, last: int = TREND_PERIODS) -> list[Row]:
    """Status counts for each of the last rated periods up to `period`, oldest first: each
    get_summary(...) of that period (statuses in scale order, with colour and category)."""
    rated = _periods_in(db, "rag_summary", programme)
    return [get_summary(db, programme, p) for p in trend_periods(db, programme, period, last, rated)]


def get_indicator_trend(db: Db, programme: str, period: str, last: int = TREND_PERIODS) -> list[Row]:
    """Each indicator recorded in the last periods with figures up to `period` (ref, breakdown, name,
    unit, better), in ref order with the overall figure first, and `points`: one
    {period, value_text} per period of the trend (value_text None where not recorded)."""
    periods = trend_periods(db, programme, period, last, _periods_in(db, "indicators", programme))
    if not periods:
        return []
    marks = ", ".join("?" for _ in periods)
    found = rows(
        db,
        "SELECT ref, breakdown, name, unit, better, period, value_text FROM indicators "
        f"WHERE programme = ? AND period IN ({marks}) ORDER BY ref, breakdown != '', breakdown",
        (programme, *periods),
    )
    indicators: dict[tuple[str, str], Row] = {}
    for r in found:
        key = (r["ref"], r["breakdown"] or "")
        indicator = indicators.setdefault(
            key,
            {
                "ref": r["ref"],
                "breakdown": r["breakdown"] or "",
                "name": r["name"],
                "unit": r["unit"] or "",
                "better": r["better"] or "neither",
                "values": {},
            },
        )
        indicator["values"][r["period"]] = r["value_text"]
    for indicator in indicators.values():
        values = indicator.pop("values")
        indicator["points"] = [{"period": p, "value_text": values.get(p)} for p in periods]
    return list(indicators.values())
