"""Export's history grid and retirements: each item's status in force per period, one
column per period (as a council prints its register), footnote markers where a period
holds a note instead, and each time an item left the register or came back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ledger.domain import Item
from ledger.periods import Calendar
from ledger.transfer.kinds import header

MARKERS = ("*", "†", "‡", "§", "¶")


def marker(index: int) -> str:
    """The n-th footnote marker of a row: *, †, ‡, §, ¶, then **, ††..."""
    return MARKERS[index % len(MARKERS)] * (index // len(MARKERS) + 1)


def history_grid(
    items: Sequence[Item], slug: Callable[[Item], str], calendar: Callable[[Item], Calendar]
) -> tuple[list[str], list[list[str]]]:
    """The grid's header and rows: programme, ref, title, kind, notes, restate, then a
    column per period any item has a status or a note for, in time order. A period with
    both a status and a note shows the status followed by the note's marker, "Green *",
    as a council prints it. Each programme's periods are its own: quarters, months, or
    those it defines ("2024/25 P2"), which an import reads back from periods.csv."""
    starts: dict[str, Any] = {}
    for item in items:
        for label in (*item.ratings, *item.notes):
            starts.setdefault(label, calendar(item).parse(label).start)
    periods = sorted(starts, key=lambda label: (starts[label], label))
    rows = []
    for item in items:
        if not item.ratings and not item.notes:
            continue
        markers: dict[str, str] = {}  # note -> its marker in this row
        cells = []
        for label in periods:
            rating = item.ratings.get(label)
            note = item.notes.get(label)
            mark = markers.setdefault(note, marker(len(markers))) if note is not None else ""
            status = rating["status"] if rating is not None else ""
            cells.append(f"{status} {mark}".strip())
        notes = "; ".join(f"{m}: {note}" for note, m in markers.items())
        rows.append([slug(item), item.ref, item.title, item.kind, notes, "", *cells])
    return [*header("history"), *periods], rows


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
