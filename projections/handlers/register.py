"""Items off the register and their footnotes: item_retirements and item_notes."""

from __future__ import annotations

from projections.handlers.support import Event, find_programme, find_record, note_period
from projections.state import Change, Handler, State


def retired_words(merged_into: str) -> str:
    """How timelines, grids and reports show a retired item's later periods."""
    return f"retired (merged into {merged_into})" if merged_into else "retired"


def item_retired(e: Event, state: State) -> Change:
    item = find_record(state, "items", state.aggregate_id, "item")
    slug, ref = item["programme"], item["ref"]
    period = note_period(state, find_programme(state, slug), e.period)
    state.put(
        "item_retirements",
        {
            "programme": slug,
            "ref": ref,
            "retired_from": period.label,
            "retired_from_start": period.start,
            "merged_into": e.merged_into,
            "reason": e.reason,
            "retired_by": e.actor,
            "retired_at": state.recorded_at,
            "reinstated_from": "",
            "reinstated_from_start": "",
            "reinstated_reason": "",
            "position": state.position,
        },
    )
    state.put("items", {**item, "version": e.originator_version})
    words = f"merged into {e.merged_into}" if e.merged_into else "retired"
    return Change(
        slug, ref, f"{words} from {period.label}", "status", None, retired_words(e.merged_into), period.label
    )


def item_reinstated(e: Event, state: State) -> Change:
    item = find_record(state, "items", state.aggregate_id, "item")
    slug, ref = item["programme"], item["ref"]
    period = note_period(state, find_programme(state, slug), e.period)
    span = state.get("item_retirements", slug, ref, e.retired_from)
    if span is None:
        raise LookupError(f"No retirement of {ref} from {e.retired_from} in the read model")
    state.put(
        "item_retirements",
        {**span, "reinstated_from": period.label, "reinstated_from_start": period.start,
         "reinstated_reason": e.reason},
    )
    state.put("items", {**item, "version": e.originator_version})
    return Change(
        slug, ref, f"reinstated from {period.label}", "status", retired_words(span["merged_into"]),
        "on the register", period.label,
    )


def item_noted(e: Event, state: State) -> Change:
    item = find_record(state, "items", state.aggregate_id, "item")
    slug, ref = item["programme"], item["ref"]
    period = note_period(state, find_programme(state, slug), e.period)
    old = state.get("item_notes", slug, ref, period.label)
    state.put(
        "item_notes",
        {
            "programme": slug,
            "ref": ref,
            "period": period.label,
            "period_start": period.start,
            "note": e.note,
            "recorded_by": e.actor,
            "recorded_at": state.recorded_at,
            "position": state.position,
        },
    )
    state.put("items", {**item, "version": e.originator_version})
    return Change(
        slug, ref, f"noted {e.note!r} for {period.label}", "note", old["note"] if old else None, e.note,
        period.label,
    )


HANDLERS: dict[str, Handler] = {
    "Item.Retired": item_retired,
    "Item.Reinstated": item_reinstated,
    "Item.Noted": item_noted,
}
