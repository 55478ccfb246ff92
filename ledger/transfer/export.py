"""Export the ledger in the import format (docs/import-format.md): a folder of CSV files,
or one .xlsx workbook when the path ends in .xlsx. Importing an export into an empty data
directory gives the same programmes, items, status history, risks, dependencies,
indicator values and narratives.

Source: the event log itself, replayed through the domain model up to the position it
had when the export began (`select_notifications` + `mapper.to_domain_event` + each
event's own `mutate`). That needs nothing from the projections and reads exactly what
an import would compare against. Statuses are exported as their full history (one row
per recorded update, corrections marked), risks one row per period; everything else as
its current state.

Every cell passes the one formula-injection guard in `ledger.transfer.cells`.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

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
from ledger.transfer.cells import needs_text_type, number_cell, protect_csv, text_cell
from ledger.transfer.grid import history_grid, retirement_rows
from ledger.transfer.kinds import KINDS, header, scale_key
from ledger.transfer.kinds.scale_changes import scale_change_rows
from ledger.transfer.kinds.scales import scale_rows

PAGE = 1_000  # notifications read per query


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
class _Replay:
    """The ledger's state rebuilt from its events, in the order things were created."""

    aggregates: dict[UUID, Aggregate]
    status_history: dict[UUID, list[Any]]  # item id -> StatusRecorded/StatusCorrected events
    last_reason: dict[UUID, str]
    value_reason: dict[tuple[UUID, str], str]  # (indicator id, "period|breakdown") -> reason
    risk_reason: dict[tuple[UUID, str], str]  # (risk id, period) -> its latest event's reason
    position: int
    retirements: dict[UUID, list[Any]] = field(default_factory=dict)  # item id -> Retired/Reinstated
    # programme id -> each change of scale, with the scale's id before it
    scale_changes: dict[UUID, list[tuple[Any, str]]] = field(default_factory=dict)


def _replay(ledger: Ledger) -> _Replay:
    stop = ledger.get_log_position()  # a consistent cut, even while others write
    state = _Replay({}, {}, {}, {}, {}, stop)
    position = 0
    while position < stop:
        page = ledger.recorder.select_notifications(position, PAGE, stop=stop, inclusive_of_start=False)
        if not page:
            break
        for notification in page:
            event: Any = ledger.mapper.to_domain_event(notification)
            originator = event.originator_id
            name = type(event).__name__
            if name in ("ScaleChanged", "ScaleRemapped"):
                before = scale_key(state.aggregates[originator].scale)
                state.scale_changes.setdefault(originator, []).append((event, before))
            state.aggregates[originator] = event.mutate(state.aggregates.get(originator))
            state.last_reason[originator] = getattr(event, "reason", "")
            if name in ("StatusRecorded", "StatusCorrected"):
                state.status_history.setdefault(originator, []).append(event)
            elif name in ("Retired", "Reinstated"):
                state.retirements.setdefault(originator, []).append(event)
            elif isinstance(state.aggregates[originator], Risk) and hasattr(event, "period"):
                state.risk_reason[(originator, event.period)] = event.reason
            elif name in ("ValueRecorded", "ValueCorrected"):
                state.value_reason[(originator, f"{event.period}|{event.breakdown}")] = event.reason
        position = page[-1].id
    return state


