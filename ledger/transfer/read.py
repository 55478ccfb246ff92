"""Reading files for import: a folder of CSV files, one CSV file or an XLSX workbook, as
tables of text cells with their header checked. Encodings are settled here, and a
workbook passes the zip bomb guard before anything unpacks it."""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from ledger.transfer.archive import formula_cells, scan_archive
from ledger.transfer.cells import cell_text, unprotect
from ledger.transfer.kinds import BY_NAME, COLUMNS, KINDS, OPTIONAL_COLUMNS
from ledger.transfer.kinds.register import period_header
from ledger.transfer.results import Problem, RefusedFile
from ledger.transfer.table import Table, column_key

README_SHEET = "Read me"  # the downloadable template's guide sheet; never data


@dataclass(frozen=True)
class Decoded:
    """The encoding a CSV file is read in and a note if it was not UTF-8, or why it
    cannot be read."""

    encoding: str = "utf-8-sig"
    note: str | None = None
    refusal: str | None = None


CHUNK = 1 << 20  # bytes read at a time: a file of a million rows is never held whole


def kind_of(name: str) -> str | None:
    """The kind a file or sheet name says: 'statuses', or '2024-q1 statuses' and the like."""
    key = name.strip().casefold()
    if key in KINDS:
        return key
    last = re.split(r"[-_ .]", key)[-1]
    return last if last in KINDS else None


def kinds_as_files() -> str:
    return ", ".join(f"{kind}.csv" for kind in KINDS)


