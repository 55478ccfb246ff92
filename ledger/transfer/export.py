"""Export the ledger in the import format (docs/import-format.md): a folder of CSV files,
or one .xlsx workbook when the path ends in .xlsx. Importing an export into an empty data
directory gives the same programmes, items, status history, risks, dependencies,
indicator values and narratives.

Source: the event log itself, replayed through the domain model up to the position it
had when the export began, one record (aggregate) at a time: its events read by its id
(ledger.store.events), `mapper.to_domain_event` and each event's own `mutate`, its rows
written at once to the files, so a log of millions never sits in memory. That needs
nothing from the projections and reads exactly what an import would compare against.
Statuses are exported as their full history (one row per recorded update, corrections
marked), risks one row per period; everything else as its current state.

Every cell passes the one formula-injection guard in `ledger.transfer.cells`.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.application import Ledger, open_ledger
from ledger.config import EVENTS_DB, resolve_data_dir
from ledger.domain import (
    NARRATIVE_SECTIONS,
    NO_RATING,
    Dependency,
    Indicator,
    Item,
    Narrative,
    Programme,
    Risk,
    StatusScale,
)
from ledger.store.events import StoredRow, positions_reader, record_ids, record_positions
from ledger.transfer.cells import needs_text_type, number_cell, protect_csv, text_cell
from ledger.transfer.grid import grid_periods, grid_row, note_periods, retirement_rows
from ledger.transfer.kinds import KINDS, header, scale_key
from ledger.transfer.kinds.items import ParentsFirst
from ledger.transfer.kinds.scale_changes import ScaleChangeRows
from ledger.transfer.kinds.scales import scale_rows

RECORDS_READ = 50  # records read per pair of queries (an item of a big plan has ~150 events)


class ExportError(Exception):
    """The export cannot be written; the message says why."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: dict[str, int]  # data rows written per kind
    log_position: int  # the export holds every event up to and including this position

    def summary(self) -> str:
        counts = ", ".join(f"{kind}: {n:,}" for kind, n in self.rows.items())
        return f"Exported to {self.path} ({counts}), up to log position {self.log_position}."


# --------------------------------------------------------------------------- reading


@dataclass
class _Record:
    """One record (aggregate) rebuilt from its events, with what its rows need."""

    aggregate: Any
    last_reason: str = ""
    statuses: list[Any] = field(default_factory=list)  # an item's StatusRecorded/StatusCorrected
    retirements: list[Any] = field(default_factory=list)  # an item's Retired/Reinstated
    value_reason: dict[str, str] = field(default_factory=dict)  # "period|breakdown" -> reason
    risk_reason: dict[str, str] = field(default_factory=dict)  # period -> its latest event's reason
    scale_changes: list[tuple[Any, str]] = field(default_factory=list)  # (event, scale before)
    first_change: int = 0  # the log position of a programme's first change of scale


def _records(ledger: Ledger, ids: Sequence[Any], stop: int) -> Iterator[tuple[Any, _Record]]:
    """Each record of `ids`, in order, as it stood at position `stop`: read RECORDS_READ
    records at a time (two queries), so memory holds only those records' events."""
    for start in range(0, len(ids), RECORDS_READ):
        chunk = ids[start : start + RECORDS_READ]
        positions = record_positions(ledger.recorder, chunk, stop)
        events: dict[Any, list[StoredRow]] = {}
        for row in positions_reader(ledger.recorder, positions)(0, len(positions), None):
            events.setdefault(row[1], []).append(row)  # in position order: version order
        for originator_id in chunk:
            yield originator_id, _load(ledger, events.pop(originator_id, []))


def _load(ledger: Ledger, rows: list[StoredRow]) -> _Record:
    """One record replayed through the domain model from its stored events."""
    record = _Record(None)
    for position, oid, version, topic, state in rows:
        event: Any = ledger.mapper.to_domain_event(StoredEvent(oid, version, topic, state))
        name = type(event).__name__
        if name in ("ScaleChanged", "ScaleRemapped"):
            record.scale_changes.append((event, scale_key(record.aggregate.scale)))
            record.first_change = record.first_change or position
        record.aggregate = event.mutate(record.aggregate)
        record.last_reason = getattr(event, "reason", "")
        if name in ("StatusRecorded", "StatusCorrected"):
            record.statuses.append(event)
        elif name in ("Retired", "Reinstated"):
            record.retirements.append(event)
        elif isinstance(record.aggregate, Risk) and hasattr(event, "period"):
            record.risk_reason[event.period] = event.reason
        elif name in ("ValueRecorded", "ValueCorrected"):
            record.value_reason[f"{event.period}|{event.breakdown}"] = event.reason
    return record