def snapshot(ledger: Ledger) -> tuple[dict[str, list[list[str]]], int]:
    """Rows per kind, each table's header first, and the log position they reflect."""
    state = _replay(ledger)
    of = state.aggregates
    tables: dict[str, list[list[str]]] = {kind: [] for kind in KINDS}
    items: list[Item] = []

    def slug(aggregate: Any) -> str:
        return of[aggregate.programme_id].slug

    for aggregate in of.values():
        match aggregate:
            case StatusScale():
                tables["scales"].extend(scale_rows(aggregate.scale, state.last_reason[aggregate.id]))
            case Programme():
                contact = aggregate.contact
                tables["programmes"].append([
                    aggregate.slug, aggregate.name, aggregate.cadence, scale_key(aggregate.scale),
                    "yes" if aggregate.requires_mitigation else "no", aggregate.description,
                    contact.get("name", ""), contact.get("phone", ""), contact.get("email", ""),
                ])
                tables["periods"].extend([aggregate.slug, *period, ""] for period in aggregate.periods)
            case Item():
                tables["items"].append([
                    slug(aggregate), aggregate.ref, aggregate.kind, aggregate.title,
                    aggregate.parent_ref, aggregate.lead_officer, aggregate.committee,
                    aggregate.due_date, "; ".join(aggregate.indicators),
                ])
                items.append(aggregate)
                tables["retirements"].extend(
                    retirement_rows(state.retirements.get(aggregate.id, []), slug(aggregate), aggregate.ref)
                )
                for e in state.status_history.get(aggregate.id, []):
                    tables["statuses"].append([
                        slug(aggregate), aggregate.ref, e.period, e.status, e.update, e.mitigation,
                        e.reason, "yes" if type(e).__name__ == "StatusCorrected" else "",
                    ])
            case Risk():  # one row per period, so the history and closures round-trip
                for row in aggregate.history(of[aggregate.programme_id]):
                    tables["risks"].append([
                        slug(aggregate), aggregate.ref, aggregate.kind, row.period,
                        aggregate.description, aggregate.owner,
                        *(row.rating if row.rated else NO_RATING),  # a period only closed or reopened
                        "open" if row.is_open else "closed",
                        state.risk_reason.get((aggregate.id, row.period), ""),
                    ])
            case Dependency():
                tables["dependencies"].append([
                    slug(aggregate), aggregate.ref, aggregate.period, aggregate.description,
                    aggregate.owner, aggregate.plan_agreed, aggregate.confidence,
                    state.last_reason[aggregate.id], aggregate.provider, aggregate.receiver,
                    *aggregate.provider_view, *aggregate.receiver_view,
                ])
            case Indicator():
                definition = [
                    slug(aggregate), aggregate.ref, aggregate.name, aggregate.unit, aggregate.better
                ]
                if not aggregate.values:  # defined, nothing measured yet
                    tables["indicators"].append([*definition, "", "", "", "", aggregate.description])
                for key, current in aggregate.values.items():
                    period, breakdown = key.split("|", 1)
                    tables["indicators"].append([
                        *definition, period, breakdown, current["value"],
                        state.value_reason.get((aggregate.id, key), ""), aggregate.description,
                    ])
            case Narrative():
                for section in NARRATIVE_SECTIONS:
                    text = aggregate.sections.get(section, "")
                    if text:
                        tables["narratives"].append([slug(aggregate), aggregate.period, section, text])
    for programme_id, changes in state.scale_changes.items():
        rated = [(e.timestamp, e.period) for item in items if item.programme_id == programme_id
                 for e in state.status_history.get(item.id, [])]
        tables["scale_changes"].extend(scale_change_rows(of[programme_id], changes, rated))
    grid_header, tables["history"] = history_grid(items, slug, lambda item: of[item.programme_id].calendar)
    headed = {kind: [header(kind), *rows] for kind, rows in tables.items()}
    headed["history"][0] = grid_header
    return headed, state.position


# --------------------------------------------------------------------------- writing


@contextmanager
def _replacing(target: Path) -> Iterator[Path]:
    """A temporary file beside `target` that replaces it only once fully written."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _write_csv_folder(folder: Path, tables: dict[str, list[list[str]]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, rows in tables.items():
        # UTF-8 with a BOM: Excel then opens £ and curly quotes correctly. The file is
        # closed before it replaces the old one (contexts exit in reverse).
        with (
            _replacing(folder / f"{kind}.csv") as temporary,
            temporary.open("w", encoding="utf-8-sig", newline="") as handle,
        ):
            writer = csv.writer(handle)
            writer.writerows([protect_csv(cell) for cell in row] for row in rows)


def _write_workbook(path: Path, tables: dict[str, list[list[str]]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for kind, rows in tables.items():
        sheet = book.create_sheet(kind)
        sheet.freeze_panes = "A2"
        columns, *rows = rows
        sheet.append([text_cell(sheet, name, bold) for name in columns])
        value_column = columns.index("value") if "value" in columns else -1
        for row in rows:
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
    with _replacing(path) as temporary:
        book.save(temporary)


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
    with _ledger_from(source) as ledger:
        tables, position = snapshot(ledger)
    if suffix == ".xlsx":
        if not out.parent.is_dir():
            raise ExportError(f"There is no folder {out.parent} to write {out.name} in.")
        _write_workbook(out, tables)
    else:
        _write_csv_folder(out, tables)
    return ExportResult(out, {kind: len(rows) - 1 for kind, rows in tables.items()}, position)