_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _first_bad_line(path: Path, encoding: str) -> int | None:
    """The line of the first byte sequence `encoding` cannot decode, or None if all can."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    for chunk in _chunks(path):
        held = decoder.getstate()[0]  # bytes of a character split across chunks
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            return lines + (held + chunk).count(b"\n", 0, error.start) + 1
        lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return lines + 1
    return None


def _has_utf8_sequence(path: Path) -> bool:
    tail = b""  # a sequence may straddle two chunks
    for chunk in _chunks(path):
        if _UTF8_MULTIBYTE.search(tail + chunk):
            return True
        tail = chunk[-3:]
    return False


def decode_csv(path: Path) -> Decoded:
    """The encoding to read a CSV file in, and a note if it was not UTF-8, found a chunk
    at a time.

    UTF-8 (with or without a BOM) is the format. Excel's plain "CSV (Comma delimited)"
    writes Windows-1252 instead; that is read as such when it decodes cleanly and holds no
    UTF-8 sequences (which would mean two encodings mixed in one file, where either choice
    stores something garbled). Anything else is refused rather than guessed at."""
    with path.open("rb") as handle:
        start = handle.read(2)
    if start in (b"\xff\xfe", b"\xfe\xff"):
        return Decoded(refusal=(
            "is saved as UTF-16 (Excel's 'Unicode Text'). "
            "Save it as 'CSV UTF-8 (Comma delimited)' and import it again."
        ))
    if any(b"\x00" in chunk for chunk in _chunks(path)):
        return Decoded(refusal="is not a text file, so it cannot be a CSV file.")
    line = _first_bad_line(path, "utf-8-sig")
    if line is None:
        return Decoded()
    save_as = "Save it as 'CSV UTF-8 (Comma delimited)' and import it again."
    if _has_utf8_sequence(path):
        return Decoded(refusal=(
            "mixes UTF-8 with another encoding (the first character that is not "
            f"UTF-8 is on line {line}), so some characters would be stored garbled. {save_as}"
        ))
    if _first_bad_line(path, "cp1252") is not None:
        return Decoded(refusal=f"is not UTF-8 (see line {line}). {save_as}")
    return Decoded("cp1252", (
        f"{path.name} is not UTF-8: it was read as Windows-1252, the encoding Excel's "
        "'CSV (Comma delimited)' uses. Check that characters such as £ and curly quotes "
        "came through; saving as 'CSV UTF-8' avoids the question."
    ))


def _read_csv(path: Path, kind: str, problems: list[Problem], notes: list[str]) -> Table | None:
    """The file's header now; its rows as the check reads them, so a million rows are
    never all in memory (a row that is not well-formed CSV is reported where it is met)."""
    decoded = decode_csv(path)
    if decoded.refusal is not None:
        problems.append(Problem(path.name, decoded.refusal))
        return None
    if decoded.note:
        notes.append(decoded.note)
    records = _records(path, decoded.encoding, problems)
    # The header is the first non-empty row; empty rows are dropped.
    numbered = ((n, cells) for n, cells in records if any(cells))
    return _table(kind, path.name, None, numbered, problems)


def _records(path: Path, encoding: str, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding=encoding, newline="") as handle:
        first_line = handle.readline()
        # Excel in many European locales separates with semicolons.
        delimiter = ";" if "," not in first_line and ";" in first_line else ","
        records = csv.reader(chain([first_line], handle), delimiter=delimiter)
        try:
            # Row numbers count records, not lines, as Excel does for a cell holding line breaks.
            for n, record in enumerate(records, 1):
                yield n, [unprotect(v).strip() for v in record]
        except csv.Error as error:
            problems.append(Problem(path.name, f"is not a well-formed CSV file ({error})."))


def _table(
    kind: str, file: str, sheet: str | None, numbered: Iterable[tuple[int, list[str]]],
    problems: list[Problem],
) -> Table | None:
    """Split off the header (the first non-empty row); the rest are the data rows."""
    rows = iter(numbered)
    first = next(rows, None)
    if first is None:
        problems.append(Problem(file, "is empty: the first row must be the header row.", sheet))
        return None
    header_row, header = first
    while header and not header[-1]:
        header.pop()
    return Table(kind, file, sheet, header_row, header, rows)


def _read_folder(folder: Path, problems: list[Problem], notes: list[str]) -> list[Table]:
    tables = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "~$")) or path.suffix.lower() != ".csv" or not path.is_file():
            continue
        kind = path.stem.strip().casefold()
        if kind not in KINDS:
            # Refused rather than skipped, so a misspelt 'statues.csv' cannot go unnoticed.
            problems.append(Problem(
                path.name, f"is not one of the files this folder may hold: {kinds_as_files()}."
            ))
            continue
        table = _read_csv(path, kind, problems, notes)
        if table:
            tables.append(table)
    if not tables and not problems:
        problems.append(Problem(folder.name, f"holds none of {kinds_as_files()}."))
    return tables


def _read_workbook(path: Path, problems: list[Problem]) -> list[Table]:
    import openpyxl

    try:
        scanned = scan_archive(path)
        if isinstance(scanned, RefusedFile):
            problems.append(scanned)
            return []
        formulas = formula_cells(path) if scanned else {}
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl and zipfile raise many types for "not a workbook"
        reason = "it is not a zip file" if isinstance(error, zipfile.BadZipFile) else str(error)
        problems.append(Problem(
            path.name,
            f"is not an Excel workbook (.xlsx), so it cannot be imported ({reason}). "
            "Save it from Excel as 'Excel Workbook (.xlsx)', or import a folder of CSV files.",
        ))
        return []
    tables: list[Table] = []
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
                    texts.append(cell_text(value, getattr(cell, "number_format", ""), name))
                if not header and any(texts):
                    header = [column_key(t) for t in texts]
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
            table = _table(kind, path.name, sheet.title, (r for r in numbered if any(r[1])), problems)
            if table:
                tables.append(table)
    finally:
        book.close()
    if not tables and not problems:
        problems.append(Problem(path.name, f"has none of the sheets {', '.join(KINDS)}."))
    return tables


def read_tables(path: Path, problems: list[Problem], notes: list[str]) -> list[Table]:
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
            kind = kind_of(path.stem)
            if kind is None:
                problems.append(Problem(
                    path.name, "does not say what it holds: name it after its kind, one of "
                    f"{kinds_as_files()} (or end the name with one, like q1-statuses.csv).",
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


def _check_header(table: Table, problems: list[Problem]) -> None:
    required, optional = COLUMNS[table.kind], OPTIONAL_COLUMNS.get(table.kind, ())
    expected = ", ".join(required)
    where = f"{table.kind}.csv" if table.sheet is None else f"the {table.kind} sheet"
    columns: dict[str, int] = {}
    for index, raw in enumerate(table.header):
        name = column_key(raw)
        if not name:
            problems.append(table.problem(
                f"column {index + 1} has no name in the header row. The header row must be: "
                f"{expected}.", table.header_row,
            ))
        elif name in columns:
            problems.append(
                table.problem("this column appears twice in the header row.", table.header_row, name)
            )
        elif name not in required and name not in optional and BY_NAME[table.kind].period_columns:
            # A grid's period column is keyed by its header as written, e.g. "22/23 Q1".
            columns[raw.strip()] = index
            if not period_header(raw):
                table.defined_period_headers.append(raw.strip())
        elif name not in required and name not in optional:
            problems.append(table.problem(
                f"{raw.strip()!r} is not a column of {where}. The header row must be: {expected}"
                + (f" (optionally also {', '.join(optional)})." if optional else "."),
                table.header_row, raw.strip(),
            ))
        else:
            columns[name] = index
    for name in required:
        if name not in columns and name not in BY_NAME[table.kind].may_omit:
            problems.append(table.problem(
                f"the header row has no {name!r} column. The header row must be: {expected}.",
                table.header_row, name,
            ))
    table.columns = columns
