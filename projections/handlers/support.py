"""What every read model's handlers share: finding a record's subject and programme,
periods (noted in the periods table on first use), and statuses on a programme's scale."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

from ledger.errors import InvalidPeriod
from ledger.periods import Calendar, Period, calendar_for
from ledger.scales import DEFAULT_COLOURS, Scale
from projections.schema import NOT_RATED
from projections.state import Row, State

# A domain event (ledger.domain): handlers read its attributes by name.
Event = Any


@dataclass(frozen=True)
class PeriodInfo:
    label: str
    start: str
    end: str
    previous: str
    next: str
    description: str


@lru_cache(maxsize=4096)
def period_info(label: str, cadence: str | Calendar) -> PeriodInfo:
    period = Period.parse(label, cadence)
    return PeriodInfo(
        label=period.label,
        start=period.sort_key,
        end=period.end.isoformat(),
        previous=_neighbour(period.previous),
        next=_neighbour(period.next),
        description=period.description,
    )


def _neighbour(step: Callable[[], Period]) -> str:
    """The period before or after; empty past either end of the periods a programme defines."""
    try:
        return step().label
    except InvalidPeriod:
        return ""


def calendar_of(programme: Row) -> Calendar:
    """A programme row's calendar: its cadence, or the periods it defines."""
    return calendar_for(programme["cadence"], programme.get("periods"))


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=isinstance(value, dict))


def find_subject(state: State, aggregate_id: UUID | str) -> Row:
    subject = state.get("subjects", aggregate_id if isinstance(aggregate_id, str) else str(aggregate_id))
    if subject is None:
        raise LookupError(f"No record {aggregate_id} in the read model")
    return subject


def find_record(
    state: State, table: str, aggregate_id: UUID | str, what: str, *, by_kind: bool = False
) -> Row:
    """The row in `table` of the record `aggregate_id` names, keyed by programme and ref
    (and by kind, for risks and issues, which the subject's kind then names)."""
    subject = find_subject(state, aggregate_id)
    if by_kind:
        what = subject["kind"]
        row = state.get(table, subject["programme"], what, subject["ref"])
    else:
        row = state.get(table, subject["programme"], subject["ref"])
    if row is None:
        raise LookupError(f"No {what} {subject['ref']!r} in the read model")
    return row


def find_programme(state: State, programme: str) -> Row:
    row = state.get("programmes", programme)
    if row is None:
        raise LookupError(f"No programme {programme!r} in the read model")
    return row


def programme_of(state: State, programme_id: UUID | str) -> Row:
    return find_programme(state, find_subject(state, programme_id)["programme"])


def note_period(state: State, programme: Row, label: str) -> PeriodInfo:
    """The period's dates; the periods table gets its row on first use."""
    info = period_info(label, calendar_of(programme))
    if state.get("periods", programme["programme"], label) is None:
        state.put(
            "periods",
            {
                "programme": programme["programme"],
                "period": label,
                "period_start": info.start,
                "period_end": info.end,
                "description": info.description,
            },
        )
    return info


def status_rows(programme: str, scale: dict[str, Any]) -> list[Row]:
    """The statuses table's rows for a scale, in its order."""
    return [
        {
            "programme": programme,
            "status": s.name,
            "category": s.band,
            "rank": s.rank,
            "sort_order": i,
            "description": s.description,
            "aliases": json_text(list(s.aliases)),
            "status_category": s.category.value,
            "status_group": s.group,
            "colour": s.shown_colour,
            "needs_mitigation": int(s.mitigation_needed),
        }
        for i, s in enumerate(Scale.from_dict(scale).statuses)
    ]


def status_on_scale(state: State, programme: str, name: str, period_start: str = "") -> Row:
    """The status's place on the programme's scale in force ('' is Not rated), or for a
    period before a change of scale made from a later period, on the scale before it."""
    if name:
        row = state.get("statuses", programme, name)
        if row is not None:
            return row
        found = find_programme(state, programme)
        for start, scale in json.loads(found.get("earlier_scales") or "[]") if period_start else []:
            if period_start < start:
                row = next((r for r in status_rows(programme, scale) if r["status"] == name), None)
                if row is not None:
                    return row
    return {
        "status": name or NOT_RATED, "category": "unrated", "rank": None, "sort_order": 1000,
        "status_category": "not rated", "status_group": "", "colour": DEFAULT_COLOURS["unrated"],
    }


def subject_row(event: Event, aggregate_kind: str, programme: str | None, ref: str, **extra: str) -> Row:
    return {
        "aggregate_id": str(event.originator_id),
        "aggregate_kind": aggregate_kind,
        "programme": programme,
        "ref": ref,
        "kind": extra.get("kind"),
        "period": extra.get("period"),
    }
