"""Export's history grid and retirements: each item's status in force per period, one
column per period (as a council prints its register), footnote markers where a period
holds a note instead, and each time an item left the register or came back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger.domain import Item
from ledger.periods import Calendar

MARKERS = ("*", "†", "‡", "§", "¶")


def marker(index: int) -> str:
    """The n-th footnote marker of a row: *, †, ‡, §, ¶, then **, ††..."""
    return MARKERS[index % len(MARKERS)] * (index // len(MARKERS) + 1)


def grid_row(item: Item, slug: str, periods: Sequence[str]) -> list[str]:
    """One item's grid row: programme, ref, title, kind, notes, restate, then a cell per
    period of `periods`. A period with both a status and a note shows the status followed
    by the note's marker, "Green *", as a council prints it."""
    markers: dict[str, str] = {}  # note -> its marker in this row
    cells = []
    for label in periods:
        rating = item.ratings.get(label)
        note = item.notes.get(label)
        mark = markers.setdefault(note, marker(len(markers))) if note is not None else ""
        status = rating["status"] if rating is not None else ""
        cells.append(f"{status} {mark}".strip())
    notes = "; ".join(f"{m}: {note}" for note, m in markers.items())
    return [slug, item.ref, item.title, item.kind, notes, "", *cells]


def note_periods(item: Item, calendar: Calendar, starts: dict[str, Any]) -> None:
    """Add the periods an item has a status or a note for to `starts` (label -> first day).
    Each programme's periods are its own: quarters, months, or those it defines
    ("2024/25 P2"), which an import reads back from periods.csv."""
    for label in (*item.ratings, *item.notes):
        if label not in starts:
            starts[label] = calendar.parse(label).start


def grid_periods(starts: dict[str, Any]) -> list[str]:
    """The grid's period columns: every period any item has a status or a note for, in
    time order."""
    return sorted(starts, key=lambda label: (starts[label], label))


def retirement_rows(events: Sequence[Any], slug: str, ref: str) -> list[list[str]]:
    """retirements.csv rows for one item's Retired and Reinstated events, in order."""
    rows = []
    for e in events:
        if type(e).__name__ == "Retired":
            action = "merge" if e.merged_into else "retire"
            rows.append([slug, ref, action, e.period, e.merged_into, e.reason])
        else:
            rows.append([slug, ref, "reinstate", e.period, "", e.reason])
    return rows
