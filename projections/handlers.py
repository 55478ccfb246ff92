"""One handler per event class, keyed "Aggregate.Event" (e.g. "Item.StatusRecorded").

A handler reads the read model through `State`, puts the rows the event changes, and
returns a `Change` describing what changed (from → to) for the audit log. Handlers must
depend only on the event and the state, never on the clock or on anything outside the
read model, so that live catch-up, rebuild and as-at replay agree row for row.

Decisions written down here:
- Ratings keep the category and rank of the scale in force when they were recorded
  (what the committee saw), even if the programme's scale changes later.
- A period is *restated* when it is corrected (StatusCorrected) or re-rated (a later
  StatusRecorded with a different status). A revised update text with the same status
  is not a restatement; it bumps `updates_count`.
- Transitions (direction of travel) are a view over status_history, so a late
  correction of one period shows in the next period's direction at once; the rules are
  in projections.schema.
- Indicator direction is "good", "bad" or "neutral" by the indicator's `better`; with no
  value for the previous period, change and direction are empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from ledger.domain import NARRATIVE_SECTIONS, Item, describe_event
from ledger.periods import Period
from projections.projector import Change, Row, State
from projections.schema import NOT_RATED

Event = Any
HANDLERS: dict[str, Callable[[Event, State], Change]] = {}
_SECTION_ORDER = {key: i for i, key in enumerate(NARRATIVE_SECTIONS)}


def handles(
    *event_types: str,
) -> Callable[[Callable[[Event, State], Change]], Callable[[Event, State], Change]]:
    def register(handler: Callable[[Event, State], Change]) -> Callable[[Event, State], Change]:
        for event_type in event_types:
            HANDLERS[event_type] = handler
        return handler

    return register


# ------------------------------------------------------------------ shared helpers


@dataclass(frozen=True)
class PeriodInfo:
    label: str
    start: str
    end: str
    previous: str
    next: str
    description: str


@lru_cache(maxsize=4096)
def period_info(label: str, cadence: str) -> PeriodInfo:
    period = Period.parse(label, cadence)
    return PeriodInfo(
        label=period.label,
        start=period.sort_key,
        end=period.end.isoformat(),
        previous=period.previous().label,
        next=period.next().label,
        description=period.description,
    )


def natural_sort_key(ref: str) -> str:
    """Numbers compared as numbers, so A1.9 < A1.10 < A2.1 and WS7 < WS12."""
    return "".join(
        f"{int(part):010d}" if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", ref)
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=isinstance(value, dict))


def _subject(state: State, aggregate_id: UUID | str) -> Row:
    subject = state.get("subjects", aggregate_id if isinstance(aggregate_id, str) else str(aggregate_id))
    if subject is None:
        raise LookupError(f"No record {aggregate_id} in the read model")
    return subject


def _programme(state: State, programme: str) -> Row:
    row = state.get("programmes", programme)
    if row is None:
        raise LookupError(f"No programme {programme!r} in the read model")
    return row


def _programme_by_id(state: State, programme_id: UUID | str) -> Row:
    return _programme(state, _subject(state, programme_id)["programme"])


def _period(state: State, programme: Row, label: str) -> PeriodInfo:
    info = period_info(label, programme["cadence"])
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


def _status(state: State, programme: str, name: str) -> Row:
    """The status's place on the programme's scale in force ('' is Not rated)."""
    if name:
        row = state.get("statuses", programme, name)
        if row is not None:
            return row
    return {"status": name or NOT_RATED, "category": "unrated", "rank": None, "sort_order": 1000}


def _subject_row(event: Event, aggregate_kind: str, programme: str | None, ref: str, **extra: str) -> Row:
    return {
        "aggregate_id": str(event.originator_id),
        "aggregate_kind": aggregate_kind,
        "programme": programme,
        "ref": ref,
        "kind": extra.get("kind"),
        "period": extra.get("period"),
    }


# ------------------------------------------------------------------ programmes


def _status_rows(programme: str, scale: dict[str, Any]) -> list[Row]:
    return [
        {
            "programme": programme,
            "status": s["name"],
            "category": s["category"],
            "rank": s.get("rank"),
            "sort_order": i,
            "description": s.get("description", ""),
            "aliases": _json(list(s.get("aliases", []))),
        }
        for i, s in enumerate(scale["statuses"])
    ]


def _scale_text(scale: dict[str, Any]) -> str:
    return f"{scale['name']}: {', '.join(s['name'] for s in scale['statuses'])}"


@handles("Programme.Registered")
def programme_registered(e: Event, state: State) -> Change:
    at = state.recorded_at
    state.put(
        "programmes",
        {
            "programme": e.slug,
            "programme_id": str(e.originator_id),
            "name": e.name,
            "cadence": e.cadence,
            "scale_name": e.scale["name"],
            "scale": _json(e.scale),
            "requires_mitigation": int(bool(e.requires_mitigation)),
            "description": e.description,
            "contact": _json(e.contact),
            "registered_at": at,
            "registered_by": e.actor,
            "updated_at": at,
            "version": e.originator_version,
        },
    )
    for row in _status_rows(e.slug, e.scale):
        state.put("statuses", row)
    state.put("subjects", _subject_row(e, "Programme", e.slug, e.slug))
    return Change(e.slug, e.slug, f"registered programme {e.name} ({e.cadence})", "name", None, e.name)


def _programme_changed(e: Event, state: State, **changes: Any) -> Row:
    old = _programme_by_id(state, state.aggregate_id)
    state.put(
        "programmes", {**old, **changes, "updated_at": state.recorded_at, "version": e.originator_version}
    )
    return old


@handles("Programme.Renamed")
def programme_renamed(e: Event, state: State) -> Change:
    old = _programme_changed(e, state, name=e.name)
    return Change(old["programme"], old["programme"], describe_event(e), "name", old["name"], e.name)


@handles("Programme.ContactChanged")
def programme_contact_changed(e: Event, state: State) -> Change:
    contact = _json(e.contact)
    old = _programme_changed(e, state, contact=contact)
    return Change(
        old["programme"], old["programme"], "contact details changed", "contact", old["contact"], contact
    )


@handles("Programme.ScaleChanged")
def programme_scale_changed(e: Event, state: State) -> Change:
    old = _programme_changed(e, state, scale_name=e.scale["name"], scale=_json(e.scale))
    slug = old["programme"]
    old_scale = json.loads(old["scale"])
    new_rows = _status_rows(slug, e.scale)
    kept = {row["status"] for row in new_rows}
    for status in old_scale["statuses"]:
        if status["name"] not in kept:
            state.delete("statuses", slug, status["name"])
    for row in new_rows:
        state.put("statuses", row)
    return Change(
        slug,
        slug,
        f"status scale changed to {e.scale['name']}",
        "scale",
        _scale_text(old_scale),
        _scale_text(e.scale),
    )


# ------------------------------------------------------------------ items


def _item(state: State, item_id: UUID | str) -> Row:
    subject = _subject(state, item_id)
    row = state.get("items", subject["programme"], subject["ref"])
    if row is None:
        raise LookupError(f"No item {subject['ref']!r} in the read model")
    return row


@handles("Item.Registered")
def item_registered(e: Event, state: State) -> Change:
    programme = _programme_by_id(state, e.programme_id)["programme"]
    path, depth = e.ref, 0
    if e.parent_ref:
        # The application resolved the parent by its id (refs ignore case), so do the same.
        parent = _item(state, Item.create_id(e.programme_id, e.parent_ref))
        path, depth = f"{parent['path']} > {e.ref}", parent["depth"] + 1
        state.put("items", {**parent, "child_count": parent["child_count"] + 1})
    at = state.recorded_at
    state.put(
        "items",
        {
            "programme": programme,
            "ref": e.ref,
            "item_id": str(e.originator_id),
            "kind": e.kind,
            "title": e.title,
            "parent_ref": e.parent_ref,
            "path": path,
            "depth": depth,
            "sort_key": natural_sort_key(e.ref),
            "lead_officer": e.lead_officer,
            "committee": e.committee,
            "child_count": 0,
            "latest_period": None,
            "latest_period_start": None,
            "registered_at": at,
            "registered_by": e.actor,
            "updated_at": at,
            "version": e.originator_version,
        },
    )
    state.put("subjects", _subject_row(e, "Item", programme, e.ref))
    return Change(programme, e.ref, f"registered {e.kind} {e.ref}: {e.title}", "title", None, e.title)


def _item_detail_changed(e: Event, state: State, field: str, value: str) -> Change:
    old = _item(state, state.aggregate_id)
    state.put(
        "items", {**old, field: value, "updated_at": state.recorded_at, "version": e.originator_version}
    )
    return Change(old["programme"], old["ref"], describe_event(e), field, old[field], value)


@handles("Item.Retitled")
def item_retitled(e: Event, state: State) -> Change:
    return _item_detail_changed(e, state, "title", e.title)


@handles("Item.LeadReassigned")
def item_lead_reassigned(e: Event, state: State) -> Change:
    return _item_detail_changed(e, state, "lead_officer", e.lead_officer)


@handles("Item.CommitteeChanged")
def item_committee_changed(e: Event, state: State) -> Change:
    return _item_detail_changed(e, state, "committee", e.committee)


def _count(state: State, programme: str, period: PeriodInfo, status: Row, delta: int) -> None:
    old = state.get("rag_summary", programme, period.label, status["status"])
    count = (old["count"] if old else 0) + delta
    if count <= 0:
        state.delete("rag_summary", programme, period.label, status["status"])
        return
    state.put(
        "rag_summary",
        {
            "programme": programme,
            "period": period.label,
            "period_start": period.start,
            "status": status["status"],
            "category": old["category"] if old and delta < 0 else status["category"],
            "status_order": old["status_order"] if old and delta < 0 else status["sort_order"],
            "count": count,
        },
    )


def _status_recorded(e: Event, state: State, corrected: bool) -> Change:
    item = _item(state, state.aggregate_id)
    slug, ref = item["programme"], item["ref"]
    period = _period(state, _programme(state, slug), e.period)
    status = _status(state, slug, e.status)
    at = state.recorded_at
    old = state.get("status_history", slug, period.label, ref)
    status_changed = old is None or old["status"] != status["status"]
    restating = old is not None and (corrected or status_changed)
    row = {
        "programme": slug,
        "ref": ref,
        "period": period.label,
        "period_start": period.start,
        "previous_period": period.previous,
        "status": status["status"],
        "category": status["category"],
        "rank": status["rank"],
        "status_order": status["sort_order"],
        "update": e.update,
        "mitigation": e.mitigation,
        "recorded_by": e.actor,
        "recorded_at": at,
        "first_recorded_at": old["first_recorded_at"] if old else at,
        "restated": 1 if restating or (old and old["restated"]) else 0,
        "restated_reason": e.reason if restating else (old["restated_reason"] if old else ""),
        "restated_at": at if restating else (old["restated_at"] if old else None),
        "updates_count": old["updates_count"] + 1 if old else 1,
        "version": e.originator_version,
        "position": state.position,
    }
    state.put("status_history", row)
    state.append(
        "status_events",
        {
            "position": state.position,
            "programme": slug,
            "ref": ref,
            "period": period.label,
            "period_start": period.start,
            "event_type": "corrected" if corrected else "recorded",
            "status": status["status"],
            "category": status["category"],
            "update": e.update,
            "mitigation": e.mitigation,
            "reason": e.reason,
            "recorded_by": e.actor,
            "recorded_at": at,
            "version": e.originator_version,
            "corrects_version": e.corrects if corrected else None,
        },
    )
    if status_changed:
        if old is not None:
            _count(state, slug, period, old, -1)
        _count(state, slug, period, status, +1)
    # The item row carries its latest rated period (current_status is a view on it) and
    # the record's version, which is what a form passes back as seen_version.
    if item["latest_period_start"] is None or item["latest_period_start"] < period.start:
        state.put(
            "items",
            {
                **item,
                "latest_period": period.label,
                "latest_period_start": period.start,
                "version": e.originator_version,
            },
        )
    else:
        state.put("items", {**item, "version": e.originator_version})
    # Same words as ledger.domain.describe_event, without its cost on the hot path.
    what = f"corrected to {e.status or 'not rated'}" if corrected else f"recorded {e.status or 'not rated'}"
    if old is not None and not status_changed:
        return Change(
            slug,
            ref,
            f"{what} for {period.label}: update revised",
            "update",
            old["update"],
            e.update,
            period.label,
        )
    return Change(
        slug,
        ref,
        f"{what} for {period.label}",
        "status",
        old["status"] if old else None,
        status["status"],
        period.label,
    )


@handles("Item.StatusRecorded")
def item_status_recorded(e: Event, state: State) -> Change:
    return _status_recorded(e, state, corrected=False)


@handles("Item.StatusCorrected")
def item_status_corrected(e: Event, state: State) -> Change:
    return _status_recorded(e, state, corrected=True)


# ------------------------------------------------------------------ risks and issues


def _rag_text(before: str, after: str) -> str:
    return f"{before}, {after} after mitigation" if after else before


def _risk(state: State, risk_id: UUID | str) -> Row:
    subject = _subject(state, risk_id)
    row = state.get("risks_and_issues", subject["programme"], subject["kind"], subject["ref"])
    if row is None:
        raise LookupError(f"No {subject['kind']} {subject['ref']!r} in the read model")
    return row


def _category(state: State, programme: str, status: str) -> str | None:
    return _status(state, programme, status)["category"] if status else None


@handles("Risk.Raised")
def risk_raised(e: Event, state: State) -> Change:
    programme = _programme_by_id(state, e.programme_id)
    slug = programme["programme"]
    period = _period(state, programme, e.period)
    at = state.recorded_at
    state.put(
        "risks_and_issues",
        {
            "programme": slug,
            "kind": e.kind,
            "ref": e.ref,
            "description": e.description,
            "rag_before": e.rag_before,
            "rag_before_category": _category(state, slug, e.rag_before),
            "mitigation": e.mitigation,
            "rag_after": e.rag_after,
            "rag_after_category": _category(state, slug, e.rag_after),
            "owner": e.owner,
            "period": period.label,
            "period_start": period.start,
            "state": "open",
            "closed_period": None,
            "raised_at": at,
            "raised_by": e.actor,
            "updated_at": at,
            "updated_by": e.actor,
            "last_reason": e.reason,
            "version": e.originator_version,
        },
    )
    state.put("subjects", _subject_row(e, "Risk", slug, e.ref, kind=e.kind))
    return Change(
        slug,
        e.ref,
        f"raised {e.kind} {e.ref}: {e.description}",
        "rag",
        None,
        _rag_text(e.rag_before, e.rag_after),
        period.label,
    )


def _risk_changed(e: Event, state: State, changes: Row) -> Row:
    old = _risk(state, state.aggregate_id)
    state.put(
        "risks_and_issues",
        {
            **old,
            **changes,
            "updated_at": state.recorded_at,
            "updated_by": e.actor,
            "last_reason": e.reason,
            "version": e.originator_version,
        },
    )
    return old


@handles("Risk.Rerated")
def risk_rerated(e: Event, state: State) -> Change:
    old = _risk(state, state.aggregate_id)
    slug = old["programme"]
    period = _period(state, _programme(state, slug), e.period)
    _risk_changed(
        e,
        state,
        {
            "rag_before": e.rag_before,
            "rag_before_category": _category(state, slug, e.rag_before),
            "mitigation": e.mitigation,
            "rag_after": e.rag_after,
            "rag_after_category": _category(state, slug, e.rag_after),
            "period": period.label,
            "period_start": period.start,
        },
    )
    return Change(
        slug,
        old["ref"],
        describe_event(e),
        "rag",
        _rag_text(old["rag_before"], old["rag_after"]),
        _rag_text(e.rag_before, e.rag_after),
        period.label,
    )


@handles("Risk.Corrected")
def risk_corrected(e: Event, state: State) -> Change:
    old = _risk_changed(e, state, {"description": e.description, "owner": e.owner})
    return Change(
        old["programme"],
        old["ref"],
        f"corrected {old['kind']} {old['ref']}",
        "description",
        old["description"],
        e.description,
    )


@handles("Risk.Closed", "Risk.Reopened")
def risk_closed_or_reopened(e: Event, state: State) -> Change:
    closing = type(e).__name__ == "Closed"
    old = _risk(state, state.aggregate_id)
    period = _period(state, _programme(state, old["programme"]), e.period)
    _risk_changed(
        e,
        state,
        {"state": "closed" if closing else "open", "closed_period": period.label if closing else None},
    )
    return Change(
        old["programme"],
        old["ref"],
        describe_event(e),
        "state",
        old["state"],
        "closed" if closing else "open",
        period.label,
    )


# ------------------------------------------------------------------ dependencies


def _dependency_text(plan_agreed: str, confidence: str) -> str:
    return f"plan agreed {plan_agreed or 'not stated'}, confidence {confidence or 'not stated'}"


def _dependency(state: State, dependency_id: UUID | str) -> Row:
    subject = _subject(state, dependency_id)
    row = state.get("dependencies", subject["programme"], subject["ref"])
    if row is None:
        raise LookupError(f"No dependency {subject['ref']!r} in the read model")
    return row


@handles("Dependency.Registered")
def dependency_registered(e: Event, state: State) -> Change:
    programme = _programme_by_id(state, e.programme_id)
    slug = programme["programme"]
    period = _period(state, programme, e.period)
    at = state.recorded_at
    state.put(
        "dependencies",
        {
            "programme": slug,
            "ref": e.ref,
            "description": e.description,
            "plan_agreed": e.plan_agreed,
            "confidence": e.confidence,
            "owner": e.owner,
            "period": period.label,
            "period_start": period.start,
            "registered_at": at,
            "registered_by": e.actor,
            "updated_at": at,
            "updated_by": e.actor,
            "version": e.originator_version,
        },
    )
    state.put("subjects", _subject_row(e, "Dependency", slug, e.ref))
    return Change(
        slug,
        e.ref,
        f"registered dependency {e.ref}: {e.description}",
        "plan",
        None,
        _dependency_text(e.plan_agreed, e.confidence),
        period.label,
    )


@handles("Dependency.Reviewed")
def dependency_reviewed(e: Event, state: State) -> Change:
    old = _dependency(state, state.aggregate_id)
    period = _period(state, _programme(state, old["programme"]), e.period)
    state.put(
        "dependencies",
        {
            **old,
            "plan_agreed": e.plan_agreed,
            "confidence": e.confidence,
            "period": period.label,
            "period_start": period.start,
            "updated_at": state.recorded_at,
            "updated_by": e.actor,
            "version": e.originator_version,
        },
    )
    return Change(
        old["programme"],
        old["ref"],
        describe_event(e),
        "plan",
        _dependency_text(old["plan_agreed"], old["confidence"]),
        _dependency_text(e.plan_agreed, e.confidence),
        period.label,
    )


@handles("Dependency.Corrected")
def dependency_corrected(e: Event, state: State) -> Change:
    old = _dependency(state, state.aggregate_id)
    state.put(
        "dependencies",
        {
            **old,
            "description": e.description,
            "owner": e.owner,
            "updated_at": state.recorded_at,
            "updated_by": e.actor,
            "version": e.originator_version,
        },
    )
    return Change(
        old["programme"],
        old["ref"],
        f"corrected dependency {old['ref']}",
        "description",
        old["description"],
        e.description,
    )


# ------------------------------------------------------------------ indicators


def _indicator_definition(state: State, indicator_id: UUID | str) -> Row:
    subject = _subject(state, indicator_id)
    row = state.get("indicator_definitions", subject["programme"], subject["ref"])
    if row is None:
        raise LookupError(f"No indicator {subject['ref']!r} in the read model")
    return row


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


@handles("Indicator.Defined")
def indicator_defined(e: Event, state: State) -> Change:
    slug = _programme_by_id(state, e.programme_id)["programme"]
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
    state.put("subjects", _subject_row(e, "Indicator", slug, e.ref))
    return Change(slug, e.ref, f"defined indicator {e.ref}: {e.name}", "name", None, e.name)


def _value_recorded(e: Event, state: State, corrected: bool) -> Change:
    definition = _indicator_definition(state, state.aggregate_id)
    slug, ref = definition["programme"], definition["ref"]
    period = _period(state, _programme(state, slug), e.period)
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


@handles("Indicator.ValueRecorded")
def indicator_value_recorded(e: Event, state: State) -> Change:
    return _value_recorded(e, state, corrected=False)


@handles("Indicator.ValueCorrected")
def indicator_value_corrected(e: Event, state: State) -> Change:
    return _value_recorded(e, state, corrected=True)


# ------------------------------------------------------------------ report narratives


@handles("Narrative.Started")
def narrative_started(e: Event, state: State) -> Change:
    programme = _programme_by_id(state, e.programme_id)
    slug = programme["programme"]
    period = _period(state, programme, e.period)
    state.put("subjects", _subject_row(e, "Narrative", slug, period.label, period=period.label))
    return Change(slug, period.label, f"started the report narrative for {period.label}", period=period.label)


@handles("Narrative.SectionWritten")
def narrative_section_written(e: Event, state: State) -> Change:
    subject = _subject(state, state.aggregate_id)
    slug = subject["programme"]
    period = period_info(subject["period"], _programme(state, slug)["cadence"])
    old = state.get("report_sections", slug, period.label, e.section)
    at = state.recorded_at
    state.put(
        "report_sections",
        {
            "programme": slug,
            "period": period.label,
            "period_start": period.start,
            "section": e.section,
            "heading": NARRATIVE_SECTIONS.get(e.section, e.section),
            "section_order": _SECTION_ORDER.get(e.section, len(_SECTION_ORDER)),
            "text": e.text,
            "written_by": e.actor,
            "written_at": at,
            "first_written_at": old["first_written_at"] if old else at,
            "revisions": old["revisions"] + 1 if old else 1,
            "version": e.originator_version,
            "position": state.position,
        },
    )
    heading = NARRATIVE_SECTIONS.get(e.section, e.section)
    return Change(
        slug, period.label, f"wrote {heading}", e.section, old["text"] if old else None, e.text, period.label
    )


# ------------------------------------------------------------------ accounts


def _account(state: State, account_id: UUID | str) -> Row:
    row = state.get("accounts", _subject(state, account_id)["ref"])
    if row is None:
        raise LookupError(f"No account {account_id} in the read model")
    return row


@handles("Account.Opened")
def account_opened(e: Event, state: State) -> Change:
    at = state.recorded_at
    state.put(
        "accounts",
        {
            "username": e.username,
            "display_name": e.display_name,
            "roles": _json([e.role]),
            "programmes": _json([]),
            "active": 1,
            "opened_at": at,
            "opened_by": e.actor,
            "updated_at": at,
            "version": e.originator_version,
        },
    )
    state.put("subjects", _subject_row(e, "Account", None, e.username))
    return Change(
        None, e.username, f"opened account {e.username} ({e.display_name}) as {e.role}", "roles", None, e.role
    )


def _account_changed(
    e: Event, state: State, field: str, change: Callable[[Any], Any], programme: str | None = None
) -> Change:
    old = _account(state, state.aggregate_id)
    before = json.loads(old[field]) if field in ("roles", "programmes") else old[field]
    after = change(before)
    stored = _json(after) if isinstance(after, list) else after
    state.put(
        "accounts", {**old, field: stored, "updated_at": state.recorded_at, "version": e.originator_version}
    )

    def text(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(value)
        return "yes" if value else "no"

    return Change(programme, old["username"], describe_event(e), field, text(before), text(after))


@handles("Account.RoleGranted")
def account_role_granted(e: Event, state: State) -> Change:
    return _account_changed(e, state, "roles", lambda roles: [*roles, e.role])


@handles("Account.RoleRevoked")
def account_role_revoked(e: Event, state: State) -> Change:
    return _account_changed(e, state, "roles", lambda roles: [r for r in roles if r != e.role])


@handles("Account.ProgrammeAssigned")
def account_programme_assigned(e: Event, state: State) -> Change:
    return _account_changed(e, state, "programmes", lambda ps: [*ps, e.programme], e.programme)


@handles("Account.ProgrammeUnassigned")
def account_programme_unassigned(e: Event, state: State) -> Change:
    return _account_changed(
        e, state, "programmes", lambda ps: [p for p in ps if p != e.programme], e.programme
    )


@handles("Account.Deactivated")
def account_deactivated(e: Event, state: State) -> Change:
    return _account_changed(e, state, "active", lambda _: 0)


@handles("Account.Reactivated")
def account_reactivated(e: Event, state: State) -> Change:
    return _account_changed(e, state, "active", lambda _: 1)


@handles("Account.PasswordSet")
def account_password_set(e: Event, state: State) -> Change:
    # Only the fact goes in the audit trail: who set it and why. No password is in the event.
    old = _account(state, state.aggregate_id)
    state.put("accounts", {**old, "updated_at": state.recorded_at, "version": e.originator_version})
    return Change(None, old["username"], describe_event(e), None, None, None)


# ------------------------------------------------------------------ publications


@handles("Publication.Published")
def publication_published(e: Event, state: State) -> Change:
    programme = _programme_by_id(state, e.programme_id)
    slug = programme["programme"]
    period = _period(state, programme, e.period)
    state.put("subjects", _subject_row(e, "Publication", slug, e.report, period=period.label))
    _put_edition(e, state, slug, e.report, period, e.title)
    return Change(
        slug,
        e.report,
        f"published {e.title} (built from log position {e.log_position})",
        "content_sha256",
        None,
        e.content_sha256,
        period.label,
    )


@handles("Publication.Republished")
def publication_republished(e: Event, state: State) -> Change:
    subject = _subject(state, state.aggregate_id)
    slug, report = subject["programme"], subject["ref"]
    period = period_info(subject["period"], _programme(state, slug)["cadence"])
    before = state.get("publications", slug, report, period.label, e.originator_version - 1)
    if before is None:
        raise LookupError(f"No earlier edition of {report} for {period.label} in the read model")
    _put_edition(e, state, slug, report, period, before["title"])
    return Change(
        slug,
        report,
        f"republished {before['title']} (built from log position {e.log_position})",
        "content_sha256",
        before["content_sha256"],
        e.content_sha256,
        period.label,
    )


def _put_edition(e: Event, state: State, slug: str, report: str, period: PeriodInfo, title: str) -> None:
    state.put(
        "publications",
        {
            "programme": slug,
            "report": report,
            "period": period.label,
            "period_start": period.start,
            # A publication's only events are its editions, so its version is the edition.
            "edition": e.originator_version,
            "title": title,
            "log_position": e.log_position,
            "content_sha256": e.content_sha256,
            "published_at": state.recorded_at,
            "published_by": e.actor,
            "reason": e.reason,
            "version": e.originator_version,
            "position": state.position,
        },
    )
