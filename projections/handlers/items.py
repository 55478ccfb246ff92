"""Items and their ratings: items, period_ratings and rag_summary (and each status event's
audit_log columns, which the status_history and status_events views read)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.domain import Item, Programme, describe_event
from ledger.refs import natural_sort_key
from projections.handlers.support import (
    Event,
    PeriodInfo,
    find_programme,
    find_record,
    note_period,
    programme_of,
    status_on_scale,
    subject_row,
)
from projections.state import Change, Handler, Row, State


def _item(state: State, item_id: UUID | str) -> Row:
    return find_record(state, "items", item_id, "item")


def item_registered(e: Event, state: State) -> Change:
    programme = programme_of(state, e.programme_id)["programme"]
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
            "lead_account": "",
            "committee": e.committee,
            "child_count": 0,
            "latest_period": None,
            "latest_period_start": None,
            "registered_at": at,
            "registered_by": e.actor,
            "updated_at": at,
            "due_date": "",
            "indicators": "",
            "version": e.originator_version,
        },
    )
    state.put("subjects", subject_row(e, "Item", programme, e.ref))
    return Change(programme, e.ref, f"registered {e.kind} {e.ref}: {e.title}", "title", None, e.title)


def _item_detail_changed(e: Event, state: State, field: str, value: str) -> Change:
    old = _item(state, state.aggregate_id)
    state.put(
        "items", {**old, field: value, "updated_at": state.recorded_at, "version": e.originator_version}
    )
    return Change(old["programme"], old["ref"], describe_event(e), field, old[field], value)


def item_retitled(e: Event, state: State) -> Change:
    return _item_detail_changed(e, state, "title", e.title)


def item_kind_changed(e: Event, state: State) -> Change:
    return _item_detail_changed(e, state, "kind", e.kind)


def item_lead_reassigned(e: Event, state: State) -> Change:
    return _item_detail_changed(e, state, "lead_officer", e.lead_officer)


def item_committee_changed(e: Event, state: State) -> Change:
    return _item_detail_changed(e, state, "committee", e.committee)


def item_due_date_set(e: Event, state: State) -> Change:
    return _item_detail_changed(e, state, "due_date", e.due_date)


def _parent(state: State, programme: str, parent_ref: str) -> Row | None:
    # By id, as at registration: a parent_ref typed in another case names the same item.
    return _item(state, Item.create_id(Programme.create_id(programme), parent_ref)) if parent_ref else None


def item_moved(e: Event, state: State) -> Change:
    """The item under its new parent, with everything filed beneath it: their paths and
    depths follow, and each parent's count of children."""
    old = _item(state, state.aggregate_id)
    slug = old["programme"]
    before, after = _parent(state, slug, old["parent_ref"]), _parent(state, slug, e.parent_ref)
    if before is not None:
        state.put("items", {**before, "child_count": before["child_count"] - 1})
    if after is not None:
        state.put("items", {**after, "child_count": after["child_count"] + 1})
    path, depth = (f"{after['path']} > {old['ref']}", after["depth"] + 1) if after else (old["ref"], 0)
    beneath, shift = old["path"] + " > ", depth - old["depth"]
    for key in state.keys("items", slug):
        row = state.get("items", *key)
        if row is not None and row["path"].startswith(beneath):
            moved = path + row["path"][len(old["path"]) :]
            state.put("items", {**row, "path": moved, "depth": row["depth"] + shift})
    state.put(
        "items",
        {**old, "parent_ref": e.parent_ref, "path": path, "depth": depth,
         "updated_at": state.recorded_at, "version": e.originator_version},
    )
    return Change(slug, old["ref"], describe_event(e), "parent_ref", old["parent_ref"], e.parent_ref)


def item_indicators_linked(e: Event, state: State) -> Change:
    old = _item(state, state.aggregate_id)
    for ref in filter(None, old["indicators"].split("; ")):
        state.delete("item_indicators", old["programme"], old["ref"], ref)
    for ref in e.indicators:
        state.put(
            "item_indicators",
            {"programme": old["programme"], "ref": old["ref"], "indicator": ref,
             "linked_at": state.recorded_at, "linked_by": e.actor},
        )
    return _item_detail_changed(e, state, "indicators", "; ".join(e.indicators))


_KEPT = ("category", "status_category", "status_group", "colour")


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
            # A status keeps the place and words of the scale it was first counted on.
            **{k: (old if old and delta < 0 else status)[k] for k in _KEPT},
            "status_order": old["status_order"] if old and delta < 0 else status["sort_order"],
            "count": count,
        },
    )


