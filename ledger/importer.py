"""Import a folder of CSV files, one CSV file or an XLSX workbook (docs/import-format.md).

Two passes, so a file is recorded whole or not at all and every problem is reported at once:

1. **Read and parse** every row into a typed record. Each problem is kept as (file or
   sheet, row as Excel numbers it with the header on row 1, column, message). The only
   ledger access here is looking up programmes already registered: what a period or a
   status means depends on the programme's cadence and scale.
2. **Apply** the good rows through the ledger's own commands inside ONE batch. A
   `LedgerError` is mapped back to its row and, through the error's `field`, its column.
   If any row failed, or on a dry run, the batch is dropped unsaved.

Importing the same file again records nothing: the commands ignore identical values,
existing records are compared before any command runs, and a status row identical to
ANY update already recorded for that item and period (not only the latest) is left
alone. A row that changes something recorded before this import names the import as
its reason.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, project_aggregate
from eventsourcing.domain import Aggregate

from ledger.application import Batch, Ledger
from ledger.domain import (
    ITEM_KINDS,
    NARRATIVE_SECTIONS,
    RISK_KINDS,
    Dependency,
    Indicator,
    Item,
    Narrative,
    Programme,
    Risk,
    parse_number,
)
from ledger.errors import DuplicateRef, InvalidValue, LedgerError, UnknownRef
from ledger.periods import Cadence, Period
from ledger.scales import BUILT_IN_SCALES, Category, Scale, scale_named

README_SHEET = "Read me"  # the downloadable template's guide sheet; never data
KINDS = ("programmes", "items", "statuses", "risks", "dependencies", "indicators", "narratives")

# Required columns, in the order docs/import-format.md lists them (and export writes them).
COLUMNS: dict[str, tuple[str, ...]] = {
    "programmes": (
        "programme", "name", "cadence", "scale", "requires_mitigation", "description",
        "contact_name", "contact_phone", "contact_email",
    ),
    "items": ("programme", "ref", "kind", "title", "parent_ref", "lead_officer", "committee"),
    "statuses": ("programme", "ref", "period", "status", "update", "mitigation", "reason"),
    "risks": (
        "programme", "ref", "kind", "period", "description", "owner", "rag_before",
        "mitigation", "rag_after", "state", "reason",
    ),
    "dependencies": (
        "programme", "ref", "period", "description", "owner", "plan_agreed", "confidence",
        "reason",
    ),
    "indicators": (
        "programme", "ref", "name", "unit", "better", "period", "breakdown", "value", "reason",
    ),
    "narratives": ("programme", "period", "section", "text"),
}
# Columns a file may leave out; export always writes them so history round-trips exactly.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "statuses": ("correction",),
    "indicators": ("description",),
}

# Spreadsheet formula triggers (OWASP "CSV injection"). Export puts a ' in front of a text
# starting with one; import takes it off again.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[int, int], None]
Outcome = Literal["new", "changed", "unchanged"]


def is_protected(text: str) -> bool:
    """True if `text` carries export's protective ' (a ' before a trigger or another ')."""
    return len(text) > 1 and text[0] == "'" and text[1] in (*FORMULA_TRIGGERS, "'")


def unprotect(text: str) -> str:
    return text[1:] if is_protected(text) else text


# --------------------------------------------------------------------------- results


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


@dataclass(frozen=True)
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


@dataclass
class ImportResult:
    path: Path
    dry_run: bool
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: list[RowOutcome] = field(default_factory=list)
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
            return f"{_plural(len(self.problems), 'problem')}. Nothing was recorded."
        if not self.event_count:
            return "Nothing new to record." + (" (Dry run.)" if self.dry_run else "")
        kinds = ", ".join(f"{kind}: {n}" for kind, n in self.events_by_kind.items() if n)
        if self.dry_run:
            return (
                f"Dry run: would record {_plural(self.event_count, 'event')} ({kinds}). "
                "Nothing was recorded."
            )
        return f"Recorded {_plural(self.event_count, 'event')} ({kinds})."


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# --------------------------------------------------------------------------- reading


@dataclass
class _Table:
    """One CSV file or sheet: its header mapped to positions, and its data rows."""

    kind: str
    file: str
    sheet: str | None
    header_row: int
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as Excel shows it, cell texts)
    columns: dict[str, int] = field(default_factory=dict)

    def problem(self, message: str, row: int | None = None, column: str | None = None) -> Problem:
        return Problem(self.file, message, self.sheet, row, column)


class _Refused(Exception):
    """A whole file cannot be read; the message says why and what to do."""


_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def decode_csv(data: bytes, name: str) -> tuple[str, str | None]:
    """The text of a CSV file, and a note if it was not UTF-8 (`name` is for the note).

    UTF-8 (with or without a BOM) is the format. Excel's plain "CSV (Comma delimited)"
    writes Windows-1252 instead; that is read as such when it decodes cleanly and holds no
    UTF-8 sequences (which would mean two encodings mixed in one file, where either choice
    stores something garbled). Anything else is refused rather than guessed at."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Refused(
            "is saved as UTF-16 (Excel's 'Unicode Text'). "
            "Save it as 'CSV UTF-8 (Comma delimited)' and import it again."
        )
    if b"\x00" in data:
        raise _Refused("is not a text file, so it cannot be a CSV file.")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
    save_as = "Save it as 'CSV UTF-8 (Comma delimited)' and import it again."
    if _UTF8_MULTIBYTE.search(data):
        raise _Refused(
            "mixes UTF-8 with another encoding (the first character that is not "
            f"UTF-8 is on line {line}), so some characters would be stored garbled. {save_as}"
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise _Refused(f"is not UTF-8 (see line {line}). {save_as}") from None
    return text, (
        f"{name} is not UTF-8: it was read as Windows-1252, the encoding Excel's "
        "'CSV (Comma delimited)' uses. Check that characters such as £ and curly quotes "
        "came through; saving as 'CSV UTF-8' avoids the question."
    )


def _kind_of(name: str) -> str | None:
    """The kind a file or sheet name says: 'statuses', or '2024-q1 statuses' and the like."""
    key = name.strip().casefold()
    if key in KINDS:
        return key
    last = re.split(r"[-_ .]", key)[-1]
    return last if last in KINDS else None


def _read_csv(path: Path, kind: str, problems: list[Problem], notes: list[str]) -> _Table | None:
    try:
        text, note = decode_csv(path.read_bytes(), path.name)
    except _Refused as refused:
        problems.append(Problem(path.name, str(refused)))
        return None
    if note:
        notes.append(note)
    first_line = text.split("\n", 1)[0]
    # Excel in many European locales separates with semicolons.
    delimiter = ";" if "," not in first_line and ";" in first_line else ","
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Row numbers count records, not lines, as Excel does for a cell holding line breaks.
        numbered = [(n, [unprotect(v).strip() for v in r]) for n, r in enumerate(records, 1)]
    except csv.Error as error:
        problems.append(Problem(path.name, f"is not a well-formed CSV file ({error})."))
        return None
    return _table(kind, path.name, None, numbered, problems)


def _table(
    kind: str, file: str, sheet: str | None, numbered: list[tuple[int, list[str]]],
    problems: list[Problem],
) -> _Table | None:
    """Split off the header (the first non-empty row) and drop empty rows."""
    rows = [(n, cells) for n, cells in numbered if any(cells)]
    if not rows:
        problems.append(Problem(file, "is empty: the first row must be the header row.", sheet))
        return None
    (header_row, header), *data = rows
    while header and not header[-1]:
        header.pop()
    return _Table(kind, file, sheet, header_row, header, data)


def _read_folder(folder: Path, problems: list[Problem], notes: list[str]) -> list[_Table]:
    tables = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "~$")) or path.suffix.lower() != ".csv" or not path.is_file():
            continue
        kind = path.stem.strip().casefold()
        if kind not in KINDS:
            # Refused rather than skipped, so a misspelt 'statues.csv' cannot go unnoticed.
            problems.append(Problem(
                path.name, f"is not one of the files this folder may hold: {_kinds_as_files()}."
            ))
            continue
        table = _read_csv(path, kind, problems, notes)
        if table:
            tables.append(table)
    if not tables and not problems:
        problems.append(Problem(folder.name, f"holds none of {_kinds_as_files()}."))
    return tables


