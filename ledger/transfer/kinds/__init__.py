"""The import kinds, in the order a file's tables apply (a programme before its items,
an item before its statuses). Each module holds its kinds' columns, typed rows, checks
and how a row is applied through the ledger's commands: add a column there."""

from __future__ import annotations

from ledger.transfer.kinds.base import Kind
from ledger.transfer.kinds.indicators import INDICATORS, IndicatorRow
from ledger.transfer.kinds.items import ITEMS, STATUSES, ItemRow, StatusRow
from ledger.transfer.kinds.narratives import NARRATIVES, NarrativeRow
from ledger.transfer.kinds.periods import PERIODS, PeriodRow
from ledger.transfer.kinds.programmes import PROGRAMMES, ProgrammeRow, scale_key
from ledger.transfer.kinds.register import (
    FOOTNOTES,
    HISTORY,
    RETIREMENTS,
    FootnoteRow,
    HistoryRow,
    RetirementRow,
)
from ledger.transfer.kinds.risks import DEPENDENCIES, RISKS, DependencyRow, RiskRow
from ledger.transfer.kinds.scale_changes import SCALE_CHANGES, ScaleChangeRow
from ledger.transfer.kinds.scales import SCALES, ScaleRow
from ledger.transfer.table import Row

# Periods after their programme, before anything rated in them. Retirements before
# statuses: a status in a retired period is refused, one after a reinstatement is not.
# Footnotes before the history grid whose markers they declare. A change of scale after
# the periods it is made from, before the statuses read on the scale of their period.
ALL: tuple[Kind, ...] = (
    SCALES, PROGRAMMES, PERIODS, SCALE_CHANGES, ITEMS, RETIREMENTS, STATUSES, FOOTNOTES, HISTORY, RISKS,
    DEPENDENCIES, INDICATORS, NARRATIVES,
)
BY_NAME: dict[str, Kind] = {kind.name: kind for kind in ALL}
KINDS = tuple(BY_NAME)
COLUMNS: dict[str, tuple[str, ...]] = {kind.name: kind.columns for kind in ALL}
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {kind.name: kind.optional for kind in ALL if kind.optional}
ROW_TYPES: dict[str, type[Row]] = {
    "scales": ScaleRow, "programmes": ProgrammeRow, "items": ItemRow, "statuses": StatusRow, "risks": RiskRow,
    "dependencies": DependencyRow, "indicators": IndicatorRow, "narratives": NarrativeRow,
    "retirements": RetirementRow, "footnotes": FootnoteRow, "history": HistoryRow, "periods": PeriodRow,
    "scale_changes": ScaleChangeRow,
}


def header(kind: str) -> list[str]:
    """Every column of `kind`, as export and the template write them."""
    return [*COLUMNS[kind], *OPTIONAL_COLUMNS.get(kind, ())]


__all__ = [
    "ALL", "BY_NAME", "COLUMNS", "KINDS", "OPTIONAL_COLUMNS", "ROW_TYPES", "Kind", "header", "scale_key",
]
