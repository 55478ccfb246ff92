"""What an import found and did: problems located as the user sees them in Excel, and one
outcome per row."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar, overload

T = TypeVar("T")


def plural(n: int, word: str) -> str:
    """`n` and `word`, plural unless n is 1: "1 problem", "1,204 rows"."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class Outcome(StrEnum):
    """What one row did (or, on a dry run, would do)."""

    NEW = "new"  # adds what the ledger did not hold before this import
    CHANGED = "changed"  # alters what it did
    UNCHANGED = "unchanged"  # nothing to record
    SKIPPED = "skipped"  # depends on a row that has a problem: reported there, not again
    PROBLEM = "problem"  # has a problem of its own


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as the user sees it in Excel."""

    file: str
    message: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file if self.sheet is None else f"{self.file}, sheet {self.sheet}"
        if self.row is not None:
            where += ("," if self.sheet is not None else "") + f" row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class RefusedFile(Problem):
    """A whole file refused unread because reading it could exhaust memory or is unsafe:
    `http_status` is what the web answers (413 too large unpacked, 422 damaged)."""

    http_status: int = 422


@dataclass(frozen=True, slots=True)  # one per row: slots halve it
class RowOutcome:
    """What applying one row did (or, on a dry run, would do)."""

    file: str
    sheet: str | None
    kind: str
    row: int
    outcome: Outcome
    events: tuple[str, ...]  # event class names, e.g. ("Retitled",)

    def __str__(self) -> str:
        where = self.file if self.sheet is None else f"{self.file}, sheet {self.sheet},"
        what = f" ({', '.join(self.events)})" if self.events else ""
        return f"{where} row {self.row}: {self.outcome}{what}"


class RowOutcomes(Sequence[RowOutcome]):
    """One RowOutcome per row, kept in compact arrays: a million rows take ~13 MB, not
    the ~100 MB of a list of RowOutcome objects. The (file, sheet, kind) and the event
    names are kept once per distinct value; each is a RowOutcome again when read."""

    _OUTCOMES = tuple(Outcome)

    def __init__(self) -> None:
        self._where: list[tuple[str, str | None, str]] = []
        self._events: list[tuple[str, ...]] = []
        self._where_at: dict[tuple[str, str | None, str], int] = {}
        self._events_at: dict[tuple[str, ...], int] = {}
        self._at = array("I")  # per row: its where, number, outcome and events
        self._number = array("I")
        self._outcome = array("B")
        self._names = array("I")

    @staticmethod
    def _place(values: list[T], places: dict[T, int], value: T) -> int:
        """`value`'s place in `values`, added if new."""
        found = places.get(value)
        if found is None:
            found = places[value] = len(values)
            values.append(value)
        return found

    def append(self, row: RowOutcome) -> None:
        self._at.append(self._place(self._where, self._where_at, (row.file, row.sheet, row.kind)))
        self._number.append(row.row)
        self._outcome.append(self._OUTCOMES.index(row.outcome))
        self._names.append(self._place(self._events, self._events_at, row.events))

    def __len__(self) -> int:
        return len(self._number)

    @overload
    def __getitem__(self, index: int) -> RowOutcome: ...

    @overload
    def __getitem__(self, index: slice) -> list[RowOutcome]: ...

    def __getitem__(self, index: int | slice) -> RowOutcome | list[RowOutcome]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        file, sheet, kind = self._where[self._at[index]]
        return RowOutcome(
            file, sheet, kind, self._number[index], self._OUTCOMES[self._outcome[index]],
            self._events[self._names[index]],
        )

    def __setitem__(self, index: int, row: RowOutcome) -> None:
        self._at[index] = self._place(self._where, self._where_at, (row.file, row.sheet, row.kind))
        self._number[index] = row.row
        self._outcome[index] = self._OUTCOMES.index(row.outcome)
        self._names[index] = self._place(self._events, self._events_at, row.events)


@dataclass
class ImportResult:
    path: Path
    dry_run: bool
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: RowOutcomes = field(default_factory=RowOutcomes)  # rows that were checked
    events_by_kind: dict[str, int] = field(default_factory=dict)
    events_by_type: Counter[str] = field(default_factory=Counter)
    recorded: bool = False  # True once the events are saved

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def event_count(self) -> int:
        return sum(self.events_by_kind.values())

    def row_counts(self) -> dict[str, Counter[str]]:
        """Rows per kind per outcome: {"statuses": Counter(new=80, unchanged=9)}."""
        counts: dict[str, Counter[str]] = {}
        for row in self.rows:
            counts.setdefault(row.kind, Counter())[row.outcome] += 1
        return counts

    def summary(self) -> str:
        if self.problems:
            return f"{plural(len(self.problems), 'problem')}. Nothing was recorded."
        if not self.event_count:
            return "Nothing new to record." + (" (Dry run.)" if self.dry_run else "")
        kinds = ", ".join(f"{kind}: {n}" for kind, n in self.events_by_kind.items() if n)
        if self.dry_run:
            return (
                f"Dry run: would record {plural(self.event_count, 'event')} ({kinds}). "
                "Nothing was recorded."
            )
        return f"Recorded {plural(self.event_count, 'event')} ({kinds})."