def _kinds_as_files() -> str:
    return ", ".join(f"{kind}.csv" for kind in KINDS)


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")

# Zip bomb guards. A real workbook unpacks to 5-20 times its size (50,000 rows: 15x);
# a bomb of zeros to 1,000 times. Every part is checked against these before openpyxl
# or the formula scan opens anything, and read in chunks, never whole.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_RATIO = 100  # unpacked / packed, for any part over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024  # small parts may compress as well as they like
_CHUNK = 64 * 1024


def size_text(size: int) -> str:
    """A size in bytes as people read it: 20 MB, 64 KB, 900 bytes."""
    mib = 1024 * 1024
    if size >= mib:
        return f"{round(size / mib, 1):g} MB"
    return f"{round(size / 1024, 1):g} KB" if size >= 1024 else f"{size} bytes"


def _refused_archive(path: Path, message: str, status: int) -> RefusedFile:
    return RefusedFile(path.name, message, http_status=status)


def _scan_archive(path: Path) -> RefusedFile | bool:
    """The workbook's refusal if it is a zip bomb, else whether any sheet holds a formula.

    The index's sizes are checked first; then every part is unpacked in chunks, counting
    the bytes really produced, since an index can lie (zipfile stops at the size the index
    gives and then fails the part's checksum: that is refused too)."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        declared = sum(member.file_size for member in members)
        if declared > MAX_UNPACKED_BYTES:
            return _refused_archive(path, (
                f"unpacks to {size_text(declared)}, more than the {size_text(MAX_UNPACKED_BYTES)} an "
                "import can read. Split it into smaller workbooks."
            ), 413)
        for member in members:
            if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(member.compress_size, 1):
                return _refused_archive(path, (
                    f"is compressed far more than any real workbook (its part {member.filename} "
                    f"unpacks to {member.file_size // max(member.compress_size, 1):,} times its "
                    "size), so it is refused as a zip bomb."
                ), 413)
        total, formulas = 0, False
        for member in members:
            sheet = member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")
            produced, tail = 0, b""
            try:
                with archive.open(member) as part:
                    while chunk := part.read(_CHUNK):
                        produced += len(chunk)
                        total += len(chunk)
                        if produced > member.file_size or total > MAX_UNPACKED_BYTES:
                            return _refused_archive(path, (
                                f"unpacks to more than its own index says (part {member.filename}), "
                                "so it is refused as a zip bomb."
                            ), 413)
                        if sheet and not formulas:
                            formulas = _FORMULA_TAG.search(tail + chunk) is not None
                            tail = chunk[-8:]  # a tag split across two chunks
            except zipfile.BadZipFile as error:
                return _refused_archive(path, (
                    f"does not unpack to what its own index says (part {member.filename}: {error}): "
                    "it is damaged, or built to unpack to far more than it claims. Save it again "
                    "from Excel as 'Excel Workbook (.xlsx)'."
                ), 422)
    return formulas


def _formula_cells(path: Path) -> dict[str, set[tuple[int, int]]]:
    """(row, column) of every formula cell, per sheet, once _scan_archive found any.

    A formula whose result was never saved (a workbook written by a script and never
    opened in Excel) reads as empty with data_only, which must not pass for an empty cell."""
    import openpyxl

    cells: dict[str, set[tuple[int, int]]] = {}
    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if getattr(cell, "data_type", None) == "f":
                        cells.setdefault(sheet.title, set()).add((cell.row, cell.column))
    finally:
        book.close()
    return cells


def _read_workbook(path: Path, problems: list[Problem]) -> list[_Table]:
    import openpyxl

    try:
        scanned = _scan_archive(path)
        if isinstance(scanned, RefusedFile):
            problems.append(scanned)
            return []
        formulas = _formula_cells(path) if scanned else {}
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl and zipfile raise many types for "not a workbook"
        reason = "it is not a zip file" if isinstance(error, zipfile.BadZipFile) else str(error)
        problems.append(Problem(
            path.name,
            f"is not an Excel workbook (.xlsx), so it cannot be imported ({reason}). "
            "Save it from Excel as 'Excel Workbook (.xlsx)', or import a folder of CSV files.",
        ))
        return []
    tables: list[_Table] = []
    seen: dict[str, str] = {}
    try:
        for sheet in book.worksheets:
            kind = sheet.title.strip().casefold()
            numbered = []
            header: list[str] = []
            for n, cells in enumerate(sheet.iter_rows(min_row=1), 1):
                texts = []
                for col, cell in enumerate(cells, 1):
                    name = header[col - 1] if col <= len(header) else ""
                    value = cell.value
                    # A formula's saved empty text comes back as None typed "str"; a
                    # formula never calculated comes back as None typed as a number.
                    if (
                        value is None and (n, col) in formulas.get(sheet.title, ())
                        and getattr(cell, "data_type", "n") != "str"
                    ):
                        problems.append(Problem(
                            path.name, "this cell's formula has no saved result. Open the "
                            "workbook in Excel or LibreOffice, save it, and import it again.",
                            sheet.title, n, name or None,
                        ))
                    texts.append(_cell_text(value, getattr(cell, "number_format", ""), name))
                if not header and any(texts):
                    header = [_column_key(t) for t in texts]
                numbered.append((n, texts))
            if not any(any(cells) for _, cells in numbered):
                continue  # an empty sheet (Excel's default "Sheet1") says nothing
            if sheet.title.strip().casefold() == README_SHEET.casefold():
                continue  # the template's guide to the columns
            if kind not in KINDS:
                problems.append(Problem(
                    path.name, f"is not one of the sheets a workbook may hold: {', '.join(KINDS)}.",
                    sheet.title,
                ))
                continue
            if kind in seen:
                problems.append(Problem(
                    path.name, f"is a second {kind} sheet (the first is {seen[kind]!r}).", sheet.title
                ))
                continue
            seen[kind] = sheet.title
            table = _table(kind, path.name, sheet.title, numbered, problems)
            if table:
                tables.append(table)
    finally:
        book.close()
    if not tables and not problems:
        problems.append(Problem(path.name, f"has none of the sheets {', '.join(KINDS)}."))
    return tables


def _cell_text(value: Any, number_format: str, column: str) -> str:
    """A workbook cell as the text the CSV format would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        # Excel turns a typed "Jan 2026" into a date; a period column wants the month.
        if column == "period":
            return f"{value.year:04d}-{value.month:02d}"
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, int | float):
        # repr gives the shortest text that reads back as the same float: 12.16, not 12.1599...
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        percent = (number_format or "").endswith("%")
        if percent:
            number *= 100  # a cell typed as 12.16% holds 0.1216
        text = decimal_text(number)
        return text + "%" if percent else text
    return unprotect(str(value)).strip()


