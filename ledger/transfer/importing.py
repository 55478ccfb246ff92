"""Import a folder of CSV files, one CSV file or an XLSX workbook (docs/import-format.md).

Two steps, so a file is recorded whole or not at all and every problem is reported at once:

1. **Prepare**: read the file (`read`) and check every row into a typed record
   (`check`). Each problem is kept as (file or sheet, row as Excel numbers it with the
   header on row 1, column, message).
2. **Record**: apply the good rows through the ledger's own commands into ONE batch
   (`apply`). If any row has a problem, or on a dry run, the batch is never saved.

A prepared file can be recorded more than once (a check, then the real thing) without
being read again: the web keeps it between the two as JSON (`to_json`, `from_json`).

Importing the same file again records nothing: the commands ignore identical values,
existing records are compared before any command runs, and a status row identical to
ANY update already recorded for that item and period (not only the latest) is left
alone. A row that changes something recorded before this import names the import as
its reason.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.application import Batch, Ledger
from ledger.application.progress import reporting_save
from ledger.errors import LedgerError
from ledger.transfer.apply import Applier
from ledger.transfer.check import Checked, Checker, name_programme
from ledger.transfer.kinds import ROW_TYPES, HistoryRow
from ledger.transfer.kinds.sides import Sides
from ledger.transfer.read import read_tables
from ledger.transfer.results import ImportResult, Problem, plural
from ledger.transfer.spool import RowSpool
from ledger.transfer.table import Row, Table

Progress = Callable[[int, int], None]


@dataclass
class Prepared:
    """A file read and checked: its tables, the rows that passed, problems and notes."""

    path: Path
    tables: list[Table]
    checked: Checked
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def restating(self, reason: str) -> Prepared:
        """Give every history grid row without a `restate` reason of its own this one, so a
        cell that disagrees with the ledger is restated with it instead of refused."""
        if reason.strip():
            self.checked.rows.edit(functools.partial(_give_reason, reason.strip()))
        return self

    def to_json(self) -> dict[str, Any]:
        """The checked rows as plain data, for a file with no problems (kept between a check
        and its confirmation). The tables' cells are not kept: the rows carry their values."""
        assert not self.problems, "only a file without problems is kept for recording"
        index = {id(table): n for n, table in enumerate(self.tables)}
        return {
            "path": str(self.path),
            "notes": self.notes,
            "tables": [
                {"kind": t.kind, "file": t.file, "sheet": t.sheet, "header_row": t.header_row,
                 "header": t.header, "columns": t.columns}
                for t in self.tables
            ],
            "rows": [
                {"table": index[id(row.table)], "values": {
                    f.name: _plain(getattr(row, f.name)) for f in dataclasses.fields(row) if f.name != "table"
                }}
                for row in self.checked.rows
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Prepared:
        tables = [Table(rows=[], **table) for table in data["tables"]]
        rows = [
            ROW_TYPES[tables[row["table"]].kind](
                table=tables[row["table"]], **{name: _typed(value) for name, value in row["values"].items()}
            )
            for row in data["rows"]
        ]
        checked = Checked(RowSpool(rows), set(), set(), 0)
        for row in rows:  # every row passed, so the rows name every programme
            name_programme(checked.named, row.table, row.number, row.programme)
        return cls(Path(data["path"]), tables, checked, [], list(data["notes"]))


def _give_reason(reason: str, row: Row) -> None:
    if isinstance(row, HistoryRow) and not row.restate:
        row.restate = reason


# A row's values that are themselves records (a dependency's two sides) are kept as JSON
# objects naming their type, and rebuilt as that type (tuples included) when read back.
_RECORDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "Sides": lambda d: Sides(
        d["provider"], d["receiver"], {side: tuple(v) for side, v in d["confirmations"].items()}
    ),
}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"record": type(value).__name__, "fields": dataclasses.asdict(value)}
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"record", "fields"} and value["record"] in _RECORDS:
        return _RECORDS[value["record"]](value["fields"])
    return value


def prepare(ledger: Ledger, path: str | Path) -> Prepared:
    """Read `path` (a folder of CSVs, a .csv or an .xlsx) and check every row."""
    path = Path(path)
    problems: list[Problem] = []
    notes: list[str] = []
    tables = read_tables(path, problems, notes)
    checked = Checker(ledger, problems).check(tables)
    return Prepared(path, tables, checked, problems, notes)


