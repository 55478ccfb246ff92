"""indicators.csv: an indicator's definition and its values per period and breakdown.

The first row naming an indicator defines it, or corrects the ledger's definition (a
restatement, recorded with the import as its reason); its other rows must agree."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain import Indicator, parse_number
from ledger.transfer.kinds.base import Applied, Applying, Kind, RowCells, Unique, fixed_values, same_spelling
from ledger.transfer.results import Outcome
from ledger.transfer.table import Row, key


@dataclass(slots=True)
class IndicatorRow(Row):
    ref: str
    name: str
    unit: str
    better: str | None  # None: the file has no better column (a new indicator: neither)
    description: str | None  # None: the file has no description column
    period: str  # "" with value "": the row only defines the indicator
    breakdown: str
    value: str
    reason: str


def check(v: RowCells) -> IndicatorRow | None:
    programme = v.programme()
    if programme is None:
        return None
    ref = v.required("ref", "Enter the indicator's ref, like FTE.")
    name = v.required("name", f"Enter a name for indicator {ref}." if ref else "Enter a name.")
    raw_period, raw_value = v.raw("period"), v.raw("value")
    period = v.period(programme) if raw_period or raw_value else ""
    if raw_period and not raw_value:
        v.fail("value", "Enter a value (or leave the period empty too, to only define the indicator).")
    value = v.check("value", parse_number) if raw_value else ""
    if v.bad:
        return None
    return IndicatorRow(
        v.table, v.number, programme.slug, ref, name, v.raw("unit"),
        v.raw("better").lower() or "neither" if "better" in v.table.columns else None,
        v.raw("description") if "description" in v.table.columns else None,
        period, v.raw("breakdown"), value, v.raw("reason"),
    )


def unique(row: IndicatorRow) -> Unique:
    what = f"a value of {row.ref} for {row.period or 'no period'}" + (
        f" ({row.breakdown})" if row.breakdown else ""
    )
    return Unique((key(row.programme), key(row.ref), row.period, row.breakdown.casefold()), "period", what)


def apply(applier: Applying, row: IndicatorRow) -> Applied:
    programme = applier.batch.programme(row.programme)
    indicator_id = Indicator.create_id(programme.id, row.ref)
    existing = applier.batch.find(Indicator, indicator_id)
    outcome = Outcome.CHANGED
    if existing is None:
        applier.ledger.define_indicator(
            row.programme, row.ref, name=row.name, unit=row.unit, better=row.better or "neither",
            description=row.description or "", **applier.command_kwargs(applier.reason(row)),
        )
        outcome = Outcome.NEW
    else:
        same_spelling(row.ref, existing.ref)
        wanted = {
            "name": row.name, "unit": row.unit,
            "better": existing.better if row.better is None else row.better,
            "description": existing.description if row.description is None else row.description,
        }
        if indicator_id in applier.defined:
            # Defined or redefined by an earlier row of this import: the rest must agree.
            fixed_values(
                f"Indicator {existing.ref} is defined by an earlier row of this import",
                [(column, getattr(existing, column), value) for column, value in wanted.items()],
            )
        else:  # the first row this import names it on may correct its definition
            applier.ledger.redefine_indicator(
                row.programme, row.ref, **wanted, **applier.command_kwargs(applier.reason(row, row.reason)),
            )
    applier.defined.add(indicator_id)
    if row.period:
        indicator = applier.batch.find(Indicator, indicator_id)
        assert indicator is not None  # defined above if it was not already
        first = f"{row.period}|{row.breakdown}" not in indicator.values
        applier.ledger.record_indicator_value(
            row.programme, row.ref, period=row.period, value=row.value, breakdown=row.breakdown,
            **applier.command_kwargs(row.reason if first else applier.reason(row, row.reason)),
        )
        outcome = Outcome.NEW if first else outcome
    return Applied(indicator_id, outcome)


INDICATORS = Kind(
    "indicators",
    ("programme", "ref", "name", "unit", "better", "period", "breakdown", "value", "reason"),
    check, apply, unique, optional=("description",), may_omit=("better", "reason"),
)