def decimal_text(number: Decimal) -> str:
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def _column_key(text: str) -> str:
    return "_".join(text.strip().casefold().split())


def read_tables(path: Path, problems: list[Problem], notes: list[str]) -> list[_Table]:
    """Every table in `path`, in the order they apply; problems and notes are appended to."""
    if path.is_dir():
        tables = _read_folder(path, problems, notes)
    elif not path.exists():
        problems.append(Problem(path.name, "does not exist."))
        return []
    else:
        suffix = path.suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            tables = _read_workbook(path, problems)
        elif suffix == ".xls":
            problems.append(Problem(
                path.name, "is an old-style Excel file (.xls). Open it in Excel and save it as "
                "'Excel Workbook (.xlsx)', then import that.",
            ))
            return []
        elif suffix == ".csv":
            kind = _kind_of(path.stem)
            if kind is None:
                problems.append(Problem(
                    path.name, "does not say what it holds: name it after its kind, one of "
                    f"{_kinds_as_files()} (or end the name with one, like q1-statuses.csv).",
                ))
                return []
            table = _read_csv(path, kind, problems, notes)
            tables = [table] if table else []
        else:
            problems.append(Problem(
                path.name, "cannot be imported: give a folder of CSV files, one .csv file, "
                "or an Excel workbook (.xlsx).",
            ))
            return []
    for table in tables:
        _check_header(table, problems)
    return sorted(tables, key=lambda t: KINDS.index(t.kind))


def _check_header(table: _Table, problems: list[Problem]) -> None:
    required, optional = COLUMNS[table.kind], OPTIONAL_COLUMNS.get(table.kind, ())
    expected = ", ".join(required)
    where = f"{table.kind}.csv" if table.sheet is None else f"the {table.kind} sheet"
    columns: dict[str, int] = {}
    for index, raw in enumerate(table.header):
        name = _column_key(raw)
        if not name:
            problems.append(table.problem(
                f"column {index + 1} has no name in the header row. The header row must be: "
                f"{expected}.", table.header_row,
            ))
        elif name in columns:
            problems.append(
                table.problem("this column appears twice in the header row.", table.header_row, name)
            )
        elif name not in required and name not in optional:
            problems.append(table.problem(
                f"{raw.strip()!r} is not a column of {where}. The header row must be: {expected}"
                + (f" (optionally also {', '.join(optional)})." if optional else "."),
                table.header_row, raw.strip(),
            ))
        else:
            columns[name] = index
    for name in required:
        if name not in columns:
            problems.append(table.problem(
                f"the header row has no {name!r} column. The header row must be: {expected}.",
                table.header_row, name,
            ))
    table.columns = columns


# --------------------------------------------------------------------------- typed rows


@dataclass(slots=True)
class _Row:
    table: _Table
    number: int
    programme: str


@dataclass(slots=True)
class ProgrammeRow(_Row):
    name: str
    cadence: str
    scale: str
    requires_mitigation: bool
    description: str
    contact: dict[str, str]


@dataclass(slots=True)
class ItemRow(_Row):
    ref: str
    kind: str
    title: str
    parent_ref: str
    lead_officer: str
    committee: str


@dataclass(slots=True)
class StatusRow(_Row):
    ref: str
    period: str
    status: str  # canonical name on the programme's scale, "" = not rated
    update: str
    mitigation: str
    reason: str
    correction: bool


@dataclass(slots=True)
class RiskRow(_Row):
    ref: str
    kind: str
    period: str
    description: str
    owner: str
    rag_before: str
    mitigation: str
    rag_after: str
    is_open: bool
    reason: str


