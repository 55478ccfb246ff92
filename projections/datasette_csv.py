"""Datasette's CSV, with formulas neutralised as the app's own CSV export does.

Datasette writes a cell such as `=HYPERLINK(...)` raw, and a spreadsheet opening the file
runs it. Datasette has no hook for CSV cells, so its CSV response is rewritten on the way
out: split into records (a record ends at CRLF outside quotes), each cell passed through
the app's one formula guard (`ledger.transfer.cells.protect_csv`), and written again.
Streaming (`_stream=on`) stays streaming: each record is sent as soon as it is complete.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ledger.transfer.cells import protect_csv as neutralise  # the app's one formula guard

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

_CSV_TYPES = (b"text/plain", b"text/csv")


class _Records:
    """Feeds CSV bytes in, gives complete records back (as neutralised CSV bytes)."""

    def __init__(self) -> None:
        self.pending = b""
        self.quotes = 0  # '"' seen so far: odd means inside a quoted cell
        self.scanned = 0  # how much of `pending` has been searched for record ends

    def feed(self, chunk: bytes) -> bytes:
        self.pending += chunk
        out: list[bytes] = []
        start, i = 0, self.scanned
        while (end := self.pending.find(b"\r\n", i)) >= 0:
            self.quotes += self.pending.count(b'"', i, end)
            i = end + 2
            if self.quotes % 2 == 0:  # else the CRLF is inside a quoted cell
                out.append(_rewrite(self.pending[start:i]))
                start = i
        self.pending, self.scanned = self.pending[start:], i - start
        return b"".join(out)

    def finish(self) -> bytes:
        rest, self.pending, self.scanned, self.quotes = self.pending, b"", 0, 0
        return _rewrite(rest) if rest else b""


def _rewrite(record: bytes) -> bytes:
    text = record.decode("utf-8", "replace")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in csv.reader(io.StringIO(text, newline="")):
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue().encode("utf-8")


def neutralising(send: Send) -> Send:
    """An ASGI `send` that neutralises a CSV body (text/plain or text/csv, as Datasette
    sends CSV) and passes anything else, such as an HTML error page, through untouched."""
    records: _Records | None = None

    async def send_neutralised(message: Message) -> None:
        nonlocal records
        if message["type"] == "http.response.start":
            content_type = dict(message.get("headers", [])).get(b"content-type", b"")
            if message.get("status") == 200 and content_type.startswith(_CSV_TYPES):
                records = _Records()
                # The body changes length: drop any content-length.
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
                message = {**message, "headers": headers}
        elif message["type"] == "http.response.body" and records is not None:
            body = records.feed(message.get("body", b""))
            if not message.get("more_body", False):
                body += records.finish()
            message = {**message, "body": body}
        await send(message)

    return send_neutralised
