"""Checking rows: every table row becomes its kind's typed row, or its problems are
recorded, located by file, row and column. The only ledger access is looking up the
programmes already registered: what a period or a status means depends on the
programme's cadence and scale."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.application import Ledger
from ledger.domain import Programme
from ledger.errors import InvalidValue, LedgerError, UnknownStatus
from ledger.periods import Calendar
from ledger.scales import Scale, Status, scale_id
from ledger.transfer.kinds import BY_NAME, COLUMNS, OPTIONAL_COLUMNS, scale_key
from ledger.transfer.results import Problem
from ledger.transfer.spool import RowSpool
from ledger.transfer.table import Table, key

# casefolded programme -> (table, row number, text) of the first row naming it, and a count
Named = dict[str, tuple[Table, int, str, int]]


@dataclass(frozen=True)
class ProgrammeInfo:
    slug: str
    cadence: str
    scale: Scale
    calendar: Calendar | None = None  # the ledger's; None for a programme new in this file


@dataclass
class Checked:
    """The rows that passed, and what a later apply needs to know of those that did not."""

    rows: RowSpool  # past SPOOL_ROWS, in a scratch file
    broken_programmes: set[str]  # named by a programmes row with a problem
    broken_items: set[tuple[str, str]]  # (programme, ref) of item rows with a problem
    skipped: int  # rows of a programme whose own row has a problem
    # For a dry run's report (ledger.transfer.preview): (programme, status as written) -> the
    # cells using a status its scale does not have, and programme -> the periods named.
    unknown_statuses: dict[tuple[str, str], list[Problem]] = field(default_factory=dict)
    periods: dict[str, set[str]] = field(default_factory=dict)
    # Every programme the file's rows name, passed or not (casefolded): its first row as
    # (table, row number, text) and how many rows name it; the rows are not kept.
    named: Named = field(default_factory=dict)


def name_programme(named: Named, table: Table, number: int, text: str) -> None:
    """Count a row naming programme `text` in `named` (Checked.named), keeping its first."""
    first = named.get(key(text))
    named[key(text)] = (table, number, text, 1) if first is None else (*first[:3], first[3] + 1)


class Checker:
    """Turns table rows into typed rows, collecting every problem."""

    def __init__(self, ledger: Ledger, problems: list[Problem]) -> None:
        self.ledger = ledger
        self.problems = problems
        self.programmes: dict[str, ProgrammeInfo | None] = {}
        self.broken_programmes: set[str] = set()
        self.broken_items: set[tuple[str, str]] = set()
        self.skipped = 0
        self._periods: dict[tuple[Calendar, str], str] = {}
        self._statuses: dict[tuple[str, str, bool], str] = {}
        self.scale_rows: dict[str, Any] = {}
        self.footnotes: dict[tuple[str, str], dict[str, str]] = {}
        self.unknown_statuses: dict[tuple[str, str], list[Problem]] = {}
        self.periods_named: dict[str, set[str]] = {}
        self.row: RowValues | None = None  # the row being checked, to locate what it names
        self._earlier_scales: dict[str, list[Scale]] = {}
        self.defined_periods: dict[str, list[list[str]]] = {}
        self._calendars: dict[tuple[str, int], Calendar] = {}
        # (table, header) -> whether a row read it, and the rows with a cell it could not
        self.programme_rows: dict[str, Any] = {}
        self._file_earlier_scales: dict[str, list[Scale]] = {}  # scale_changes.csv's from_scale
        self._grid_headers: dict[tuple[int, str], tuple[list[bool], list[tuple[int, str]]]] = {}
        self.named: Named = {}

    def check(self, tables: Sequence[Table]) -> Checked:
        rows = RowSpool()
        for table in tables:
            kind = BY_NAME[table.kind]
            header_ok = all(name in table.columns or name in kind.may_omit for name in COLUMNS[table.kind])
            seen: dict[Hashable, int] = {}
            column = table.columns.get("programme")
            for number, cells in table.rows:
                if column is not None and column < len(cells) and cells[column]:
                    name_programme(self.named, table, number, cells[column])
                values = RowValues(self, table, number, cells)
                # A bad header is reported on the header row; its rows mean nothing.
                row = kind.check(values) if header_ok else None
                if row is not None and self._is_repeat(table, kind.unique(row), row.number, seen):
                    row = None
                if row is not None:
                    rows.append(row)
                # Rows that depend on a row with a problem are skipped, not reported again.
                elif table.kind == "programmes":
                    self.broken_programmes.add(key(values.raw("programme")))
                elif table.kind == "items":
                    self.broken_items.add((key(values.raw("programme")), key(values.raw("ref"))))
            table.rows = []  # read once: the typed rows carry what is needed
            self.check_grid_headers(table)
        return Checked(
            rows, self.broken_programmes, self.broken_items, self.skipped, self.unknown_statuses,
            self.periods_named, self.named,
        )

    def _is_repeat(self, table: Table, unique: Any, number: int, seen: dict[Hashable, int]) -> bool:
        if unique is None:
            return False
        if unique.key in seen:
            self.problems.append(table.problem(
                f"{unique.what} is already on row {seen[unique.key]}: each may appear once in a file.",
                number, unique.column,
            ))
            return True
        seen[unique.key] = number
        return False

    # -- lookups, cached: a 50k-row file names a handful of programmes and periods

    def lookup(self, slug: str) -> ProgrammeInfo | None:
        found_key = key(slug)
        if found_key not in self.programmes:
            try:
                found = self.ledger.get_programme(slug)
            except LedgerError:
                self.programmes[found_key] = None
            else:
                self.programmes[found_key] = ProgrammeInfo(
                    found["slug"], found["cadence"], found["scale"], found["calendar"]
                )
        return self.programmes[found_key]

    def claim_programme(self, slug: str, cadence: str, scale: Scale) -> None:
        """A programmes row gives later rows its cadence and scale, unless the ledger (or an
        earlier row of the file) has the programme already."""
        if self.lookup(slug) is None:
            self.programmes[key(slug)] = ProgrammeInfo(slug, cadence, scale)

    def scale(self, text: str) -> Scale:
        """The scale a programmes row names: one this file defines, else the ledger's."""
        first = self.scale_rows.get(scale_id(text))
        if first is not None:
            return Scale(first.name, tuple(Status.from_dict(s) for s in first.statuses), first.scale)
        return self.ledger.find_scale(text)

    def period(self, programme: ProgrammeInfo, text: str) -> str:
        calendar = self.calendar(programme)
        cached = (calendar, text)
        if cached not in self._periods:
            self._periods[cached] = calendar.parse(text).label
        label = self._periods[cached]
        self.periods_named.setdefault(programme.slug, set()).add(label)
        return label

    def grid_period(self, programme: ProgrammeInfo, table: Table, column: str, row: int | None) -> str | None:
        """A grid header that is no quarter or month, as one of `programme`'s own periods;
        None if it is not one (a non-empty cell in `row` is then a problem, unless no row
        reads the header, when the header is the problem)."""
        read, unread = self._grid_headers.setdefault((id(table), column), ([], []))
        try:
            label = self.period(programme, column)
        except LedgerError as error:
            if row is not None:
                message = f"the column {column!r} is not a period of this programme: {error.message}"
                unread.append((row, message))
            return None
        read.append(True)
        return label

    def check_grid_headers(self, table: Table) -> None:
        """Each grid header that no row's programme reads as a period is a problem of the
        header row; one some rows read is a problem only in the rows that fill it otherwise."""
        for column in table.defined_period_headers:
            read, unread = self._grid_headers.get((id(table), column), ([], []))
            if read:
                self.problems.extend(table.problem(message, row, column) for row, message in unread)
                continue
            required, optional = COLUMNS[table.kind], OPTIONAL_COLUMNS.get(table.kind, ())
            where = f"{table.kind}.csv" if table.sheet is None else f"the {table.kind} sheet"
            self.problems.append(table.problem(
                f"{column!r} is not a period, nor a column of {where}. After {', '.join(required)} "
                f"(optionally {', '.join(optional)}) each column is a period, headed like "
                "'2024/25 Q1', '22/23 Q1' or '2026-01', or one the programme defines in periods.csv.",
                table.header_row, column,
            ))

    def calendar(self, programme: ProgrammeInfo) -> Calendar:
        """The periods the file defines for the programme (periods.csv), else the ledger's."""
        defined = self.defined_periods.get(key(programme.slug), [])
        cached = (key(programme.slug), len(defined))  # a 50k-row file: built once, not per row
        if cached not in self._calendars:
            self._calendars[cached] = (
                Calendar.of(programme.cadence, defined) if defined
                else programme.calendar or Calendar.of(programme.cadence)
            )
        return self._calendars[cached]

    def status(self, programme: ProgrammeInfo, text: str, *, rated: bool, field: str = "status") -> str:
        cached = (programme.slug, text, rated)
        if cached not in self._statuses:
            if not text and not rated:
                self._statuses[cached] = ""  # not rated
            else:
                try:
                    status = programme.scale.resolve(text)
                except LedgerError as error:
                    earlier = self._earlier_status(programme, text)
                    if earlier is None:
                        error.field = field
                        if isinstance(error, UnknownStatus) and self.row is not None:
                            self.unknown_statuses.setdefault((programme.slug, text), []).append(
                                self.row.table.problem(error.message, self.row.number, field)
                            )
                        raise
                    status = earlier
                if rated and status.band == "unrated":
                    raise InvalidValue(
                        f"{status.name} is not a RAG rating: use one of "
                        f"{', '.join(s.name for s in programme.scale.rated)}.", field=field,
                    )
                self._statuses[cached] = status.name
        return self._statuses[cached]

    def scale_began(self, slug: str, scale: Scale) -> None:
        """A scale_changes row's scale before the change: statuses of earlier periods are
        read on it, and a programme new in the file is registered on the first one."""
        self._file_earlier_scales.setdefault(key(slug), []).append(scale)
        row = self.programme_rows.get(key(slug))
        if row is not None and self.lookup_in_ledger(slug) is None and not row.began_on:
            row.began_on.append(scale_key(scale))

    def lookup_in_ledger(self, slug: str) -> Any:
        try:
            return self.ledger.get_programme(slug)
        except LedgerError:
            return None

    def _earlier_status(self, programme: ProgrammeInfo, text: str) -> Status | None:
        """`text` on a scale the programme was on before its current one (newest first), or
        None. Past periods keep the statuses they were rated in, so the ledger's own export
        names them; a row naming one for a period rated otherwise is refused when applied."""
        if programme.slug not in self._earlier_scales:
            events = self.ledger.events.get(Programme.create_id(programme.slug))
            scales = [Scale.from_dict(e.scale) for e in events if isinstance(getattr(e, "scale", None), dict)]
            self._earlier_scales[programme.slug] = scales[-2::-1]  # all but the current one
        file_scales = self._file_earlier_scales.get(key(programme.slug), [])
        for scale in [*self._earlier_scales[programme.slug], *file_scales]:
            try:
                return scale.resolve(text)
            except LedgerError:
                continue
        return None


