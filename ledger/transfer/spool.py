"""A file's checked rows, past SPOOL_ROWS kept in a scratch file rather than in memory.

A checked status row is ~400 bytes, so a million rows held between the check and the
apply are ~400 MB. `RowSpool` keeps the last `SPOOL_ROWS` in a list and pickles each full
list to an anonymous temporary file (gone when the spool is); iterating reads them back
in order, a list at a time. A file of up to SPOOL_ROWS rows never touches the disk, and
is applied and saved as one list, as before (ledger.transfer.importing).

Each row is stored as a tuple: its class's and its table's index in the spool, then
its other fields, so every row read back shares the one table object. A row whose check
goes on filling it after it is appended (`Row.spooled` False: a scale's rows share its
list of statuses) stays in memory and is stored by its index. A change to the rows
(`edit`) applies to those held now and to each stored row as it is read back.
"""

from __future__ import annotations

import dataclasses
import operator
import pickle
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, cast

from ledger.transfer.table import Row, Table

SPOOL_ROWS = 50_000


class RowSpool:
    """Checked rows in order: appended once, iterated as often as needed."""

    def __init__(self, rows: Iterable[Row] = ()) -> None:
        self._held: list[Row] = []
        self._file: IO[bytes] | None = None
        self._stored_lists = 0
        self._stored_rows = 0
        self._kept: list[object] = []  # row classes, tables and rows not spooled
        self._kept_index: dict[int, int] = {}
        self._fields: dict[type[Row], Callable[[Row], Any]] = {}
        self._edits: list[Callable[[Row], None]] = []
        for row in rows:
            self.append(row)

    def append(self, row: Row) -> None:
        if len(self._held) >= SPOOL_ROWS:  # stored once a row follows: a file of one list stays put
            self._store()
        self._held.append(row)

    def __len__(self) -> int:
        return self._stored_rows + len(self._held)

    def __iter__(self) -> Iterator[Row]:
        for rows in self.lists():
            yield from rows

    def lists(self) -> Iterator[list[Row]]:
        """The rows a list at a time (up to SPOOL_ROWS each), in order."""
        if self._file is not None:
            self._file.seek(0)
            for _ in range(self._stored_lists):
                rows = [self._row(stored) for stored in pickle.load(self._file)]
                for edit in self._edits:
                    for row in rows:
                        edit(row)
                yield rows
        if self._held:
            yield self._held

    def edit(self, change: Callable[[Row], None]) -> None:
        """Change every row (those stored, as they are read back)."""
        for row in self._held:
            change(row)
        if self._file is not None:
            self._edits.append(change)

    def _store(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="govledger-rows-")  # noqa: SIM115 - closed below
            weakref.finalize(self, self._file.close)  # with the spool, and warning-free
        self._file.seek(0, 2)
        pickle.dump([self._stored(row) for row in self._held], self._file, pickle.HIGHEST_PROTOCOL)
        self._stored_lists += 1
        self._stored_rows += len(self._held)
        self._held = []

    def _stored(self, row: Row) -> tuple[Any, ...]:
        if not row.spooled:
            return (-1, self._index(row))
        cls = type(row)
        fields = self._fields.get(cls)
        if fields is None:
            names = [f.name for f in dataclasses.fields(row) if f.name != "table"]
            fields = self._fields[cls] = operator.attrgetter(*names)
        return (self._index(cls), self._index(row.table), *fields(row))

    def _row(self, stored: tuple[Any, ...]) -> Row:
        if stored[0] == -1:
            return cast(Row, self._kept[stored[1]])
        cls = cast(type[Row], self._kept[stored[0]])
        return cls(cast(Table, self._kept[stored[1]]), *stored[2:])

    def _index(self, kept: object) -> int:
        """A class, table or unspooled row's index among those kept."""
        index = self._kept_index.get(id(kept))
        if index is None:
            index = self._kept_index[id(kept)] = len(self._kept)
            self._kept.append(kept)
        return index
