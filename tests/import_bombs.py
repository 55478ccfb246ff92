"""Zip bombs shaped as real workbooks, built on the spot: openpyxl's own .xlsx with one
sheet's XML padded by a long run of spaces (legal between XML elements), streamed into the
archive so neither building nor refusing one needs the unpacked size in memory."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import openpyxl

MIB = 1024 * 1024
SHEET = "xl/worksheets/sheet1.xml"


def bomb_workbook(path: Path, *, unpacked_mib: int = 64, claimed_size: int | None = None) -> Path:
    """A statuses workbook whose sheet unpacks to about `unpacked_mib` MB of spaces.
    With `claimed_size` the archive's index LIES: it gives that as the sheet's size."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "statuses"
    sheet.append(["programme", "ref", "period", "status", "update", "mitigation", "reason"])
    sheet.append(["plan", "A1", "2024/25 Q1", "Green", "On track", "", ""])
    honest = io.BytesIO()
    book.save(honest)
    with zipfile.ZipFile(honest) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != SHEET:
                bomb.writestr(info.filename, data)
                continue
            head, tail = data.split(b"<sheetData>", 1)
            with bomb.open(SHEET, "w") as part:
                part.write(head + b"<sheetData>")
                padding = b" " * MIB
                for _ in range(unpacked_mib):
                    part.write(padding)
                part.write(tail)
    if claimed_size is not None:
        _claim_size(path, SHEET, claimed_size)
    return path


def _claim_size(path: Path, name: str, size: int) -> None:
    """Overwrite `name`'s uncompressed size in its local header and the central directory."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    # (signature, where the name starts, where the uncompressed size is), per the zip spec
    for signature, name_at, size_at in ((b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)):
        header = data.find(signature)
        while data[header + name_at:header + name_at + len(encoded)] != encoded:
            header = data.find(signature, header + 4)
        struct.pack_into("<I", data, header + size_at, size)
    path.write_bytes(bytes(data))
