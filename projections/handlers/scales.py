"""Status scales councils define: the scales table (its current revision). Programmes'
changes of scale are in projections.handlers.programmes (scale_changes)."""

from __future__ import annotations

import json
from typing import Any

from projections.handlers.support import Event, find_subject, json_text, subject_row
from projections.state import Change, Handler, State


def _statuses_text(statuses: list[dict[str, Any]]) -> str:
    return ", ".join(s["name"] for s in statuses)


def scale_defined(e: Event, state: State) -> Change:
    state.put(
        "scales",
        {
            "scale": e.key,
            "name": e.name,
            "statuses": json_text(e.statuses),
            "defined_at": state.recorded_at,
            "defined_by": e.actor,
            "revised_at": "",
            "reason": e.reason,
            "version": e.originator_version,
        },
    )
    state.put("subjects", subject_row(e, "StatusScale", None, e.key))
    return Change(None, e.key, f"defined scale {e.name}", "statuses", None, _statuses_text(e.statuses))


def scale_revised(e: Event, state: State) -> Change:
    key = find_subject(state, state.aggregate_id)["ref"]
    old = state.get("scales", key)
    if old is None:
        raise LookupError(f"No scale {key!r} in the read model")
    state.put(
        "scales",
        {
            **old,
            "name": e.name,
            "statuses": json_text(e.statuses),
            "revised_at": state.recorded_at,
            "reason": e.reason,
            "version": e.originator_version,
        },
    )
    before = _statuses_text(json.loads(old["statuses"]))
    return Change(None, key, f"revised scale {e.name}", "statuses", before, _statuses_text(e.statuses))


HANDLERS: dict[str, Handler] = {
    "StatusScale.Defined": scale_defined,
    "StatusScale.Revised": scale_revised,
}
