"""Cells: the ONE formula-injection guard for every CSV or XLSX cell the product writes
(export, the template, the audit log's CSV, the report workbooks), and a workbook cell as
the text the CSV format would hold.

A text starting with = + - @ tab or CR runs as a formula when a spreadsheet opens it
(OWASP "CSV injection"). In CSV such a cell gets a leading ' (the importer takes it off
again, so the round trip is exact); in XLSX the cell's type is set to string, so it is
never evaluated.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?%?$")  # ASCII digits only: -5, +1.5, -3%


def is_protected(text: str) -> bool:
    """True if `text` carries the guard's ' (a ' before a trigger or another ')."""
    return len(text) > 1 and text[0] == "'" and text[1] in (*FORMULA_TRIGGERS, "'")


def unprotect(text: str) -> str:
    return text[1:] if is_protected(text) else text


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would run `text`; plain numbers (-5, +1.5) never are."""
    return text[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.match(text)


def protect_csv(value: Any) -> Any:
    """The CSV cell for `value`: a leading ' stops a spreadsheet running it as a formula.

    A text that already looks protected gets a second ' so the importer restores it
    exactly. Anything not a text is returned as it is."""
    if isinstance(value, str) and (looks_like_formula(value) or is_protected(value)):
        return "'" + value
    return value


def needs_text_type(text: str) -> bool:
    """Whether an XLSX cell holding `text` must be typed as a string explicitly: openpyxl
    would otherwise store "=..." as a formula."""
    return text[:1] in FORMULA_TRIGGERS or is_protected(text)


def text_cell(sheet: Any, text: str, font: Any = None) -> Any:
    """A write-only XLSX cell holding `text` as text, never a formula. In a workbook the
    guard's ' is not part of the value, except to keep a text's own leading '."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value="'" + text if is_protected(text) else text)
    cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def decimal_text(number: Decimal) -> str:
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def number_cell(text: str) -> int | float | None:
    """`text` as a number an .xlsx can hold and the importer reads back as the same text."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or decimal_text(number) != text:
        return None
    if number == number.to_integral_value() and abs(number) < 10**15:
        return int(number)
    as_float = float(number)
    return as_float if decimal_text(Decimal(repr(as_float))) == text else None


def cell_text(value: Any, number_format: str, column: str) -> str:
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
