"""Programmes and their status scales: the programmes and statuses tables."""

from __future__ import annotations

import json
from typing import Any

from ledger.domain import describe_event
from projections.handlers.support import (
    Event,
    json_text,
    note_period,
    programme_of,
    status_rows,
    subject_row,
)
from projections.state import Change, Handler, Row, State


def _scale_text(scale: dict[str, Any]) -> str:
    return f"{scale['name']}: {', '.join(s['name'] for s in scale['statuses'])}"


def programme_registered(e: Event, state: State) -> Change:
    at = state.recorded_at
    state.put(
        "programmes",
        {
            "programme": e.slug,
            "programme_id": str(e.originator_id),
            "name": e.name,
            "cadence": e.cadence,
            "periods": None,
            "earlier_scales": "[]",
            "scale_name": e.scale["name"],
            "scale": json_text(e.scale),
            "requires_mitigation": int(bool(e.requires_mitigation)),
            "description": e.description,
            "contact": json_text(e.contact),
            "registered_at": at,
            "registered_by": e.actor,
            "updated_at": at,
            "version": e.originator_version,
        },
    )
    for row in status_rows(e.slug, e.scale):
        state.put("statuses", row)
    state.put("subjects", subject_row(e, "Programme", e.slug, e.slug))
    return Change(e.slug, e.slug, f"registered programme {e.name} ({e.cadence})", "name", None, e.name)


def _programme_changed(e: Event, state: State, **changes: Any) -> Row:
    old = programme_of(state, state.aggregate_id)
    state.put(
        "programmes", {**old, **changes, "updated_at": state.recorded_at, "version": e.originator_version}
    )
    return old


def periods_defined(e: Event, state: State) -> Change:
    """A custom-cadence programme's periods, on its row (the periods table lists those used,
    as for every cadence; a redefinition only adds periods, so no row there goes stale)."""
    text = json_text(e.periods)
    old = _programme_changed(e, state, periods=text)
    names = ", ".join(p[0] for p in e.periods)
    return Change(
        old["programme"], old["programme"], f"periods defined: {names}", "periods", old["periods"], text
    )


def _field_changed(e: Event, state: State, field: str, value: Any, summary: str = "") -> Change:
    """One column of the programme's row changed, and its audit row (values as text)."""
    old = _programme_changed(e, state, **{field: value})
    before = None if old[field] is None else str(old[field])
    slug = old["programme"]
    return Change(slug, slug, summary or describe_event(e), field, before, str(value))


def programme_renamed(e: Event, state: State) -> Change:
    return _field_changed(e, state, "name", e.name)


def programme_contact_changed(e: Event, state: State) -> Change:
    return _field_changed(e, state, "contact", json_text(e.contact), "contact details changed")


def programme_description_changed(e: Event, state: State) -> Change:
    return _field_changed(e, state, "description", e.description)


def programme_mitigation_rule_changed(e: Event, state: State) -> Change:
    return _field_changed(e, state, "requires_mitigation", int(bool(e.requires_mitigation)))


def programme_scale_changed(e: Event, state: State) -> Change:
    # A change from a period leaves the periods before it on the scale before it: kept
    # so their statuses keep their categories and order (status_on_scale).
    from_period = getattr(e, "from_period", "")
    programme = programme_of(state, state.aggregate_id)
    earlier = json.loads(programme["earlier_scales"] or "[]")
    start = note_period(state, programme, from_period).start if from_period else ""
    if start:
        earlier.append([start, json.loads(programme["scale"])])
    old = _programme_changed(
        e, state, scale_name=e.scale["name"], scale=json_text(e.scale), earlier_scales=json_text(earlier)
    )
    slug = old["programme"]
    old_scale = json.loads(old["scale"])
    new_rows = status_rows(slug, e.scale)
    kept = {row["status"] for row in new_rows}
    for status in old_scale["statuses"]:
        if status["name"] not in kept:
            state.delete("statuses", slug, status["name"])
    for row in new_rows:
        state.put("statuses", row)
    mapping = getattr(e, "mapping", {})
    state.put(
        "scale_changes",
        {
            "position": state.position,
            "programme": slug,
            "from_scale": old_scale["name"],
            "to_scale": e.scale["name"],
            "mapping": json_text(mapping),
            "from_period": from_period,
            "from_period_start": start,
            "reason": e.reason,
            "changed_by": e.actor,
            "changed_at": state.recorded_at,
        },
    )
    return Change(
        slug,
        slug,
        f"status scale changed to {e.scale['name']}" + (" (statuses mapped)" if mapping else ""),
        "scale",
        _scale_text(old_scale),
        _scale_text(e.scale),
    )


HANDLERS: dict[str, Handler] = {
    "Programme.Registered": programme_registered,
    "Programme.Renamed": programme_renamed,
    "Programme.ContactChanged": programme_contact_changed,
    "Programme.DescriptionChanged": programme_description_changed,
    "Programme.MitigationRuleChanged": programme_mitigation_rule_changed,
    "Programme.ScaleChanged": programme_scale_changed,
    "Programme.ScaleRemapped": programme_scale_changed,
    "Programme.PeriodsDefined": periods_defined,
}
