"""A table as read from a CSV file or a sheet, and the typed row every kind's check makes
of one of its rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from ledger.transfer.results import Problem


def key(text: str) -> str:
    """How refs and programme ids compare: case and surrounding spaces ignored."""
    return text.strip().casefold()


def column_key(text: str) -> str:
    """A header cell as a column name: "Rag before" -> "rag_before"."""
    return "_".join(text.strip().casefold().split())


@dataclass
class Table:
    """One CSV file or sheet: its header mapped to positions, and its data rows."""

    kind: str
    file: str
    sheet: str | None
    header_row: int
    header: list[str]
    # (row number as Excel shows it, cell texts): read as the check goes, once, so a
    # file's rows are never all held; empty once checked.
    rows: Iterable[tuple[int, list[str]]]
    columns: dict[str, int] = field(default_factory=dict)
    # A grid's headers no quarter or month reads: periods a programme defines ("2024/25
    # P2") are known only from its rows, so the check decides (Checker.check_grid_headers).
    defined_period_headers: list[str] = field(default_factory=list)

    def problem(self, message: str, row: int | None = None, column: str | None = None) -> Problem:
        return Problem(self.file, message, self.sheet, row, column)


@dataclass(slots=True)
class Row:
    """A row that passed its kind's checks, typed; each kind adds its own fields."""

    table: Table
    number: int
    programme: str

    # False for a kind whose check goes on filling a row after it passed (ledger.transfer.
    # spool keeps such rows in memory).
    spooled: ClassVar[bool] = True