def record(
    ledger: Ledger,
    prepared: Prepared,
    *,
    actor: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    source_name: str | None = None,
    once: bool = False,
    saving: Progress | None = None,
    projecting: Progress | None = None,
) -> ImportResult:
    """Apply a prepared file as `actor`: everything in one transaction, or nothing if any
    row has a problem. `prepared` is left as it was, so it can be recorded again; or,
    `once`, each checked row is let go as it is applied (a million rows are ~400 MB).

    `progress(done, total)` counts the rows applied; then, in events, `saving` the save
    into the log and `projecting` the read model brought up to it (together about a third
    of a big file's time)."""
    result = ImportResult(
        path=prepared.path, dry_run=dry_run, problems=list(prepared.problems), notes=list(prepared.notes)
    )
    total = len(prepared.checked.rows)
    batch = Batch(ledger)
    try:
        applier = Applier(ledger, batch, actor, result, prepared.checked, source_name)
        _apply(applier, prepared, once, progress)
        if not result.problems and not dry_run:
            try:
                with reporting_save(saving, projecting, result.event_count):
                    ledger.save_batch(batch)  # in one transaction
            except LedgerError as error:  # a Conflict while saving: someone else wrote meanwhile
                result.problems.append(Problem(
                    prepared.path.name, "was not recorded, because someone else changed the ledger "
                    f"while it was being imported. {error.message} Import the file again to apply it "
                    "to their change.",
                ))
            else:
                result.recorded = result.event_count > 0
    finally:
        batch.close()  # its scratch file, if it spilled
    result.problems.sort(key=_problem_order(prepared.tables))
    if progress:
        progress(total, total)
    return result


def _apply(applier: Applier, prepared: Prepared, once: bool, progress: Progress | None) -> None:
    """Apply every checked row, a spool's list (SPOOL_ROWS) at a time: each list's items
    are loaded in one go, and the batch spills between lists (a big file's changes are
    then never all in memory). Then note the rows skipped."""
    rows = prepared.checked.rows
    total = len(rows)
    step = max(1, total // 200)
    if once:  # let go of each list of rows once applied
        prepared.checked.rows = RowSpool()
    done = 0
    for some in rows.lists():
        if done:
            applier.spill()
        applier.preload_items(some)
        for row in some:
            applier.apply(row)
            done += 1
            if progress and done % step == 0:
                progress(done, total)
    applier.apply_later()
    skipped = prepared.checked.skipped + applier.skipped
    if skipped:
        applier.result.notes.append(
            f"{plural(skipped, 'row')} could not be checked because a row they depend on "
            "(their programme, item or parent item) has a problem."
        )


def import_file(
    ledger: Ledger,
    path: str | Path,
    *,
    actor: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    source_name: str | None = None,
    restate_reason: str = "",
) -> ImportResult:
    """Import `path` (a folder of CSVs, a .csv or an .xlsx) as `actor`.

    `source_name` is what the person called the file (an upload is stored under a name of
    our choosing); reasons in the audit trail name it. `restate_reason` restates every
    history grid cell that disagrees with the ledger, with that reason (else each is refused).

    Records everything in one transaction, or nothing if any row has a problem. With
    `dry_run`, reports what would be recorded and records nothing. `progress(done, total)`
    is called as rows are applied, and with (total, total) at the end."""
    return record(
        ledger, prepare(ledger, path).restating(restate_reason), actor=actor, dry_run=dry_run,
        progress=progress, source_name=source_name, once=True,
    )


def unassigned_programmes(prepared: Prepared, assigned: Iterable[str]) -> list[Problem]:
    """One problem per programme the file names that is not among the `assigned`
    programmes of its uploader, at its first row (an empty programme is the importer's
    to report). A file with any is only ever checked, never recorded."""
    mine = {p.strip().lower() for p in assigned}
    first = {found: named for found, named in prepared.checked.named.items() if named[2].lower() not in mine}
    return [
        Problem(
            table.file,
            f"you are not assigned to programme {programme!r} ({plural(count, 'row')} in this file), "
            "so you cannot import it. Remove its rows, or ask an administrator for access to it.",
            table.sheet,
            number,
            "programme",
        )
        for table, number, programme, count in first.values()
    ]


def _problem_order(tables: Sequence[Table]) -> Callable[[Problem], tuple[int, str, int, int]]:
    """Problems sorted by file, then row, then column order, as a reader scans them."""
    def order(problem: Problem) -> tuple[int, str, int, int]:
        for index, table in enumerate(tables):
            if (table.file, table.sheet) == (problem.file, problem.sheet):
                columns = list(table.columns)
                column = columns.index(problem.column) if problem.column in columns else -1
                return index, "", problem.row or 0, column
        return -1, f"{problem.file}/{problem.sheet}", problem.row or 0, -1
    return order
