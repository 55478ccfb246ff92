"""periods.csv: the reporting periods a programme on the custom cadence defines, one row
per period (name, first day, last day). A file's rows for a programme define its periods
whole; the rows of later kinds in the same file are then read in those periods."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import LedgerError
from ledger.periods import Cadence, Calendar
from ledger.transfer.kinds.base import Applied, Applying, Kind, RowCells, Unique
from ledger.transfer.results import Outcome
from ledger.transfer.table import Row, key


@dataclass(slots=True)
class PeriodRow(Row):
    period: str
    start: str
    end: str
    # Every period the file defines for the programme (complete once every row is checked).
    defined: list[list[str]]
    reason: str

    spooled = False  # `defined` fills up as later rows are checked


def check(v: RowCells) -> PeriodRow | None:
    programme = v.programme()
    if programme is None:
        return None
    if programme.cadence != Cadence.CUSTOM.value:
        v.fail("programme", f"{programme.slug} reports {programme.cadence}: only a programme on the "
               "custom cadence defines its own periods (its cadence in programmes.csv is custom).")
        return None
    name = v.required("period", "Enter the period's name, like 2024/25 P2.")
    start = v.required("start", "Enter the period's first day, like 2024-04-01.")
    end = v.required("end", "Enter the period's last day, like 2024-07-31.")
    if v.bad:
        return None
    defined = v.checker.defined_periods.setdefault(key(programme.slug), [])
    try:  # each row is checked against the rows before it: overlaps, repeats, bad dates
        Calendar.of(Cadence.CUSTOM, [*defined, [name, start, end]])
    except LedgerError as error:
        v.fail(error.field or "period", str(error))
        return None
    defined.append([name, start, end])
    return PeriodRow(v.table, v.number, programme.slug, name, start, end, defined, v.raw("reason"))


def unique(row: PeriodRow) -> Unique:
    return Unique((key(row.programme), " ".join(row.period.split()).casefold()), "period",
                  f"period {row.period!r}")


def apply(applier: Applying, row: PeriodRow) -> Applied:
    """The first row of a programme defines all its file's periods; the rest record nothing."""
    programme = applier.batch.programme(row.programme)
    first = not programme.periods
    applier.ledger.define_periods(
        row.programme, row.defined, actor=applier.actor,
        reason=row.reason if first else applier.reason(row, row.reason), batch=applier.batch,
    )
    return Applied(programme.id, Outcome.NEW if first else Outcome.CHANGED)


PERIODS = Kind(
    "periods", ("programme", "period", "start", "end"), check, apply, unique, optional=("reason",),
)
