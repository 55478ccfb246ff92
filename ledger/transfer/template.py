"""The import template: an empty workbook with a sheet per kind holding the exact header
row export writes, and a Read me sheet describing every column as the guide
(docs/import-format.md) does."""

from __future__ import annotations

import io
import re
from functools import cache
from pathlib import Path
from typing import Any

from ledger.transfer.cells import text_cell
from ledger.transfer.kinds import COLUMNS, KINDS, header
from ledger.transfer.read import README_SHEET

FORMAT_DOC = Path(__file__).resolve().parents[2] / "docs" / "import-format.md"


def _plain(markdown: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", markdown)
    return " ".join(text.replace("`", "").replace("**", "").split())


@cache
def documented_columns() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """Each kind's rows in docs/import-format.md, as (columns, meaning): its table rows
    (`| programme, ref | e.g. R1 |` describes two columns together) and its 'Optional
    column `x`: ...' paragraphs. Empty if the guide is not installed alongside the code."""
    try:
        text = FORMAT_DOC.read_text(encoding="utf-8")
    except OSError:
        return {}
    documented: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for section in re.finditer(r"^## (\w+)\.csv\n(.*?)(?=^## |\Z)", text, re.M | re.S):
        rows = documented.setdefault(section[1], [])
        for line in section[2].splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.startswith("|") or len(cells) != 2 or cells[0] == "column":
                continue
            if set(cells[0]) <= set("-: "):
                continue  # the |---|---| line
            rows.append((tuple(_plain(name) for name in cells[0].split(",")), _plain(cells[1])))
        for name, meaning in re.findall(r"Optional column `(\w+)`: (.+?)(?:\n\n|\Z)", section[2], re.S):
            rows.append(((name,), _plain(meaning)))
    return documented


def readme_rows(kind: str) -> list[tuple[str, str, str]]:
    """(columns, required, meaning) for the Read me: every column export writes for `kind`,
    in the file's order, grouped and described as the guide describes them (a group the
    guide leaves blank, like dependencies' "programme, ref, period, description, owner",
    stays blank: another kind's text for the same name would mislead)."""
    documented = documented_columns().get(kind, [])
    rows: list[tuple[str, str, str]] = []
    done: set[str] = set()
    for column in header(kind):
        if column in done:
            continue
        group, meaning = next(((cols, m) for cols, m in documented if column in cols), ((column,), ""))
        group = tuple(c for c in header(kind) if c in group and c not in done)
        rows.append((", ".join(group), "yes" if column in COLUMNS[kind] else "optional", meaning))
        done.update(group)
    return rows


README_INTRO = (
    "Governance Ledger import template",
    "Fill in the sheets you need, one row per record, and leave the others empty. Keep each "
    "sheet's first row, the header, as it is.",
    f"This {README_SHEET} sheet is ignored when you upload the workbook.",
    "Upload the workbook on the Import page. It is checked first and nothing is recorded until "
    "you confirm; then the whole file is recorded, or nothing is.",
    "The full guide is docs/import-format.md.",
)


def template_workbook() -> bytes:
    """An empty workbook: a sheet per kind with the exact header row export writes, and a
    Read me sheet describing every column. Every cell is text, so nothing is evaluated."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def text(sheet: Any, value: str, *, strong: bool = False) -> Any:
        return text_cell(sheet, value, bold if strong else None)

    readme = book.create_sheet(README_SHEET)
    for letter, width in zip("ABCD", (16, 22, 12, 100), strict=True):
        readme.column_dimensions[letter].width = width
    for index, line in enumerate(README_INTRO):
        readme.append([text(readme, line, strong=index == 0)])
    readme.append([])
    readme.append([text(readme, h, strong=True) for h in ("Sheet", "Columns", "Required", "Meaning")])
    for kind in KINDS:
        for row in readme_rows(kind):
            readme.append([text(readme, value) for value in (kind, *row)])

    for kind in KINDS:
        sheet = book.create_sheet(kind)
        sheet.freeze_panes = "A2"
        sheet.append([text(sheet, column, strong=True) for column in header(kind)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