@dataclass(slots=True)
class DependencyRow(_Row):
    ref: str
    period: str
    description: str
    owner: str
    plan_agreed: str
    confidence: str
    reason: str


@dataclass(slots=True)
class IndicatorRow(_Row):
    ref: str
    name: str
    unit: str
    better: str
    description: str | None  # None: the file has no description column
    period: str  # "" with value "": the row only defines the indicator
    breakdown: str
    value: str
    reason: str


@dataclass(slots=True)
class NarrativeRow(_Row):
    period: str
    section: str
    text: str


@dataclass(frozen=True)
class _ProgrammeInfo:
    slug: str
    cadence: str
    scale: Scale


class _BadRow(Exception):
    """A row that failed to parse; its problem is already recorded."""


class _Parser:
    """Turns table rows into typed rows, collecting every problem."""

    def __init__(self, ledger: Ledger, problems: list[Problem]) -> None:
        self.ledger = ledger
        self.problems = problems
        self.programmes: dict[str, _ProgrammeInfo | None] = {}
        self.broken_programmes: set[str] = set()  # named by a programmes row that failed
        self.broken_items: set[tuple[str, str]] = set()  # (programme, ref) of failed item rows
        self.skipped = 0  # rows of a programme whose own row failed
        self._period_cache: dict[tuple[str, str], str] = {}
        self._status_cache: dict[tuple[str, str, bool], str] = {}

    def parse(self, tables: Sequence[_Table]) -> list[_Row]:
        parsed: list[_Row] = []
        for table in tables:
            header_ok = all(name in table.columns for name in COLUMNS[table.kind])
            parse_row = getattr(self, f"_{table.kind}")
            keys: dict[Any, int] = {}
            for number, cells in table.rows:
                values = _RowValues(self, table, number, cells)
                try:
                    if not header_ok:  # reported on the header row; the rows mean nothing
                        raise _BadRow
                    row = parse_row(values)
                    self._check_unique(table, row, keys)
                except _BadRow:
                    # Rows that depend on this one are skipped rather than reported again.
                    if table.kind == "programmes":
                        self.broken_programmes.add(_key(values.raw("programme")))
                    elif table.kind == "items":
                        self.broken_items.add((_key(values.raw("programme")), _key(values.raw("ref"))))
                    continue
                parsed.append(row)
        return parsed

    def _check_unique(self, table: _Table, row: _Row, keys: dict[Any, int]) -> None:
        key: tuple[str, ...]
        match row:
            case ProgrammeRow():
                key, column, what = (_key(row.programme),), "programme", f"programme {row.programme!r}"
            case ItemRow() | DependencyRow():
                key, column, what = (_key(row.programme), _key(row.ref)), "ref", f"ref {row.ref!r}"
            case RiskRow():
                key, column = (_key(row.programme), row.kind, _key(row.ref)), "ref"
                what = f"{row.kind} {row.ref!r}"
            case IndicatorRow():
                key = (_key(row.programme), _key(row.ref), row.period, row.breakdown.casefold())
                column = "period"
                what = f"a value of {row.ref} for {row.period or 'no period'}" + (
                    f" ({row.breakdown})" if row.breakdown else ""
                )
            case NarrativeRow():
                key, column = (_key(row.programme), row.period, row.section), "section"
                what = f"section {row.section!r} for {row.period}"
            case _:
                return  # statuses: two rows for one item and period are two updates
        if key in keys:
            self.problems.append(table.problem(
                f"{what} is already on row {keys[key]}: each may appear once in a file.",
                row.number, column,
            ))
            raise _BadRow
        keys[key] = row.number

    # -- per-kind parsers; each raises _BadRow after recording its problems

    def _programmes(self, v: _RowValues) -> ProgrammeRow:
        slug = v.required("programme", "Enter the programme's short id.")
        if slug and not all(c.isalnum() or c in "-_" for c in slug):
            v.fail("programme", f"{slug!r} is not a valid programme id: use letters, digits and hyphens.")
        name = v.required("name", "Enter the programme's name.")
        cadence = v.check("cadence", lambda t: Cadence.parse(t).value)
        scale = v.check("scale", lambda t: scale_key(scale_named(t)))
        requires = v.check("requires_mitigation", lambda t: _yes_no(t, "requires_mitigation", True))
        contact = {k: v.raw(f"contact_{k}") for k in ("name", "phone", "email")}
        v.done()
        row = ProgrammeRow(
            v.table, v.number, slug, name, cadence, scale, requires == "yes", v.raw("description"), contact
        )
        # The file's own programmes give later rows their cadence and scale, unless the
        # ledger already has the programme (which an import cannot change).
        if self._lookup(slug) is None:  # (and not claimed by an earlier row of the file)
            self.programmes[_key(slug)] = _ProgrammeInfo(slug, cadence, scale_named(scale))
        return row

    def _items(self, v: _RowValues) -> ItemRow:
        programme = v.programme()
        ref = v.required("ref", "Enter the item's ref, like A1.1.1.")
        kind = v.check("kind", _item_kind)
        title = v.required("title", f"Enter a title for {ref or 'the item'}.")
        v.done()
        return ItemRow(
            v.table, v.number, programme.slug, ref, kind, title, v.raw("parent_ref"),
            v.raw("lead_officer"), v.raw("committee"),
        )

    def _statuses(self, v: _RowValues) -> StatusRow:
        programme = v.programme()
        ref = v.required("ref", "Enter the item's ref.")
        period = v.check("period", lambda t: self._period(programme, t))
        status = v.check("status", lambda t: self._status(programme, t, rated=False))
        correction = v.check("correction", lambda t: _yes_no(t, "correction", False))
        v.done()
        return StatusRow(
            v.table, v.number, programme.slug, ref, period, status, v.raw("update"),
            v.raw("mitigation"), v.raw("reason"), correction == "yes",
        )

    def _risks(self, v: _RowValues) -> RiskRow:
        programme = v.programme()
        ref = v.required("ref", "Enter the ref, like R1 or I1.")
        kind = v.check("kind", _risk_kind)
        period = v.check("period", lambda t: self._period(programme, t))
        description = v.required("description", "Describe the risk or issue.")
        before = v.check("rag_before", lambda t: self._status(programme, t, rated=True, field="rag_before"))
        after = v.check(
            "rag_after",
            lambda t: self._status(programme, t, rated=True, field="rag_after") if t else "",
        )
        state = v.check("state", _state)
        v.done()
        return RiskRow(
            v.table, v.number, programme.slug, ref, kind, period, description, v.raw("owner"),
            before, v.raw("mitigation"), after, state == "open", v.raw("reason"),
        )

    def _dependencies(self, v: _RowValues) -> DependencyRow:
        programme = v.programme()
        ref = v.required("ref", "Enter the ref, like D1.")
        period = v.check("period", lambda t: self._period(programme, t))
        description = v.required("description", "Describe the dependency.")
        v.done()
        return DependencyRow(
            v.table, v.number, programme.slug, ref, period, description, v.raw("owner"),
            v.raw("plan_agreed"), v.raw("confidence"), v.raw("reason"),
        )

    def _indicators(self, v: _RowValues) -> IndicatorRow:
        programme = v.programme()
        ref = v.required("ref", "Enter the indicator's ref, like FTE.")
        name = v.required("name", f"Enter a name for indicator {ref}." if ref else "Enter a name.")
        raw_period, raw_value = v.raw("period"), v.raw("value")
        period = v.check("period", lambda t: self._period(programme, t)) if raw_period or raw_value else ""
        if raw_period and not raw_value:
            v.fail("value", "Enter a value (or leave the period empty too, to only define the indicator).")
        value = v.check("value", parse_number) if raw_value else ""
        v.done()
        return IndicatorRow(
            v.table, v.number, programme.slug, ref, name, v.raw("unit"),
            v.raw("better").lower() or "neither",
            v.raw("description") if "description" in v.table.columns else None,
            period, v.raw("breakdown"), value, v.raw("reason"),
        )

    def _narratives(self, v: _RowValues) -> NarrativeRow:
        programme = v.programme()
        period = v.check("period", lambda t: self._period(programme, t))
        section = v.check("section", _section)
        v.done()
        return NarrativeRow(v.table, v.number, programme.slug, period, section, v.raw("text"))

    # -- lookups, cached: a 50k-row file names a handful of programmes and periods

    def _lookup(self, slug: str) -> _ProgrammeInfo | None:
        key = _key(slug)
        if key not in self.programmes:
            try:
                found = self.ledger.get_programme(slug)
            except LedgerError:
                self.programmes[key] = None
            else:
                self.programmes[key] = _ProgrammeInfo(found["slug"], found["cadence"], found["scale"])
        return self.programmes[key]

    def _period(self, programme: _ProgrammeInfo, text: str) -> str:
        key = (programme.cadence, text)
        if key not in self._period_cache:
            self._period_cache[key] = Period.parse(text, programme.cadence).label
        return self._period_cache[key]

    def _status(self, programme: _ProgrammeInfo, text: str, *, rated: bool, field: str = "status") -> str:
        key = (programme.slug, text, rated)
        if key not in self._status_cache:
            if not text and not rated:
                self._status_cache[key] = ""  # not rated
            else:
                try:
                    status = programme.scale.resolve(text)
                except LedgerError as error:
                    error.field = field
                    raise
                if rated and status.category is Category.UNRATED:
                    raise InvalidValue(
                        f"{status.name} is not a RAG rating: use one of "
                        f"{', '.join(s.name for s in programme.scale.rated)}.", field=field,
                    )
                self._status_cache[key] = status.name
        return self._status_cache[key]


