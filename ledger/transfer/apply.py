"""Applying checked rows through the ledger's own commands into one batch, each row's
outcome noted (new, changed, unchanged, skipped, or a problem mapped back to its row and,
through the error's `field`, its column)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.application import Batch, Ledger, StatusHistory
from ledger.application.queries import add_statuses
from ledger.domain import Item, LeadDirectory, Programme, Review
from ledger.errors import LedgerError, UnknownRef
from ledger.transfer.check import Checked
from ledger.transfer.kinds import BY_NAME
from ledger.transfer.kinds.items import ItemRow, StatusRow
from ledger.transfer.kinds.programmes import ProgrammeRow
from ledger.transfer.kinds.register import HistoryRow, RetirementRow
from ledger.transfer.results import ImportResult, Outcome, RowOutcome
from ledger.transfer.table import Row, key


class Histories(dict[UUID, StatusHistory]):
    """Each item's statuses per period; one let go (`Applier.spill`) is rebuilt from the
    item's events when asked for."""

    def __init__(self, recorded: Callable[[UUID], Iterable[Any]]) -> None:
        super().__init__()
        self._recorded = recorded

    def __missing__(self, item_id: UUID) -> StatusHistory:
        periods = self[item_id] = add_statuses({}, self._recorded(item_id))
        return periods


