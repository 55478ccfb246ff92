"""Indicators and their values per period: indicator_definitions and indicators."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.domain import describe_event
from projections.handlers.support import (
    Event,
    find_programme,
    find_record,
    note_period,
    programme_of,
    subject_row,
)
from projections.state import Change, Handler, Row, State


def _indicator_definition(state: State, indicator_id: UUID | str) -> Row:
    return find_record(state, "indicator_definitions", indicator_id, "indicator")


def _movement(better: str, value: str, previous: Row | None) -> dict[str, Any]:
    if previous is None:
        return {"previous_value": None, "change": None, "direction": None}
    change = Decimal(value) - Decimal(previous["value_text"])
    if change == 0 or better == "neither":
        direction = "neutral"
    elif (change > 0) == (better == "higher"):
        direction = "good"
    else:
        direction = "bad"
    return {"previous_value": previous["value"], "change": float(change), "direction": direction}


def indicator_defined(e: Event, state: State) -> Change:
    slug = programme_of(state, e.programme_id)["programme"]
    state.put(
        "indicator_definitions",
        {
            "programme": slug,
            "ref": e.ref,
            "name": e.name,
            "unit": e.unit,
            "better": e.better,
            "description": e.description,
            "defined_at": state.recorded_at,
            "defined_by": e.actor,
            "version": e.originator_version,
        },
    )
    state.put("subjects", subject_row(e, "Indicator", slug, e.ref))
    return Change(slug, e.ref, f"defined indicator {e.ref}: {e.name}", "name", None, e.name)


def _definition_text(name: str, unit: str, better: str, description: str) -> str:
    unit = f" ({unit})" if unit else ""
    about = f": {description}" if description else ""
    return f"{name}{unit}, {better} is better{about}"


def indicator_redefined(e: Event, state: State) -> Change:
    """The definition, and every value's copy of it, with each value's direction of
    travel judged again by the new `better` (the numbers stay as they are)."""
    old = _indicator_definition(state, state.aggregate_id)
    slug, ref = old["programme"], old["ref"]
    new = {"name": e.name, "unit": e.unit, "better": e.better}
    state.put(
        "indicator_definitions",
        {**old, **new, "description": e.description, "version": e.originator_version},
    )
    for key in state.keys("indicators", slug, ref):
        row = state.get("indicators", *key)
        assert row is not None  # keys() lists only rows that are there
        previous = state.get("indicators", slug, ref, row["previous_period"], row["breakdown"])
        state.put("indicators", {**row, **new, **_movement(e.better, row["value_text"], previous)})
    before = _definition_text(old["name"], old["unit"], old["better"], old["description"])
    after = _definition_text(e.name, e.unit, e.better, e.description)
    return Change(slug, ref, describe_event(e), "definition", before, after)


def _value_recorded(e: Event, state: State, corrected: bool) -> Change:
    definition = _indicator_definition(state, state.aggregate_id)
    slug, ref = definition["programme"], definition["ref"]
    period = note_period(state, find_programme(state, slug), e.period)
    old = state.get("indicators", slug, ref, period.label, e.breakdown)
    previous = state.get("indicators", slug, ref, period.previous, e.breakdown)
    at = state.recorded_at
    row = {
        "programme": slug,
        "ref": ref,
        "name": definition["name"],
        "unit": definition["unit"],
        "better": definition["better"],
        "period": period.label,
        "period_start": period.start,
        "breakdown": e.breakdown,
        "value": float(Decimal(e.value)),
        "value_text": e.value,
        "previous_period": period.previous,
        **_movement(definition["better"], e.value, previous),
        "recorded_by": e.actor,
        "recorded_at": at,
        "restated": 1 if corrected or (old and old["restated"]) else 0,
        "restated_reason": e.reason if corrected else (old["restated_reason"] if old else ""),
        "version": e.originator_version,
        "position": state.position,
    }
    state.put("indicators", row)
    state.put("indicator_definitions", {**definition, "version": e.originator_version})
    following = state.get("indicators", slug, ref, period.next, e.breakdown)
    if following is not None:
        state.put(
            "indicators", {**following, **_movement(definition["better"], following["value_text"], row)}
        )
    breakdown = f" ({e.breakdown})" if e.breakdown else ""
    what = "value corrected to" if corrected else "value"
    return Change(
        slug,
        ref,
        f"{what} {e.value}{breakdown} for {period.label}",
        f"value{breakdown}",
        old["value_text"] if old else None,
        e.value,
        period.label,
    )


def indicator_value_recorded(e: Event, state: State) -> Change:
    return _value_recorded(e, state, corrected=False)


def indicator_value_corrected(e: Event, state: State) -> Change:
    return _value_recorded(e, state, corrected=True)


HANDLERS: dict[str, Handler] = {
    "Indicator.Defined": indicator_defined,
    "Indicator.Redefined": indicator_redefined,
    "Indicator.ValueRecorded": indicator_value_recorded,
    "Indicator.ValueCorrected": indicator_value_corrected,
}