class _RowValues:
    """One row's cells by column name, collecting that row's problems."""

    __slots__ = ("bad", "cells", "number", "parser", "table")

    def __init__(self, parser: _Parser, table: _Table, number: int, cells: list[str]) -> None:
        self.parser, self.table, self.number, self.cells = parser, table, number, cells
        self.bad = False
        extra = [c for c in cells[len(table.header):] if c]
        if extra:
            self.fail(None, f"this row has {len(table.header) + len(extra)} values but the "
                      f"header row names {len(table.header)} columns: {extra[0]!r} has no column.")

    def raw(self, column: str) -> str:
        index = self.table.columns.get(column)
        return self.cells[index] if index is not None and index < len(self.cells) else ""

    def fail(self, column: str | None, message: str) -> None:
        self.parser.problems.append(self.table.problem(message, self.number, column))
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

    def programme(self) -> _ProgrammeInfo:
        slug = self.raw("programme")
        if not slug:
            self.fail("programme", "Enter the programme's short id.")
            raise _BadRow
        found = self.parser._lookup(slug)
        if found is None:
            if _key(slug) in self.parser.broken_programmes:
                self.parser.skipped += 1
            else:
                self.fail("programme", f"There is no programme {slug!r}: add it to programmes.csv "
                          "(or the programmes sheet), or check the spelling.")
            raise _BadRow  # a broken programmes row is reported once, on its own row
        return found

    def done(self) -> None:
        if self.bad:
            raise _BadRow


def _key(text: str) -> str:
    return text.strip().casefold()


def _yes_no(text: str, column: str, default: bool) -> str:
    key = text.strip().lower()
    if not key:
        return "yes" if default else "no"
    if key in ("yes", "y", "true", "1"):
        return "yes"
    if key in ("no", "n", "false", "0"):
        return "no"
    raise InvalidValue(f"{text!r} is not yes or no.", field=column)


def _item_kind(text: str) -> str:
    kind = " ".join(text.lower().split())
    if kind not in ITEM_KINDS:
        raise InvalidValue(f"{text!r} is not a kind of item: use one of {', '.join(ITEM_KINDS)}.")
    return kind


def _risk_kind(text: str) -> str:
    kind = text.strip().lower()
    if kind not in RISK_KINDS:
        raise InvalidValue(f"{text!r} is not risk or issue.")
    return kind


def _state(text: str) -> str:
    state = text.strip().lower() or "open"
    if state not in ("open", "closed"):
        raise InvalidValue(f"{text!r} is not a state: use open or closed.")
    return state


# A section by its key or by its heading in the report ("Recent achievements").
_SECTIONS = {
    **{k: k for k in NARRATIVE_SECTIONS},
    **{_column_key(heading): k for k, heading in NARRATIVE_SECTIONS.items()},
}


