"""Workbooks as zip archives: the zip bomb guard, and where the formula cells are.

Both run before openpyxl unpacks anything for the import, so a workbook built to exhaust
memory is refused having been read in small chunks only."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ledger.transfer.results import RefusedFile

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


def scan_archive(path: Path) -> RefusedFile | bool:
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


def formula_cells(path: Path) -> dict[str, set[tuple[int, int]]]:
    """(row, column) of every formula cell, per sheet, once scan_archive found any.

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
