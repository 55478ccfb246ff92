"""What a dry run tells someone loading a council's workbook for the first time (issue 11
item 9): the statuses it uses that are not on their programme's scale, with every cell
using each, so the scale can be defined first; the periods it covers; and what it would
record: new and changed rows by kind with their refs, and each period already recorded
that it would restate (give another status)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ledger.application import Batch, Ledger, StatusHistory
from ledger.domain import Item, Programme
from ledger.transfer.importing import Prepared
from ledger.transfer.kinds import HistoryRow
from ledger.transfer.kinds.items import StatusRow
from ledger.transfer.kinds.scales import ScaleRow
from ledger.transfer.results import ImportResult, Outcome, Problem, plural
from ledger.transfer.table import Row

SHOWN = 20  # refs or cells listed per line before "and N more"


@dataclass(frozen=True)
class Restatement:
    programme: str
    ref: str
    period: str
    recorded: str  # the status in force before this import ("" = not rated)
    status: str  # what the file says


@dataclass(frozen=True)
class Preview:
    unknown_statuses: dict[tuple[str, str], list[str]]  # (programme, status) -> cells using it
    periods: dict[str, list[str]]  # programme -> the periods the file names, in order
    new: dict[str, list[str]]  # kind -> refs (or programmes) of rows that would be new
    changed: dict[str, list[str]]
    restated: list[Restatement]

    def lines(self) -> list[str]:
        """The report as printed by `govledger import --dry-run`."""
        out: list[str] = []
        if self.unknown_statuses:
            out.append("Statuses not on the programme's scale (define them in scales.csv first):")
            for (programme, status), cells in self.unknown_statuses.items():
                out.append(f"  {programme}: {status!r} in {plural(len(cells), 'cell')}: {_some(cells)}")
        for programme, periods in self.periods.items():
            out.append(f"Periods for {programme} ({len(periods):,}): {_some(periods)}")
        for what, by_kind in (("new", self.new), ("changed", self.changed)):
            for kind, refs in by_kind.items():
                out.append(f"Would be {what} in {kind}: {len(refs):,} ({_some(refs)})")
        if self.restated:
            out.append(f"Would restate {plural(len(self.restated), 'period')} already recorded:")
            for r in self.restated:
                before, after = r.recorded or "not rated", r.status or "not rated"
                out.append(f"  {r.programme} {r.ref} {r.period}: {before} -> {after}")
        return out


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown if len(names) <= SHOWN else f"{shown} and {len(names) - SHOWN:,} more"


def preview(ledger: Ledger, prepared: Prepared, result: ImportResult) -> Preview:
    """The onboarding report for `prepared`, checked (and dry-run recorded) as `result`."""
    checked = prepared.checked
    unknown = {key: [_cell(p) for p in cells] for key, cells in checked.unknown_statuses.items()}
    periods = {slug: sorted(labels) for slug, labels in sorted(checked.periods.items())}
    rows = {(r.table.file, r.table.sheet, r.number): r for r in checked.rows}
    new: dict[str, list[str]] = {}
    changed: dict[str, list[str]] = {}
    for outcome in result.rows:
        into = {Outcome.NEW: new, Outcome.CHANGED: changed}.get(outcome.outcome)
        row = rows.get((outcome.file, outcome.sheet, outcome.row))
        if into is not None and row is not None:
            names = into.setdefault(outcome.kind, [])
            name = _name(row)
            if name not in names:
                names.append(name)
    return Preview(unknown, periods, new, changed, _restatements(ledger, checked.rows))


def _cell(problem: Problem) -> str:
    """Where a cell is, as problems name it: "statuses.csv row 7, column status"."""
    return str(problem)[: -len(problem.message) - 2]


def _name(row: Row) -> str:
    """What a row is about, in the file's words: a ref, a scale, or a programme (and period)."""
    if isinstance(row, ScaleRow):
        return row.scale
    return str(getattr(row, "ref", "") or " ".join(filter(None, (row.programme, getattr(row, "period", "")))))


def _restatements(ledger: Ledger, rows: list[Row]) -> list[Restatement]:
    """Each period the ledger holds a status for that a status row or grid cell changes."""
    batch = Batch(ledger)
    histories: dict[UUID, StatusHistory | None] = {}
    found: list[Restatement] = []
    for row in rows:
        if isinstance(row, StatusRow):
            cells = [(row.period, row.status)]
        elif isinstance(row, HistoryRow):
            cells = [(period, value) for period, _, what, value in row.cells if what == "status"]
        else:
            continue
        item_id = Item.create_id(Programme.create_id(row.programme), row.ref)
        if item_id not in histories:
            histories[item_id] = ledger.get_status_history(item_id, batch)
        recorded = histories[item_id] or {}
        for period, status in cells:
            if period in recorded and recorded[period][-1][0] != status:
                found.append(Restatement(row.programme, row.ref, period, recorded[period][-1][0], status))
    return found