class RowValues:
    """One row's cells by column name, collecting that row's problems (`bad` once any)."""

    __slots__ = ("bad", "cells", "checker", "number", "table")

    def __init__(self, checker: Checker, table: Table, number: int, cells: list[str]) -> None:
        self.checker, self.table, self.number, self.cells = checker, table, number, cells
        checker.row = self
        self.bad = False
        extra = [c for c in cells[len(table.header):] if c]
        if extra:
            self.fail(None, f"this row has {len(table.header) + len(extra)} values but the "
                      f"header row names {len(table.header)} columns: {extra[0]!r} has no column.")

    def raw(self, column: str) -> str:
        index = self.table.columns.get(column)
        return self.cells[index] if index is not None and index < len(self.cells) else ""

    def fail(self, column: str | None, message: str) -> None:
        self.checker.problems.append(self.table.problem(message, self.number, column))
        self.bad = True

    def required(self, column: str, message: str) -> str:
        text = self.raw(column)
        if not text:
            self.fail(column, message)
        return text

    def check(self, column: str, convert: Callable[[str], Any]) -> Any:
        try:
            return convert(self.raw(column))
        except LedgerError as error:
            self.fail(column, error.message)
            return ""

    def period(self, programme: ProgrammeInfo) -> str:
        return self.check("period", lambda text: self.checker.period(programme, text))

    def programme(self) -> ProgrammeInfo | None:
        """The row's programme; None once that is reported (or, if the programme's own row
        has a problem, counted as skipped: it is reported once, on its own row)."""
        slug = self.raw("programme")
        if not slug:
            self.fail("programme", "Enter the programme's short id.")
            return None
        found = self.checker.lookup(slug)
        if found is None:
            if key(slug) in self.checker.broken_programmes:
                self.checker.skipped += 1
            else:
                self.fail("programme", f"There is no programme {slug!r}: add it to programmes.csv "
                          "(or the programmes sheet), or check the spelling.")
        return found
