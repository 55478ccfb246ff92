"""A rebuild's ratings, derived in one pass at the end rather than event by event.

Status events (Item.StatusRecorded, Item.StatusCorrected) are most of any log. Replayed
through projections.handlers.items, each reads and rewrites its period's rating, two
rag_summary counts and its item row: in a rebuild those lookups and writes were about
half the time. A rebuild from zero instead writes each status event's audit row only (as
if it were the first rating of its period) and notes its status's place on the scale in
force. At the end, one pass over those audit rows in (programme, period, position)
order derives period_ratings, rag_summary and the items' latest period and version, and
rewords the audit rows of re-ratings and revised updates, as the handlers would have.

Only a whole build from zero can do this: the pass needs every event of a period. Live
catch-up and as-at snapshots use the handlers; tests/test_projections_ratings_at_end.py checks
that the two give the same tables, row for row, on generated histories.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper
from eventsourcing.utils import get_topic

from ledger.domain import Item
from ledger.store.events import StoredRow
from projections.decoding import EventDecoder
from projections.handlers.items import RatingLookups, rated
from projections.projector import ID_TEXT_LIMIT, RowApplier, audit_values
from projections.schema import TABLES_BY_NAME, create_index
from projections.state import Change, Handler, State, check_columns, insert_statement

# period_ratings' columns, in the order the pass writes them (checked on import).
RATING_ROW = (
    *("programme", "ref", "period", "period_start", "previous_period", "status", "category"),
    *("rank", "status_order", "first_recorded_at", "restated", "restated_reason", "restated_at"),
    *("updates_count", "version", "position"),
)
check_columns("period_ratings", RATING_ROW)
RAG_ROW = (
    *("programme", "period", "period_start", "status", "category", "status_order", "count"),
    *("status_category", "status_group", "colour"),
)
check_columns("rag_summary", RAG_ROW)

# A status's place on the scale in force, as the pass needs it beside the audit row:
# the period before, rank, sort order, then the values rag_summary keeps.
_PREVIOUS, _RANK, _ORDER, _CATEGORY, _STATUS_CATEGORY, _GROUP, _COLOUR = range(7)

_IN_ORDER = """
    SELECT programme, period, subject_ref, position, status, category, recorded_at, reason,
           version, event_type, period_start
    FROM audit_log
    WHERE aggregate_kind = 'Item' AND event_type IN ('StatusRecorded', 'StatusCorrected')
    ORDER BY programme, period, position
"""
# audit_log's index, built first, so the pass reads the rows in that order from it
# rather than sorting them.
_BY_PERIOD = ("programme", "period", "position")
if _BY_PERIOD not in TABLES_BY_NAME["audit_log"].indexes:
    raise ImportError(f"audit_log has no index on {_BY_PERIOD}")
_STATUS_CHANGED = "UPDATE audit_log SET from_value = ? WHERE position = ?"
_UPDATE_REVISED = """
    UPDATE audit_log SET summary = summary || ': update revised', field = 'update',
        from_value = (SELECT "update" FROM audit_log WHERE position = ?), to_value = "update"
    WHERE position = ?
"""
_ITEM = """
    UPDATE items SET latest_period = ?, latest_period_start = ?, version = max(version, ?)
    WHERE programme = ? AND ref = ?