def _rows(record: _Record, programmes: dict[UUID, Programme]) -> Iterator[tuple[str, list[str]]]:
    """(kind, row) for every row one record contributes, in the order the export lists them."""
    aggregate = record.aggregate
    slug = programmes[aggregate.programme_id].slug if hasattr(aggregate, "programme_id") else ""
    match aggregate:
        case StatusScale():
            for row in scale_rows(aggregate.scale, record.last_reason):
                yield "scales", row
        case Programme():
            contact = aggregate.contact
            yield "programmes", [
                aggregate.slug, aggregate.name, aggregate.cadence, scale_key(aggregate.scale),
                "yes" if aggregate.requires_mitigation else "no", aggregate.description,
                contact.get("name", ""), contact.get("phone", ""), contact.get("email", ""),
            ]
            for period in aggregate.periods:
                yield "periods", [aggregate.slug, *period, ""]
        case Item():
            yield "items", [
                slug, aggregate.ref, aggregate.kind, aggregate.title,
                aggregate.parent_ref, aggregate.lead_officer, aggregate.committee,
                aggregate.due_date, "; ".join(aggregate.indicators),
            ]
            for row in retirement_rows(record.retirements, slug, aggregate.ref):
                yield "retirements", row
            for e in record.statuses:
                yield "statuses", [
                    slug, aggregate.ref, e.period, e.status, e.update, e.mitigation,
                    e.reason, "yes" if type(e).__name__ == "StatusCorrected" else "",
                ]
        case Risk():  # one row per period, so the history and closures round-trip
            for row in aggregate.history(programmes[aggregate.programme_id]):
                yield "risks", [
                    slug, aggregate.ref, aggregate.kind, row.period,
                    aggregate.description, aggregate.owner,
                    *(row.rating if row.rated else NO_RATING),  # a period only closed or reopened
                    "open" if row.is_open else "closed",
                    record.risk_reason.get(row.period, ""),
                ]
        case Dependency():
            yield "dependencies", [
                slug, aggregate.ref, aggregate.period, aggregate.description,
                aggregate.owner, aggregate.plan_agreed, aggregate.confidence,
                record.last_reason, aggregate.provider, aggregate.receiver,
                *aggregate.provider_view, *aggregate.receiver_view,
            ]
        case Indicator():
            definition = [slug, aggregate.ref, aggregate.name, aggregate.unit, aggregate.better]
            if not aggregate.values:  # defined, nothing measured yet
                yield "indicators", [*definition, "", "", "", "", aggregate.description]
            for key, current in aggregate.values.items():
                period, breakdown = key.split("|", 1)
                yield "indicators", [
                    *definition, period, breakdown, current["value"],
                    record.value_reason.get(key, ""), aggregate.description,
                ]
        case Narrative():
            for section in NARRATIVE_SECTIONS:
                text = aggregate.sections.get(section, "")
                if text:
                    yield "narratives", [slug, aggregate.period, section, text]


def _export(ledger: Ledger, sink: _Sink) -> int:
    """Write every record's rows to `sink`, one record in memory at a time, as the log
    stood when the export began; returns that position. Statuses are the full history
    (one row per recorded update, corrections marked), risks one row per period;
    everything else its current state. Changes of scale follow, once the statuses that
    place them are met, then the history grid, a second pass over the items."""
    stop = ledger.get_log_position()  # a consistent cut, even while others write
    programmes: dict[UUID, Programme] = {}  # few, and every record names one
    changes: dict[UUID, tuple[int, ScaleChangeRows]] = {}  # programme id -> (first change, rows)
    gridded: list[Any] = []  # the items the grid has a row for
    starts: dict[str, Any] = {}
    items = ParentsFirst(lambda row: sink.add("items", row))
    for kind in KINDS:
        if kind != "history":
            sink.head(kind, header(kind))
    for originator_id, record in _records(ledger, record_ids(ledger.recorder, stop), stop):
        aggregate = record.aggregate
        if isinstance(aggregate, Programme):
            programmes[aggregate.id] = aggregate
            if record.scale_changes:
                placed = ScaleChangeRows(aggregate, record.scale_changes)
                changes[aggregate.id] = (record.first_change, placed)
        for kind, row in _rows(record, programmes):
            if kind == "items":
                items.add(row)
            else:
                sink.add(kind, row)
        if isinstance(aggregate, Item):
            programme = programmes[aggregate.programme_id]
            if aggregate.programme_id in changes:
                for e in record.statuses:
                    changes[aggregate.programme_id][1].rated(e.timestamp, e.period)
            note_periods(aggregate, programme.calendar, starts)
            if aggregate.ratings or aggregate.notes:
                gridded.append(originator_id)
    items.finish()
    for _, rows in sorted(changes.values(), key=lambda change: change[0]):  # as they were made
        for row in rows.rows():
            sink.add("scale_changes", row)
    periods = grid_periods(starts)
    sink.head("history", [*header("history"), *periods])
    for _, record in _records(ledger, gridded, stop):  # a second pass: the columns are known only now
        item = record.aggregate
        sink.add("history", grid_row(item, programmes[item.programme_id].slug, periods))
    return stop


# --------------------------------------------------------------------------- writing