def _section(text: str) -> str:
    section = _SECTIONS.get(_column_key(text))
    if section is None:
        raise InvalidValue(
            f"{text!r} is not a report section: use one of {', '.join(NARRATIVE_SECTIONS)}."
        )
    return section


def scale_key(scale: Scale) -> str:
    """The name the format uses for a scale ('rag', 'five-point')."""
    for key, known in BUILT_IN_SCALES.items():
        if known.to_dict() == scale.to_dict():
            return key
    return scale.name


# --------------------------------------------------------------------------- applying


class _Skip(Exception):
    """A row that depends on a row that already failed: reported there, not again."""


class _Unchanged(Exception):
    """A row with nothing to record that no command needs to see."""


class _Discard(Exception):
    """Leave the batch unsaved (a dry run, or problems)."""


class _Applier:
    """Applies typed rows through the ledger's commands into one batch."""

    def __init__(
        self, ledger: Ledger, batch: Batch, actor: str, result: ImportResult,
        broken_items: set[tuple[str, str]], broken_programmes: set[str],
    ) -> None:
        self.ledger, self.batch, self.actor, self.result = ledger, batch, actor, result
        self.source_name: str | None = None  # what the person called the file, if not its own name
        # item id -> period -> every (status, update, mitigation) recorded, oldest first
        self.history: dict[UUID, dict[str, list[tuple[str, str, str]]]] = {}
        self.before_import: dict[UUID, frozenset[str]] = {}  # periods rated before this import
        self.broken_items = broken_items
        self.broken_programmes = broken_programmes
        self.pending_seen: dict[UUID, int] = {}
        self._item_ids: dict[tuple[str, str], UUID] = {}
        self.skipped = 0  # rows not checked because a row they depend on failed

    def item_id(self, programme: str, ref: str) -> UUID:
        """Item ids, memoised: a uuid5 per row is a measurable share of a 50k-row import."""
        key = (programme, ref)
        if key not in self._item_ids:
            self._item_ids[key] = Item.create_id(Programme.create_id(programme), ref)
        return self._item_ids[key]

    def preload_items(self, rows: Iterable[_Row]) -> None:
        """Load every item the file names, once, noting its whole status history.

        Done before any command runs, so nothing pending in the batch can be replaced."""
        ids = {self.item_id(row.programme, row.ref) for row in rows if isinstance(row, ItemRow | StatusRow)}
        for item_id in ids:
            periods: dict[str, list[tuple[str, str, str]]] = {}

            def project(aggregate: Any, events: Iterable[Any], periods: dict = periods) -> Any:
                events = list(events)
                for e in events:
                    if type(e).__name__ in ("StatusRecorded", "StatusCorrected"):
                        periods.setdefault(e.period, []).append((e.status, e.update, e.mitigation))
                return project_aggregate(aggregate, events)

            try:
                item = self.ledger.repository.get(item_id, projector_func=project)
            except AggregateNotFoundError:
                continue  # a new item
            if isinstance(item, Item):
                self.batch.add(item)
                self.history[item_id] = periods
                self.before_import[item_id] = frozenset(periods)

    def apply(self, row: _Row) -> None:
        table = row.table
        try:
            aggregate_id, hint = getattr(self, f"_{table.kind}")(row)
        except _Unchanged:
            self.result.rows.append(
                RowOutcome(table.file, table.sheet, table.kind, row.number, "unchanged", ())
            )
            return
        except (_Skip, LedgerError) as error:
            if isinstance(row, ProgrammeRow):  # its rows are skipped, not reported again
                self.broken_programmes.add(_key(row.programme))
            elif isinstance(row, ItemRow):  # its children and statuses likewise
                self.broken_items.add((_key(row.programme), _key(row.ref)))
            if isinstance(error, UnknownRef) and error.field == "programme" and (
                _key(row.programme) in self.broken_programmes
            ):
                error = _Skip()
            self.skipped += isinstance(error, _Skip)
            if isinstance(error, LedgerError):
                column = error.field if error.field in table.columns else None
                self.result.problems.append(table.problem(error.message, row.number, column))
            return
        aggregate = self.batch.find(Aggregate, aggregate_id)
        assert aggregate is not None
        pending = aggregate.pending_events
        before = self.pending_seen.get(aggregate_id, 0)
        self.pending_seen[aggregate_id] = len(pending)
        events = tuple(type(e).__name__ for e in pending[before:])
        if events:
            by_kind = self.result.events_by_kind
            by_kind[table.kind] = by_kind.get(table.kind, 0) + len(events)
            self.result.events_by_type.update(events)
        self.result.rows.append(RowOutcome(
            table.file, table.sheet, table.kind, row.number, hint if events else "unchanged", events
        ))

    def _reason(self, row: _Row, own: str = "") -> str:
        """The reason for changing something recorded before this import: the import."""
        name = f"Imported from {self.source_name or row.table.file}"
        return f"{name}: {own}" if own else name

    # -- one method per kind: returns the id of the aggregate the row touched, and whether
    #    the row adds what the ledger did not hold before this import ("new") or alters
    #    what it did ("changed"). A row that records no events is reported "unchanged".

    def _programmes(self, row: ProgrammeRow) -> tuple[UUID, Outcome]:
        programme_id = Programme.create_id(row.programme)
        existing = self.batch.find(Programme, programme_id)
        if existing is None:
            self.ledger.register_programme(
                row.programme, row.name, cadence=row.cadence, scale=row.scale,
                requires_mitigation=row.requires_mitigation, description=row.description,
                contact=row.contact, actor=self.actor, batch=self.batch,
            )
            return programme_id, "new"
        if existing.slug != row.programme:
            raise DuplicateRef(
                f"{row.programme!r} is already in the ledger as {existing.slug!r} (ids ignore "
                "case). Use the ledger's spelling.", field="programme",
            )
        fixed = (
            ("cadence", existing.cadence, row.cadence),
            ("scale", scale_key(existing.scale), row.scale),
            ("requires_mitigation", _yn(existing.requires_mitigation), _yn(row.requires_mitigation)),
            ("description", existing.description, row.description),
        )
        for column, now, wanted in fixed:
            if now != wanted:
                raise InvalidValue(
                    f"{existing.name} is already registered with {column} {now!r}, and an import "
                    f"cannot change it (this row says {wanted!r}).", field=column,
                )
        kwargs = {"actor": self.actor, "reason": self._reason(row), "batch": self.batch}
        self.ledger.rename_programme(row.programme, row.name, **kwargs)
        self.ledger.change_contact(row.programme, row.contact, **kwargs)
        return programme_id, "changed"

    def _items(self, row: ItemRow) -> tuple[UUID, Outcome]:
        programme = self.batch.programme(row.programme)
        item_id = Item.create_id(programme.id, row.ref)
        existing = self.batch.find(Item, item_id)
        if existing is None:
            if row.parent_ref and self.batch.find(Item, Item.create_id(programme.id, row.parent_ref)) is None:
                if (_key(row.programme), _key(row.parent_ref)) in self.broken_items:
                    raise _Skip
                raise UnknownRef(
                    f"{programme.name} has no item {row.parent_ref!r}: a parent must be in the "
                    "ledger already or on an earlier row.", field="parent_ref",
                )
            self.ledger.register_item(
                row.programme, row.ref, kind=row.kind, title=row.title, parent_ref=row.parent_ref,
                lead_officer=row.lead_officer, committee=row.committee, actor=self.actor,
                reason=self._reason(row), batch=self.batch,
            )
            self.history[item_id] = {}
            return item_id, "new"
        # The same ref in the ledger must be the same item: an import cannot re-file it.
        if existing.ref != row.ref:
            raise DuplicateRef(
                f"{row.ref!r} is already in the ledger as {existing.ref!r}: refs ignore case, so "
                f"this would be a duplicate. Use {existing.ref!r}, or a new ref.", field="ref",
            )
        if existing.kind != row.kind:
            raise DuplicateRef(
                f"{existing.ref} is already in the ledger as {_a(existing.kind)}, not "
                f"{_a(row.kind)}: "
                "refs are unique within a programme, and an import cannot change an item's "
                f"kind. Use kind {existing.kind!r}, or a new ref.", field="kind",
            )
        if _key(existing.parent_ref) != _key(row.parent_ref):
            raise DuplicateRef(
                f"{existing.ref} is already in the ledger under {existing.parent_ref or 'no parent'}"
                f", not {row.parent_ref or 'no parent'}: refs are unique within a programme, and "
                f"an import cannot move an item. Use parent_ref {existing.parent_ref!r}, or a "
                "new ref.", field="parent_ref",
            )
        reason = self._reason(row)
        kwargs = {"actor": self.actor, "reason": reason, "batch": self.batch}
        if row.title != existing.title:
            self.ledger.retitle_item(row.programme, row.ref, row.title, **kwargs)
        if row.lead_officer != existing.lead_officer:
            self.ledger.reassign_lead(row.programme, row.ref, row.lead_officer, **kwargs)
        if row.committee != existing.committee:
            self.ledger.change_committee(row.programme, row.ref, row.committee, **kwargs)
        return item_id, "changed"

    def _statuses(self, row: StatusRow) -> tuple[UUID, Outcome]:
        item = self.batch.find(Item, self.item_id(row.programme, row.ref))
        if item is None:
            programme = self.batch.programme(row.programme)
            if (_key(row.programme), _key(row.ref)) in self.broken_items:
                raise _Skip
            raise UnknownRef(
                f"{programme.name} has no item {row.ref!r}: add it to items.csv (or the items "
                "sheet), or check the ref.", field="ref",
            )
        periods = self.history.setdefault(item.id, {})
        recorded = periods.setdefault(row.period, [])
        content = (row.status, row.update, row.mitigation)
        if content in recorded:
            return item.id, "changed"  # no events: reported as unchanged
        # Updating a period rated before this import: the import is the reason. A second
        # row for a period within one file is the file's own re-rating, with its reason.
        before_import = row.period in self.before_import.get(item.id, ())
        reason = self._reason(row, row.reason) if before_import else row.reason
        command = self.ledger.correct_status if row.correction else self.ledger.record_status
        command(
            row.programme, row.ref, period=row.period, status=row.status, update=row.update,
            mitigation=row.mitigation, actor=self.actor, reason=reason, batch=self.batch,
        )
        recorded.append(content)
        return item.id, "changed" if before_import else "new"

    def _risks(self, row: RiskRow) -> tuple[UUID, Outcome]:
        programme = self.batch.programme(row.programme)
        risk_id = Risk.create_id(programme.id, row.kind, row.ref)
        existing = self.batch.find(Risk, risk_id)
        common = {"kind": row.kind, "actor": self.actor, "batch": self.batch}
        if existing is None:
            self.ledger.raise_risk(
                row.programme, row.ref, description=row.description, rag_before=row.rag_before,
                mitigation=row.mitigation, rag_after=row.rag_after, owner=row.owner,
                period=row.period, reason=row.reason, **common,
            )
            if not row.is_open:
                self.ledger.close_risk(
                    row.programme, row.ref, period=row.period,
                    reason=row.reason or self._reason(row), **common,
                )
            return risk_id, "new"
        if existing.ref != row.ref:
            raise DuplicateRef(
                f"{row.ref!r} is already in the ledger as {existing.ref!r} (refs ignore case). "
                "Use the ledger's spelling.", field="ref",
            )
        reason = self._reason(row, row.reason)
        if (row.description, row.owner) != (existing.description, existing.owner):
            self.ledger.correct_risk(
                row.programme, row.ref, description=row.description, owner=row.owner,
                reason=reason, **common,
            )
        state_changes = row.is_open != existing.is_open
        same_rating = (row.rag_before, row.mitigation, row.rag_after) == (
            existing.rag_before, existing.mitigation, existing.rag_after
        )
        # When a row closes or reopens a risk, its period is when that happened.
        if not same_rating or (row.period != existing.period and not state_changes):
            self.ledger.rerate_risk(
                row.programme, row.ref, rag_before=row.rag_before, mitigation=row.mitigation,
                rag_after=row.rag_after, period=row.period, reason=reason, **common,
            )
        if state_changes:
            change = self.ledger.reopen_risk if row.is_open else self.ledger.close_risk
            change(row.programme, row.ref, period=row.period, reason=reason, **common)
        return risk_id, "changed"

    def _dependencies(self, row: DependencyRow) -> tuple[UUID, Outcome]:
        programme = self.batch.programme(row.programme)
        dependency_id = Dependency.create_id(programme.id, row.ref)
        existing = self.batch.find(Dependency, dependency_id)
        if existing is None:
            self.ledger.register_dependency(
                row.programme, row.ref, description=row.description, plan_agreed=row.plan_agreed,
                confidence=row.confidence, owner=row.owner, period=row.period,
                actor=self.actor, reason=row.reason, batch=self.batch,
            )
            return dependency_id, "new"
        if existing.ref != row.ref:
            raise DuplicateRef(
                f"{row.ref!r} is already in the ledger as {existing.ref!r} (refs ignore case). "
                "Use the ledger's spelling.", field="ref",
            )
        reason = self._reason(row, row.reason)
        if (row.description, row.owner) != (existing.description, existing.owner):
            self.ledger.correct_dependency(
                row.programme, row.ref, description=row.description, owner=row.owner,
                actor=self.actor, reason=reason, batch=self.batch,
            )
        self.ledger.review_dependency(  # records nothing if plan, confidence and period agree
            row.programme, row.ref, plan_agreed=row.plan_agreed, confidence=row.confidence,
            period=row.period, actor=self.actor, reason=reason, batch=self.batch,
        )
        return dependency_id, "changed"

    def _indicators(self, row: IndicatorRow) -> tuple[UUID, Outcome]:
        programme = self.batch.programme(row.programme)
        indicator_id = Indicator.create_id(programme.id, row.ref)
        existing = self.batch.find(Indicator, indicator_id)
        outcome: Outcome = "changed"
        if existing is None:
            self.ledger.define_indicator(
                row.programme, row.ref, name=row.name, unit=row.unit, better=row.better,
                description=row.description or "", actor=self.actor, reason=self._reason(row),
                batch=self.batch,
            )
            outcome = "new"
        else:
            if existing.ref != row.ref:
                raise DuplicateRef(
                    f"{row.ref!r} is already in the ledger as {existing.ref!r} (refs ignore "
                    "case). Use the ledger's spelling.", field="ref",
                )
            fixed = [("name", existing.name, row.name), ("unit", existing.unit, row.unit),
                     ("better", existing.better, row.better)]
            if row.description is not None:
                fixed.append(("description", existing.description, row.description))
            for column, now, wanted in fixed:
                if now != wanted:
                    raise InvalidValue(
                        f"Indicator {existing.ref} is already defined with {column} {now!r}, and "
                        f"an import cannot change it (this row says {wanted!r}).", field=column,
                    )
        if row.period:
            indicator = self.batch.find(Indicator, indicator_id)
            assert indicator is not None
            first = f"{row.period}|{row.breakdown}" not in indicator.values
            self.ledger.record_indicator_value(
                row.programme, row.ref, period=row.period, value=row.value,
                breakdown=row.breakdown, actor=self.actor,
                reason=row.reason if first else self._reason(row, row.reason), batch=self.batch,
            )
            outcome = "new" if first else outcome
        return indicator_id, outcome

    def _narratives(self, row: NarrativeRow) -> tuple[UUID, Outcome]:
        programme = self.batch.programme(row.programme)
        narrative_id = Narrative.create_id(programme.id, row.period)
        existing = self.batch.find(Narrative, narrative_id)
        before = existing.sections.get(row.section) if existing else None
        if before is None and not row.text:
            raise _Unchanged  # an empty section never written: no empty narrative to start
        self.ledger.write_narrative(
            row.programme, period=row.period, section=row.section, text=row.text,
            actor=self.actor, reason="" if before is None else self._reason(row), batch=self.batch,
        )
        return narrative_id, "new" if before is None else "changed"


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _yn(flag: bool) -> str:
    return "yes" if flag else "no"