"""


class RatingsAtEnd:
    """The status handlers of a build from zero (`handlers`), then `finish` to derive
    what they left out. One per build."""

    def __init__(self, chunk: int = 5_000) -> None:
        self._chunk = chunk  # period_ratings rows the pass writes at a time
        self._places: dict[tuple[Any, ...], int] = {}
        self._place_rows: list[tuple[Any, ...]] = []
        # Position -> index of its status's place: 2 bytes an event (4 past 65,535 places).
        self._place_at = array("H")
        self._rating_of = RatingLookups()
        self._last_place: dict[tuple[int, int], tuple[Any, Any, int]] = {}

    def handlers(self, handlers: Mapping[str, Handler]) -> dict[str, Handler]:
        return {**handlers, "Item.StatusRecorded": self._recorded, "Item.StatusCorrected": self._corrected}

    def appliers(self, mapper: Mapper[Any]) -> dict[str, RowApplier]:
        """The status events' rows applied straight from their stored fields, as the
        handlers below apply them, without building each event (most of a log's decoding)."""
        plain = EventDecoder(mapper).plain
        ids: dict[UUID, str] = {}

        def applier(cls: type, corrected: bool) -> RowApplier:
            version, name = getattr(cls, "class_version", 1), cls.__name__

            def apply(row: StoredRow, head: bytes | None, state: State) -> tuple[Any, ...] | None:
                originator_id = row[1]
                found = plain(row, version) if type(originator_id) is UUID else None
                if found is None:
                    return None
                fields, recorded_at = found
                aggregate_id = ids.get(originator_id)
                if aggregate_id is None:
                    if len(ids) >= ID_TEXT_LIMIT:
                        ids.clear()
                    aggregate_id = ids[originator_id] = str(originator_id)
                position = state.position = row[0]
                state.recorded_at, state.aggregate_id = recorded_at, aggregate_id
                event = _Fields()
                event.__dict__ = fields
                change = self._note(event, state, corrected)
                return audit_values(
                    position, recorded_at, fields.get("actor", ""), "Item", name, change,
                    fields.get("reason", ""), aggregate_id, row[2], head,
                )  # fmt: skip

            return apply

        return {
            get_topic(Item.StatusRecorded): applier(Item.StatusRecorded, False),
            get_topic(Item.StatusCorrected): applier(Item.StatusCorrected, True),
        }

    def _recorded(self, e: Any, state: State) -> Change:
        return self._note(e, state, False)

    def _corrected(self, e: Any, state: State) -> Change:
        return self._note(e, state, True)

    def _note(self, e: Any, state: State, corrected: bool) -> Change:
        item, period, status = self._rating_of(e, state)
        # The lookups give the same objects while they hold: remember their place's index.
        last = self._last_place.get((id(period), id(status)))
        if last is not None and last[0] is period and last[1] is status:
            index = last[2]
        else:
            place = (
                period.previous, status["rank"], status["sort_order"], status["category"],
                status["status_category"], status["status_group"], status["colour"],
            )  # fmt: skip
            index = self._places.get(place)
            if index is None:
                index = self._places[place] = len(self._place_rows)
                self._place_rows.append(place)
            if len(self._last_place) >= 10_000:
                self._last_place.clear()
            self._last_place[(id(period), id(status))] = (period, status, index)
        self._place_is(state.position, index)
        summary, rating = rated(e, corrected, period, status)
        # As the first rating of its period; `finish` rewords it if it was not.
        return Change(
            item["programme"], item["ref"], summary, "status", None, status["status"], period.label, rating
        )

    def _place_is(self, position: int, index: int) -> None:
        at = self._place_at
        if index > 0xFFFF and at.typecode == "H":
            at = self._place_at = array("I", at)
        if len(at) <= position:
            at.frombytes(bytes(at.itemsize * max(position + 1 - len(at), 65_536)))
        at[position] = index

    def finish(self, conn: sqlite3.Connection) -> None:
        """Write period_ratings, rag_summary and the items' latest period and version from
        the status events' audit rows, in the build's transaction."""
        pass_ = _Pass(self._place_rows, self._place_at)
        create_index(conn, TABLES_BY_NAME["audit_log"], _BY_PERIOD)
        # Written a chunk at a time as the pass goes, so memory holds one chunk's rows and
        # one period's counts, not the whole log's (10M events: the pass had grown by 300 MB).
        ratings = pass_.ratings(conn.execute(_IN_ORDER))
        insert_rating, insert_rag = insert_statement("period_ratings"), insert_statement("rag_summary")
        while chunk := list(islice(ratings, self._chunk)):
            conn.executemany(insert_rating, chunk)
            conn.executemany(insert_rag, pass_.take_rag_rows())
        conn.executemany(insert_rag, pass_.take_rag_rows())
        # Rewording audit rows waits for the pass: it reads audit_log while it runs.
        conn.executemany(_STATUS_CHANGED, pass_.status_changed)
        conn.executemany(_UPDATE_REVISED, pass_.update_revised)
        conn.executemany(
            _ITEM,
            (
                (label, start, version, programme, ref)
                for (programme, ref), (start, _, label, version) in pass_.items.items()
            ),
        )


class _Fields:
    """A status event's stored fields as attributes, which is how rating_of and rated read
    an event."""


class _Pass:
    """The handlers' rules (projections.handlers.items), applied a period's ratings at a time."""

    def __init__(self, place_rows: list[tuple[Any, ...]], place_at: array[int]) -> None:
        self.places, self.place_at = place_rows, place_at
        self.status_changed: list[tuple[str, int]] = []  # (status before, position)
        self.update_revised: list[tuple[int, int]] = []  # (position before, position)
        # The current period's counts: status -> [count, last +1 position, its place,
        # last position, its start]; its rag_summary rows go to rag_done when it ends.
        self.counts: dict[str, list[Any]] = {}
        self.rag_done: list[tuple[Any, ...]] = []
        # (programme, ref) -> (latest period's start, first position rating it, label, version)
        self.items: dict[tuple[str, str], tuple[str, int, str, int]] = {}

    def _count(self, key: str, delta: int, position: int, start: str, place: Any) -> None:
        entry = self.counts.get(key)
        if entry is None:
            entry = self.counts[key] = [0, -1, None, -1, ""]
        entry[0] += delta
        if delta > 0 and position > entry[1]:
            entry[1], entry[2] = position, place
        if position > entry[3]:
            entry[3], entry[4] = position, start

    def ratings(self, rows: sqlite3.Cursor) -> Iterator[tuple[Any, ...]]:
        """period_ratings' rows, one per (programme, period, ref), noting the rest on the way.
        `rows` come a period at a time, in log order within it."""
        group: tuple[str, str] | None = None
        # The period's rows so far, by ref. Nothing below depends on the order of refs;
        # they are written in ref order, period_ratings' key order.
        rated: dict[str, tuple[Any, ...]] = {}
        for programme, period, ref, position, status, category, at, reason, version, kind, start in rows:
            place = self.places[self.place_at[position]]
            if (programme, period) != group:
                yield from (rated[r] for r in sorted(rated))
                self._period_done(group)
                group, rated = (programme, period), {}
            row = rated.get(ref)
            changed = row is None or row[5] != status
            if row is None:
                first, restated, restated_reason, restated_at, count = at, 0, "", None, 1
            else:
                restating = kind == "StatusCorrected" or changed
                first, count = row[9], row[13] + 1
                restated = 1 if restating or row[10] else 0
                restated_reason = reason if restating else row[11]
                restated_at = at if restating else row[12]
                if changed:
                    self.status_changed.append((row[5], position))
                else:
                    self.update_revised.append((row[15], position))
            if changed:
                if row is not None:
                    self._count(row[5], -1, position, start, None)
                self._count(status, +1, position, start, place)
            rated[ref] = (
                programme, ref, period, start, place[_PREVIOUS], status, category, place[_RANK],
                place[_ORDER], first, restated, restated_reason, restated_at, count, version, position,
            )  # fmt: skip
            latest = self.items.get((programme, ref))
            if latest is None or start > latest[0] or (start == latest[0] and position < latest[1]):
                self.items[(programme, ref)] = (
                    start,
                    position,
                    period,
                    max(version, latest[3] if latest else 0),
                )
            elif version > latest[3]:
                self.items[(programme, ref)] = (*latest[:3], version)
        yield from (rated[r] for r in sorted(rated))
        self._period_done(group)

    def _period_done(self, group: tuple[str, str] | None) -> None:
        """The period's rag_summary rows, now its counts are final."""
        if group is None:
            return
        programme, period = group
        for status, (count, _, place, _, start) in self.counts.items():
            if count > 0:
                self.rag_done.append((
                    programme, period, start, status, place[_CATEGORY], place[_ORDER], count,
                    place[_STATUS_CATEGORY], place[_GROUP], place[_COLOUR],
                ))  # fmt: skip
        self.counts = {}

    def take_rag_rows(self) -> list[tuple[Any, ...]]:
        """The rag_summary rows of the periods ended since the last call."""
        done, self.rag_done = self.rag_done, []
        return done