def rating_of(e: Event, state: State) -> tuple[Row, PeriodInfo, Row]:
    """A status event's item row, its period (noted on first use) and its status's place on
    the programme's scale: what both the handlers below and a rebuild's ratings pass
    (projections.ratings_at_end) read from the state."""
    item = _item(state, state.aggregate_id)
    period = note_period(state, find_programme(state, item["programme"]), e.period)
    return item, period, status_on_scale(state, item["programme"], e.status, period.start)


class RatingLookups:
    """rating_of for a replay of many status events: it remembers each item, period and
    status it looked up for as long as nothing writes the rows they came from (it
    watches them: State.watch). A period's row, once noted, is only ever kept."""

    LIMIT = 100_000  # entries each map keeps, so neither a long log nor a huge estate grows them unbounded

    def __init__(self) -> None:
        self._items: dict[str, Row] = {}
        self._periods: dict[tuple[str, str], PeriodInfo] = {}
        self._statuses: dict[tuple[str, str, str], Row] = {}
        self._seen = -1

    def __call__(self, e: Event, state: State) -> tuple[Row, PeriodInfo, Row]:
        if state.watched_writes != self._seen or self._full():
            state.unwatch()
            self._items.clear()
            self._periods.clear()
            self._statuses.clear()
            self._seen = state.watched_writes
        item = self._items.get(state.aggregate_id)
        if item is None:
            item = self._items[state.aggregate_id] = _item(state, state.aggregate_id)
            state.watch("subjects", state.aggregate_id)
            state.watch("items", item["programme"], item["ref"])
        programme = item["programme"]
        period = self._periods.get((programme, e.period))
        if period is None:
            period = note_period(state, find_programme(state, programme), e.period)
            self._periods[(programme, e.period)] = period
            state.watch("programmes", programme)
            state.watch("periods", programme, period.label)
        status = self._statuses.get((programme, e.status, period.start))
        if status is None:
            status = status_on_scale(state, programme, e.status, period.start)
            self._statuses[(programme, e.status, period.start)] = status
            state.watch("programmes", programme)
            state.watch("statuses", programme, e.status)
        return item, period, status

    def _full(self) -> bool:
        # Periods and statuses grow with the log's length, items with the estate's size.
        limit = self.LIMIT
        return len(self._items) >= limit or len(self._periods) >= limit or len(self._statuses) >= limit


def rated(e: Event, corrected: bool, period: PeriodInfo, status: Row) -> tuple[str, tuple[Any, ...]]:
    """The audit summary's first words ("recorded Amber for 2024/25 Q1") and the event's
    own audit columns (state.RATING_COLUMNS), which the status_events view reads."""
    # Same words as ledger.domain.describe_event, without its cost on the hot path.
    what = f"corrected to {e.status or 'not rated'}" if corrected else f"recorded {e.status or 'not rated'}"
    rating = (
        period.start, status["status"], status["category"], e.update, e.mitigation,
        e.corrects if corrected else None,
    )  # fmt: skip
    return f"{what} for {period.label}", rating


def _status_recorded(e: Event, state: State, corrected: bool) -> Change:
    item, period, status = rating_of(e, state)
    slug, ref = item["programme"], item["ref"]
    at = state.recorded_at
    old = state.get("period_ratings", slug, period.label, ref)
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
        "first_recorded_at": old["first_recorded_at"] if old else at,
        "restated": 1 if restating or (old and old["restated"]) else 0,
        "restated_reason": e.reason if restating else (old["restated_reason"] if old else ""),
        "restated_at": at if restating else (old["restated_at"] if old else None),
        "updates_count": old["updates_count"] + 1 if old else 1,
        "version": e.originator_version,
        "position": state.position,
    }
    state.put("period_ratings", row)
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
    summary, rating = rated(e, corrected, period, status)
    if old is not None and not status_changed:
        return Change(
            slug,
            ref,
            f"{summary}: update revised",
            "update",
            # The text in force is held once, by the audit row of the event that recorded it.
            state.logged("audit_log", old["position"])["update"],
            e.update,
            period.label,
            rating,
        )
    return Change(
        slug,
        ref,
        summary,
        "status",
        old["status"] if old else None,
        status["status"],
        period.label,
        rating,
    )


def item_status_recorded(e: Event, state: State) -> Change:
    return _status_recorded(e, state, corrected=False)


def item_status_corrected(e: Event, state: State) -> Change:
    return _status_recorded(e, state, corrected=True)


HANDLERS: dict[str, Handler] = {
    "Item.Registered": item_registered,
    "Item.Retitled": item_retitled,
    "Item.Moved": item_moved,
    "Item.KindChanged": item_kind_changed,
    "Item.LeadReassigned": item_lead_reassigned,
    "Item.CommitteeChanged": item_committee_changed,
    "Item.DueDateSet": item_due_date_set,
    "Item.IndicatorsLinked": item_indicators_linked,
    "Item.StatusRecorded": item_status_recorded,
    "Item.StatusCorrected": item_status_corrected,
}