# --------------------------------------------------------------------------- entry point


def import_file(
    ledger: Ledger,
    path: str | Path,
    *,
    actor: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    source_name: str | None = None,
) -> ImportResult:
    """Import `path` (a folder of CSVs, a .csv or an .xlsx) as `actor`.

    `source_name` is what the person called the file (an upload is stored under a name of
    our choosing); reasons in the audit trail name it.

    Records everything in one transaction, or nothing if any row has a problem. With
    `dry_run`, reports what would be recorded and records nothing. `progress(done, total)`
    is called as rows are applied, and with (total, total) at the end."""
    path = Path(path)
    result = ImportResult(path=path, dry_run=dry_run)
    tables = read_tables(path, result.problems, result.notes)
    parser = _Parser(ledger, result.problems)
    rows = parser.parse(tables)
    total = len(rows)
    step = max(1, total // 200)
    try:
        with ledger.batch() as batch:
            applier = _Applier(ledger, batch, actor, result, parser.broken_items, parser.broken_programmes)
            applier.source_name = source_name
            applier.preload_items(rows)
            for done, row in enumerate(rows, 1):
                applier.apply(row)
                if progress and done % step == 0:
                    progress(done, total)
            skipped = parser.skipped + applier.skipped
            if skipped:
                result.notes.append(
                    f"{_plural(skipped, 'row')} could not be checked because a row they depend on "
                    "(their programme, item or parent item) has a problem."
                )
            if result.problems or dry_run:
                raise _Discard
    except _Discard:
        pass
    except LedgerError as error:  # a Conflict while saving: someone else wrote meanwhile
        result.problems.append(Problem(
            path.name, f"was not recorded, because someone else changed the ledger while it was "
            f"being imported. {error.message} Import the file again to apply it to their change.",
        ))
    else:
        result.recorded = result.event_count > 0
    result.problems.sort(key=_problem_order(tables))
    if progress:
        progress(total, total)
    return result


def _problem_order(tables: Sequence[_Table]) -> Callable[[Problem], tuple[int, str, int, int]]:
    """Problems sorted by file, then row, then column order, as a reader scans them."""
    def key(problem: Problem) -> tuple[int, str, int, int]:
        for index, table in enumerate(tables):
            if (table.file, table.sheet) == (problem.file, problem.sheet):
                order = list(table.columns)
                column = order.index(problem.column) if problem.column in order else -1
                return index, "", problem.row or 0, column
        return -1, f"{problem.file}/{problem.sheet}", problem.row or 0, -1
    return key
