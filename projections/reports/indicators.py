"""A report's indicators table: this period's figures beside the period before's."""

from __future__ import annotations

import sqlite3

from ledger.periods import Period
from projections import queries
from projections.queries.connection import rows
from projections.reports.model import IndicatorRow


def indicator_rows(conn: sqlite3.Connection, programme: str, period: Period) -> tuple[IndicatorRow, ...]:
    """This period's figures beside the period before's, both exactly as recorded (decimal
    text), in the order the indicators were defined (the order a paper lists them)."""
    before = {
        (r["ref"], r["breakdown"] or ""): r["value_text"]
        for r in queries.get_indicators(conn, programme, period.previous().label)
    }
    order = {
        r["ref"]: i
        for i, r in enumerate(
            rows(
                conn,
                "SELECT ref FROM indicator_definitions WHERE programme = ? ORDER BY defined_at, ref",
                (programme,),
            )
        )
    }
    found = [
        IndicatorRow(
            ref=r["ref"],
            name=r["name"],
            breakdown=r["breakdown"] or "",
            unit=r["unit"] or "",
            better=r["better"] or "neither",
            value=r["value_text"],
            previous=before.get((r["ref"], r["breakdown"] or "")),
        )
        for r in queries.get_indicators(conn, programme, period.label)
    ]
    return tuple(
        sorted(found, key=lambda i: (order.get(i.ref, len(order)), i.ref, i.breakdown != "", i.breakdown))
    )
