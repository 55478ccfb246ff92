"""A file's checked rows, past SPOOL_ROWS kept in a scratch file rather than in memory.

A checked status row is ~400 bytes, so a million rows held between the check and the
apply are ~400 MB. `RowSpool` keeps the last `SPOOL_ROWS` in a list and pickles each full
list to an anonymous temporary file (gone when the spool is); iterating reads them back
in order, a list at a time. A file of fewer rows never touches the disk.

Rows refer to their `Table`; each table is pickled once, by its index in the spool, so
every row read back shares the one table object. A row whose check goes on filling it
after it is appended (`Row.spooled` False: a scale's rows share its list of statuses)
stays in memory and is pickled by reference. A change to the rows (`edit`) applies to
those held now and to each stored row as it is read back.
"""

from __future__ import annotations

import pickle
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from ledger.transfer.table import Row, Table

SPOOL_ROWS = 20_000


class RowSpool:
    """Checked rows in order: appended once, iterated as often as needed."""

    def __init__(self, rows: Iterable[Row] = ()) -> None:
        self._held: list[Row] = []
        self._file: IO[bytes] | None = None
        self._stored_lists = 0
        self._stored_rows = 0
        self._kept: list[Table | Row] = []  # tables, and rows not spooled: by reference
        self._kept_index: dict[int, int] = {}
        self._edits: list[Callable[[Row], None]] = []
        for row in rows:
            self.append(row)

    def append(self, row: Row) -> None:
        self._held.append(row)
        if len(self._held) >= SPOOL_ROWS:
            self._store()

    def __len__(self) -> int:
        return self._stored_rows + len(self._held)

    def __iter__(self) -> Iterator[Row]:
        for rows in self.lists():
            yield from rows

    def lists(self) -> Iterator[list[Row]]:
        """The rows a list at a time (up to SPOOL_ROWS each), in order."""
        if self._file is not None:
            self._file.seek(0)
            for _ in range(self._stored_lists):  # one unpickler a list: each has its own memo
                rows: list[Row] = _Unpickler(self._file, self._kept).load()
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
        _Pickler(self._file, self).dump(self._held)
        self._stored_lists += 1
        self._stored_rows += len(self._held)
        self._held = []

    def kept_id(self, kept: Table | Row) -> int:
        index = self._kept_index.get(id(kept))
        if index is None:
            index = self._kept_index[id(kept)] = len(self._kept)
            self._kept.append(kept)
        return index


class _Pickler(pickle.Pickler):
    def __init__(self, file: IO[bytes], spool: RowSpool) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._spool = spool

    def persistent_id(self, obj: Any) -> int | None:
        by_reference = isinstance(obj, Table) or (isinstance(obj, Row) and not obj.spooled)
        return self._spool.kept_id(obj) if by_reference else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], kept: list[Table | Row]) -> None:
        super().__init__(file)
        self._kept = kept

    def persistent_load(self, pid: Any) -> Table | Row:
        return self._kept[pid]