class Applier:
    """Applies typed rows through the ledger's commands into one batch."""

    def __init__(
        self, ledger: Ledger, batch: Batch, actor: str, result: ImportResult, checked: Checked,
        source_name: str | None = None,
    ) -> None:
        self.ledger, self.batch, self.actor, self.result = ledger, batch, actor, result
        self.source_name = source_name  # what the person called the file, if not its own name
        self.history = Histories(self._recorded)  # item -> period -> every update recorded
        self.before_import: dict[UUID, frozenset[str]] = {}  # periods rated before this import
        self.broken_items = set(checked.broken_items)
        self.broken_programmes = set(checked.broken_programmes)
        self.skipped = 0  # rows not checked because a row they depend on has a problem
        self._pending_seen: dict[UUID, int] = {}
        self._item_ids: dict[tuple[str, str], UUID] = {}
        self._leads: LeadDirectory | None = None
        self._later: list[tuple[Row, Callable[[], Any]]] = []
        # id(row) -> its index in result.rows, for rows with a later step only (a dict
        # entry a row is ~100 bytes: 100 MB at a million rows)
        self._outcome_at: dict[int, int] = {}
        self._later_rows: set[int] = set()
        self._event_names: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per distinct
        # Indicators a row of this import defined or redefined: later rows must agree.
        self.defined: set[UUID] = set()

    def _recorded(self, item_id: UUID) -> list[Any]:
        return self.batch.recorded_events(item_id, stored=item_id in self.before_import)

    def spill(self) -> None:
        """Let the batch write out what the rows so far changed (see Batch.spill), and let
        go of what is kept per item: each is rebuilt when a later row names the item."""
        self.batch.spill()
        self._pending_seen.clear()
        self.history.clear()
        self._item_ids.clear()

    def item_id(self, programme: str, ref: str) -> UUID:
        """Item ids, memoised: a uuid5 per row is a measurable share of a 50k-row import."""
        cached = (programme, ref)
        if cached not in self._item_ids:
            self._item_ids[cached] = Item.create_id(Programme.create_id(programme), ref)
        return self._item_ids[cached]

    def preload_items(self, rows: Iterable[Row]) -> None:
        """Load every item `rows` name, once, with its whole status history: the item and
        its history from the same one read of its events.

        Done before any command of those rows runs, so nothing pending in the batch can be
        replaced. An item an earlier list met (a big file applies its rows a list at a
        time, letting go of each between) is read again, once: one the batch changed
        comes back from the log as it stood plus the events the batch spilled."""
        named = (ItemRow, StatusRow, HistoryRow, RetirementRow)
        rows = list(rows)
        ids = {self.item_id(row.programme, row.ref) for row in rows if isinstance(row, named)}
        ids -= self.history.keys()
        met = ids & self.before_import.keys()  # in the log before this import: not missing
        # One query for which items, and which statuses' reviews, exist: most rows of a
        # big file are new, and loading each to learn that costs a transaction.
        reviews = {
            Review.create_id(Programme.create_id(row.programme), row.ref, row.period)
            for row in rows if isinstance(row, StatusRow)
        }
        recalled = self.batch.recall(ids)
        for item_id, (_, stored, spilled) in recalled.items():
            if stored:  # in the log before this import
                self.before_import.setdefault(item_id, frozenset(add_statuses({}, stored)))
            self.history[item_id] = add_statuses({}, [*stored, *spilled])
        rest = ids - recalled.keys()
        missing = self.batch.note_missing((rest - met) | reviews)
        for item_id in rest - missing:
            periods = self.ledger.get_status_history(item_id, self.batch)
            if periods is None:
                continue  # a new item
            self.history[item_id] = periods
            self.before_import.setdefault(item_id, frozenset(periods))

    def lead_account(self, lead_officer: str) -> str | None:
        """The account a lead's text names, if exactly one (the accounts read once)."""
        if self._leads is None:
            self._leads = self.ledger.get_lead_directory()
        return self._leads.match(lead_officer)

    def command_kwargs(self, reason: str) -> dict[str, Any]:
        return {"actor": self.actor, "reason": reason, "batch": self.batch}

    def reason(self, row: Row, own: str = "") -> str:
        """The reason for changing something recorded before this import: the import."""
        name = f"Imported from {self.source_name or row.table.file}"
        return f"{name}: {own}" if own else name

    def problem(self, row: Row, column: str, message: str) -> None:
        """A problem with one cell of a row that goes on (a history grid names each cell)."""
        self.result.problems.append(row.table.problem(message, row.number, column))

    def later(self, row: Row, step: Callable[[], Any]) -> None:
        self._later.append((row, step))
        self._later_rows.add(id(row))

    def apply(self, row: Row) -> Outcome:
        table = row.table
        try:
            aggregate_id, outcome = BY_NAME[table.kind].apply(self, row)
        except LedgerError as error:
            return self._failed(row, error)
        if outcome is Outcome.SKIPPED:
            return self._failed(row, None)
        events = self._new_events(table.kind, aggregate_id)
        if not events:
            outcome = Outcome.UNCHANGED
        if id(row) in self._later_rows:
            self._outcome_at[id(row)] = len(self.result.rows)
        self.result.rows.append(RowOutcome(table.file, table.sheet, table.kind, row.number, outcome, events))
        return outcome

    def apply_later(self) -> None:
        """The steps rows left for after every row (see `later`), counted as their rows'."""
        for row, step in self._later:
            try:
                aggregate_id = step()
            except LedgerError as error:
                self._failed(row, error)
                continue
            events = self._new_events(row.table.kind, aggregate_id)
            if events and id(row) in self._outcome_at:
                at = self._outcome_at[id(row)]
                done = self.result.rows[at]
                outcome = Outcome.CHANGED if done.outcome is Outcome.UNCHANGED else done.outcome
                self.result.rows[at] = dataclasses.replace(done, outcome=outcome, events=done.events + events)
        self._later.clear()
        self._later_rows.clear()

    def _new_events(self, kind: str, aggregate_id: UUID | None) -> tuple[str, ...]:
        """The events pending on the aggregate since it was last counted, added to the totals."""
        if aggregate_id is None:
            return ()
        aggregate = self.batch.find(Aggregate, aggregate_id)
        assert aggregate is not None  # the kind's apply just loaded or made it
        pending = aggregate.pending_events
        before = self._pending_seen.get(aggregate_id, 0)
        self._pending_seen[aggregate_id] = len(pending)
        names = tuple(type(e).__name__ for e in pending[before:])
        events = self._event_names.setdefault(names, names)
        if events:
            by_kind = self.result.events_by_kind
            by_kind[kind] = by_kind.get(kind, 0) + len(events)
            self.result.events_by_type.update(events)
        return events

    def _failed(self, row: Row, error: LedgerError | None) -> Outcome:
        """A row with a problem (`error`), or skipped (None) because one it depends on has."""
        if isinstance(row, ProgrammeRow):  # its rows are skipped, not reported again
            self.broken_programmes.add(key(row.programme))
        elif isinstance(row, ItemRow):  # its children and statuses likewise
            self.broken_items.add((key(row.programme), key(row.ref)))
        if isinstance(error, UnknownRef) and error.field == "programme" and (
            key(row.programme) in self.broken_programmes
        ):
            error = None
        if error is None:
            self.skipped += 1
            return Outcome.SKIPPED
        table = row.table
        column = error.field if error.field in table.columns else None
        self.result.problems.append(table.problem(error.message, row.number, column))
        return Outcome.PROBLEM
