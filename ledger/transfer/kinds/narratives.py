"""narratives.csv: the report's narrative sections for a programme and period."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain import NARRATIVE_SECTIONS, Narrative
from ledger.errors import InvalidValue
from ledger.transfer.kinds.base import UNCHANGED, Applied, Applying, Kind, RowCells, Unique
from ledger.transfer.results import Outcome
from ledger.transfer.table import Row, column_key, key

# A section by its key or by its heading in the report ("Recent achievements").
_SECTIONS = {
    **{k: k for k in NARRATIVE_SECTIONS},
    **{column_key(heading): k for k, heading in NARRATIVE_SECTIONS.items()},
}


@dataclass(slots=True)
class NarrativeRow(Row):
    period: str
    section: str
    text: str


def section(text: str) -> str:
    found = _SECTIONS.get(column_key(text))
    if found is None:
        raise InvalidValue(
            f"{text!r} is not a report section: use one of {', '.join(NARRATIVE_SECTIONS)}."
        )
    return found


def check(v: RowCells) -> NarrativeRow | None:
    programme = v.programme()
    if programme is None:
        return None
    period = v.period(programme)
    chosen = v.check("section", section)
    if v.bad:
        return None
    return NarrativeRow(v.table, v.number, programme.slug, period, chosen, v.raw("text"))


def unique(row: NarrativeRow) -> Unique:
    return Unique((key(row.programme), row.period, row.section), "section",
                  f"section {row.section!r} for {row.period}")


def apply(applier: Applying, row: NarrativeRow) -> Applied:
    programme = applier.batch.programme(row.programme)
    narrative_id = Narrative.create_id(programme.id, row.period)
    existing = applier.batch.find(Narrative, narrative_id)
    before = existing.sections.get(row.section) if existing else None
    if before is None and not row.text:
        return UNCHANGED  # an empty section never written: no empty narrative to start
    applier.ledger.write_narrative(
        row.programme, period=row.period, section=row.section, text=row.text,
        **applier.command_kwargs("" if before is None else applier.reason(row)),
    )
    return Applied(narrative_id, Outcome.NEW if before is None else Outcome.CHANGED)


NARRATIVES = Kind("narratives", ("programme", "period", "section", "text"), check, apply, unique)
