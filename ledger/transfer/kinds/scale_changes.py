"""scale_changes.csv: each change of a programme's status scale, effective from a period
(issue 11 item 2). Periods before it keep the scale they were rated on, so a ledger's
export with a change of scale imports into an empty data directory: the programme is
registered on the scale it began with, the change is recorded from its period, and
every period's statuses are read on the scale of their own period, in any order."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from ledger.domain import Programme
from ledger.errors import InvalidValue, LedgerError
from ledger.scales import Scale
from ledger.transfer.kinds.base import UNCHANGED, Applied, Applying, Kind, RowCells, Unique
from ledger.transfer.kinds.programmes import scale_key
from ledger.transfer.results import Outcome
from ledger.transfer.table import Row, key

ARROW = "->"


@dataclass(slots=True)
class ScaleChangeRow(Row):
    from_period: str
    from_scale: str
    scale: str
    mapping: dict[str, str] | None  # old status -> new; None: no mapping given
    reason: str


def parse_mapping(text: str) -> dict[str, str] | None:
    """"Achieved -> Complete; Not achieved -> Red" -> {old: new}; empty -> None."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        old, arrow, new = part.partition(ARROW)
        if not arrow or not old.strip() or not new.strip():
            raise InvalidValue(
                f"{part!r} does not map a status: write it like 'Achieved -> Complete' "
                "(several separated by ';')."
            )
        mapping[old.strip()] = new.strip()
    return mapping or None


def mapping_text(mapping: dict[str, str]) -> str:
    return "; ".join(f"{old} {ARROW} {new}" for old, new in mapping.items())


def check(v: RowCells) -> ScaleChangeRow | None:
    programme = v.programme()
    if programme is None:
        return None
    from_period = v.check("from_period", lambda text: v.checker.period(programme, text))
    from_scale: Scale | None = v.check("from_scale", v.checker.scale)
    scale: Scale | None = v.check("scale", v.checker.scale)
    mapping = v.check("mapping", parse_mapping)
    reason = v.required("reason", "Enter why the scale changed.")
    if v.bad or from_scale is None or scale is None:
        return None
    # A programme new in this file is registered on the scale it began with, and the
    # statuses of the periods before the change are read on that scale.
    v.checker.scale_began(programme.slug, from_scale)
    return ScaleChangeRow(
        v.table, v.number, programme.slug, from_period, scale_key(from_scale), scale_key(scale),
        mapping or None, reason,
    )


def unique(row: ScaleChangeRow) -> Unique:
    return Unique((key(row.programme), row.from_period), "from_period", f"a change from {row.from_period}")


def apply(applier: Applying, row: ScaleChangeRow) -> Applied:
    programme_id = Programme.create_id(row.programme)
    # Recorded already (this ledger's own export): a change from the same scale to the same one.
    scales = [scale_key(Scale.from_dict(e.scale)) for e in applier.ledger.events.get(programme_id)
              if isinstance(getattr(e, "scale", None), dict)]
    if (row.from_scale, row.scale) in pairwise(scales):
        return UNCHANGED
    applier.ledger.change_scale(
        row.programme, row.scale, mapping=row.mapping, from_period=row.from_period,
        **applier.command_kwargs(row.reason),
    )
    return Applied(programme_id, Outcome.NEW)


SCALE_CHANGES = Kind(
    "scale_changes", ("programme", "from_period", "from_scale", "scale", "mapping", "reason"),
    check, apply, unique,
)


class ScaleChangeRows:
    """Export's rows for one programme's changes of scale, given (event, scale before) for
    each and then, one at a time, (when recorded, period) of every status of its items, so
    an export never holds them all. A change made before changes had a period is from the
    earliest period rated after it, or the one it was made in."""

    def __init__(self, programme: Programme, changes: list[tuple[Any, str]]) -> None:
        self.programme = programme
        self.changes = changes
        # per change with no period of its own: the earliest period rated after it so far
        self.earliest: list[str | None] = [None] * len(changes)
        self._open = [i for i, (event, _) in enumerate(changes) if not getattr(event, "from_period", "")]

    def rated(self, when: datetime, label: str) -> None:
        for i in self._open:
            if when > self.changes[i][0].timestamp:
                self._earlier(i, label)

    def _earlier(self, i: int, label: str) -> None:
        current = self.earliest[i]  # ties keep the first met, as min() does
        if current is None or self.programme.period_order(label) < self.programme.period_order(current):
            self.earliest[i] = label

    def rows(self) -> list[list[str]]:
        rows = []
        for i, (event, before) in enumerate(self.changes):
            period = getattr(event, "from_period", "")
            if not period:
                with suppress(LedgerError):  # a custom calendar with no periods yet
                    self._earlier(i, self.programme.calendar.containing(event.timestamp.date()).label)
                period = self.earliest[i] or ""
            rows.append([
                self.programme.slug, period, before, scale_key(Scale.from_dict(event.scale)),
                mapping_text(getattr(event, "mapping", {})), event.reason,
            ])
        return rows