@contextmanager
def _replacing(target: Path, moves: list[tuple[Path, Path]] | None = None) -> Iterator[Path]:
    """A temporary file beside `target` that replaces it only once fully written (or,
    given `moves`, is listed there for the caller to move into place)."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        if moves is None:
            os.replace(temporary, target)
        else:
            moves.append((temporary, target))
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class _Sink(Protocol):
    def head(self, kind: str, columns: list[str]) -> None: ...
    def add(self, kind: str, row: list[str]) -> None: ...


class _CsvFolder:
    """A CSV file per kind, each written to a temporary file beside it, row by row; all
    of them replace the old files only once the export is complete."""

    def __init__(self, folder: Path, stack: ExitStack) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, Any] = {}
        self._moves: list[tuple[Path, Path]] = []
        for kind in KINDS:
            temporary = stack.enter_context(_replacing(folder / f"{kind}.csv", self._moves))
            # UTF-8 with a BOM: Excel then opens £ and curly quotes correctly.
            handle = stack.enter_context(temporary.open("w", encoding="utf-8-sig", newline=""))
            self._writers[kind] = csv.writer(handle)

    def head(self, kind: str, columns: list[str]) -> None:
        self.add(kind, columns)

    def add(self, kind: str, row: list[str]) -> None:
        self._writers[kind].writerow([protect_csv(cell) for cell in row])

    def finish(self, stack: ExitStack) -> None:
        stack.close()  # every file closed (and kept) before any replaces the old one
        for temporary, target in self._moves:
            os.replace(temporary, target)


class _Workbook:
    """An .xlsx workbook written in openpyxl's write-only mode (rows go to temporary
    files as they are added), a sheet per kind."""

    def __init__(self) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        self.book = Workbook(write_only=True)
        self._bold = Font(bold=True)
        self._sheets = {kind: self.book.create_sheet(kind) for kind in KINDS}
        self._value_column: dict[str, int] = {}
        for sheet in self._sheets.values():
            sheet.freeze_panes = "A2"

    def head(self, kind: str, columns: list[str]) -> None:
        sheet = self._sheets[kind]
        sheet.append([text_cell(sheet, name, self._bold) for name in columns])
        self._value_column[kind] = columns.index("value") if "value" in columns else -1

    def add(self, kind: str, row: list[str]) -> None:
        sheet, value_column = self._sheets[kind], self._value_column[kind]
        cells: list[Any] = []
        for index, text in enumerate(row):
            number = number_cell(text) if index == value_column and text else None
            if number is not None:
                cells.append(number)
            elif needs_text_type(text):
                cells.append(text_cell(sheet, text))
            else:
                cells.append(text)
        sheet.append(cells)


class _Counted:
    """A sink that counts the data rows each kind gets."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.rows = dict.fromkeys(KINDS, 0)

    def head(self, kind: str, columns: list[str]) -> None:
        self.sink.head(kind, columns)

    def add(self, kind: str, row: list[str]) -> None:
        self.rows[kind] += 1
        self.sink.add(kind, row)


@contextmanager
def _ledger_from(source: Any) -> Iterator[Ledger]:
    if isinstance(source, Ledger):
        yield source
        return
    if isinstance(getattr(source, "ledger", None), Ledger):  # a projections System
        yield source.ledger
        return
    data_dir = resolve_data_dir(source)
    if os.environ.get("PERSISTENCE_MODULE", "eventsourcing.sqlite") == "eventsourcing.sqlite" and not (
        data_dir / EVENTS_DB
    ).exists():
        # Opening would create an empty store: a mistyped --data-dir must not look like success.
        raise ExportError(f"No event store at {data_dir / EVENTS_DB}: nothing to export.")
    ledger = open_ledger(data_dir)
    try:
        yield ledger
    finally:
        ledger.close()


def export(source: Any, out_path: str | os.PathLike[str]) -> ExportResult:
    """Write the ledger in `source` (a data directory, a Ledger, or an object with a
    `.ledger`) to `out_path`: an .xlsx workbook, or else a folder of CSV files."""
    out = Path(out_path)
    suffix = out.suffix.lower()
    if suffix in (".csv", ".xls", ".xlsm"):
        raise ExportError(
            f"{out.name}: export writes a folder of CSV files or an .xlsx workbook. "
            "Give a folder name, or a name ending in .xlsx."
        )
    if suffix != ".xlsx" and out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file: give a folder for the CSV files, or a name ending in .xlsx.")
    if suffix == ".xlsx" and not out.parent.is_dir():
        raise ExportError(f"There is no folder {out.parent} to write {out.name} in.")
    with _ledger_from(source) as ledger:
        if suffix == ".xlsx":
            workbook = _Workbook()
            counted = _Counted(workbook)
            position = _export(ledger, counted)
            with _replacing(out) as temporary:
                workbook.book.save(temporary)
        else:
            with ExitStack() as stack:
                folder = _CsvFolder(out, stack)
                counted = _Counted(folder)
                position = _export(ledger, counted)
                folder.finish(stack.pop_all())
    return ExportResult(out, counted.rows, position)
