"""Items off the register: which are retired (or merged) in a period, and the notes a
register printed instead of a status. A retired item is not missing an update, and
grids, timelines and reports say "retired (merged into R5)" where it would be blank."""

from __future__ import annotations

from ledger.periods import calendar_for
from projections.queries.connection import Db, Row, one, rows


def retired_words(merged_into: str) -> str:
    return f"retired (merged into {merged_into})" if merged_into else "retired"


def get_retirements(db: Db, programme: str) -> list[Row]:
    """Every time an item of the programme left the register, in time order: ref,
    retired_from, retired_from_start, merged_into, reason, retired_by, retired_at,
    reinstated_from, reinstated_from_start ('' while retired), reinstated_reason, and
    `words` ("retired (merged into R5)")."""
    found = rows(
        db,
        "SELECT ref, retired_from, retired_from_start, merged_into, reason, retired_by, retired_at, "
        "reinstated_from, reinstated_from_start, reinstated_reason FROM item_retirements "
        "WHERE programme = ? ORDER BY retired_from_start, ref",
        (programme,),
    )
    for row in found:
        row["words"] = retired_words(row["merged_into"])
    return found


def retired_in(spans: list[Row], start: str) -> dict[str, str]:
    """ref -> words for the items off the register in the period starting `start`."""
    return {
        s["ref"]: s["words"]
        for s in spans
        if s["retired_from_start"] <= start
        and (not s["reinstated_from_start"] or start < s["reinstated_from_start"])
    }


def get_retired(db: Db, programme: str, period: str) -> dict[str, str]:
    """ref -> "retired (merged into R5)" for each item off the register in `period`."""
    found = one(db, "SELECT cadence, periods FROM programmes WHERE programme = ?", (programme,))
    if found is None:
        return {}
    start = calendar_for(found["cadence"], found["periods"]).parse(period).sort_key
    return retired_in(get_retirements(db, programme), start)


def get_item_notes(db: Db, programme: str) -> dict[tuple[str, str], str]:
    """(ref, period) -> the note a register printed for the item instead of a status."""
    return {
        (r["ref"], r["period"]): r["note"]
        for r in rows(db, "SELECT ref, period, note FROM item_notes WHERE programme = ?", (programme,))
    }
