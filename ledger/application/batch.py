"""Batches and conflicts: how every command loads, checks and saves what it changes.

Every command runs inside a `Batch`: aggregates are loaded once, changed by domain
methods that validate and raise `LedgerError`s, and saved together in ONE transaction.
A command given no batch saves its own; an import passes one batch to many commands and
saves it at the end, so a file is recorded whole or not at all.

A command on an existing record can carry `seen_version`, the version the user saw.
If someone else has changed it since, `Conflict` says who changed what and nothing is
saved. A race between two saves of the same version is caught by the event store's
optimistic concurrency control and reported the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, LRUCache
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, StoredEvent

from ledger.application.lean import replay, replay_by_default, save_pending
from ledger.application.progress import counted
from ledger.application.spill import Recalled, Spill, recall
from ledger.domain import Item, Programme, Review, describe_event
from ledger.errors import ChangeSummary, Conflict, DuplicateRef, UnknownRef

A = TypeVar("A", bound=Aggregate)

# How many saved aggregates a process keeps for its next commands (LedgerBase.check_out);
# the environment variable overrides it, and 0 turns keeping off.
CACHE_SIZE_ENV = "GOVLEDGER_AGGREGATE_CACHE"
CACHE_SIZE = 500

# Set while commands are only being checked: per thread and task, so one request's check
# never stops another's save.
_checking: ContextVar[bool] = ContextVar("checking", default=False)


class Batch:
    """Aggregates loaded and changed by one or more commands, saved together."""

    def __init__(self, ledger: LedgerBase) -> None:
        self.ledger = ledger
        self._aggregates: dict[UUID, Aggregate] = {}
        # Ids found missing, so a batch asks the store once: an import asks after each
        # row's review, and almost none exist. A record made meanwhile by someone else
        # is still refused at save by the store's unique (originator_id, version).
        self._absent: set[UUID] = set()
        # Read ahead (`keep`), taken into the batch when first found: the batch's order
        # is then the order commands first name its records, however they were read.
        self._read_ahead: dict[UUID, Aggregate] = {}
        # Pending events written out by `spill` (a big import's), saved with the rest.
        self._spill: Spill | None = None

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id not in self._aggregates:
            self.load(aggregate_id)
        aggregate = self._aggregates.get(aggregate_id)
        if aggregate is None:
            return None
        if not isinstance(aggregate, cls):
            raise DuplicateRef(f"That id already belongs to a {type(aggregate).__name__}.")
        return aggregate

    def _fetch(self, ids: list[UUID]) -> None:
        """Bring `ids` (none held, none known missing) into the batch, in the order given:
        as the store holds them, or one this batch spilled as the store held it when the
        batch changed it (a later change by someone else then fails the save) plus its
        spilled events."""
        spilled = recall(self.ledger, self._spill, ids) if self._spill is not None else {}
        rest = [i for i in ids if i not in spilled]
        found: dict[UUID, Aggregate] = {i: r.aggregate for i, r in spilled.items()}
        if len(rest) == 1:
            with suppress(AggregateNotFoundError):
                found[rest[0]] = self.ledger.check_out(rest[0])
        elif rest:
            found.update(self.ledger.check_out_many(rest))
        for aggregate_id in ids:
            if aggregate_id in found:
                self._aggregates[aggregate_id] = found[aggregate_id]
            else:
                self._absent.add(aggregate_id)

    def note_existing(self, ids: set[UUID]) -> set[UUID]:
        """Which of `ids` the store may hold: one query where it can, else all of them."""
        existing_ids = getattr(self.ledger.recorder, "existing_ids", None)
        return existing_ids(ids) if ids and existing_ids is not None else set(ids)

    def note_missing(self, ids: Iterable[UUID]) -> set[UUID]:
        """Ask the store once which of `ids` have no record yet (so `find` need not load
        each to learn it), and return those. A store without the query: none known."""
        asked = {i for i in ids if i not in self._aggregates and i not in self._absent}
        self._absent |= asked - self.note_existing(asked)
        return self._absent

    def keep(self, aggregate: Aggregate) -> None:
        """Hold an aggregate read ahead of the commands that will find it."""
        if aggregate.id not in self._aggregates:
            self._read_ahead[aggregate.id] = aggregate
            self._absent.discard(aggregate.id)

    def add(self, aggregate: A) -> A:
        self._read_ahead.pop(aggregate.id, None)
        self._aggregates[aggregate.id] = aggregate
        self._absent.discard(aggregate.id)
        return aggregate

    def load(self, *ids: UUID) -> None:
        """Load, in one read, records the commands will `find` (missing ones too)."""
        for aggregate_id in ids:
            if aggregate_id in self._read_ahead and aggregate_id not in self._aggregates:
                self._aggregates[aggregate_id] = self._read_ahead.pop(aggregate_id)
        wanted = [i for i in ids if i not in self._aggregates and i not in self._absent]
        if wanted:
            self._fetch(wanted)

    def rated_item(self, slug: str, ref: str, period: str) -> Item:
        """The item a rating changes, read at once with its programme and the period's
        review (which the rating may supersede)."""
        owner_id = Programme.create_id(slug)
        self.load(owner_id, Item.create_id(owner_id, ref), Review.create_id(owner_id, ref, period))
        return self.item(self.programme(slug), ref)

    def programme(self, slug: str) -> Programme:
        programme = self.find(Programme, Programme.create_id(slug))
        if programme is None:
            raise UnknownRef(f"There is no programme {slug!r}.", field="programme")
        return programme

    def item(self, programme: Programme, ref: str) -> Item:
        item = self.find(Item, Item.create_id(programme.id, ref))
        if item is None:
            raise UnknownRef(f"{programme.name} has no item {ref!r}.", field="ref")
        return item

    def existing(self, cls: type[A], aggregate_id: UUID, missing: str, field: str = "ref") -> A:
        """A record a command changes: one that is not there is an unknown ref."""
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise UnknownRef(missing, field=field)
        return aggregate

    def aggregates(self) -> list[Aggregate]:
        return list(self._aggregates.values())

    def spill(self) -> None:
        """Write every pending event out to the batch's scratch file, as the stored events
        the save will insert, and let every aggregate go (`find` rebuilds one from the
        log plus its spilled events). Only between commands: none holds an aggregate."""
        if self._spill is None:
            self._spill = Spill()
        to_stored = self.ledger.mapper.to_stored_event
        held = self._aggregates
        self._spill.write(held, (to_stored(e) for a in held.values() for e in a.collect_events()))
        held.clear()
        self._read_ahead.clear()
        self._absent.clear()  # asked again if named again: kept, a big file's ids add up

    def stored_events(self, aggregate_id: UUID) -> list[Any]:
        """An aggregate's events in the log, up to this batch's first change to it."""
        spilled = self._spill.events_of([aggregate_id]).get(aggregate_id) if self._spill else None
        last = spilled[0].originator_version - 1 if spilled else None
        return list(self.ledger.events.get(aggregate_id, lte=last))

    def recorded_events(self, aggregate_id: UUID, *, stored: bool) -> list[Any]:
        """Every event of an aggregate as this batch has it: the log's (if `stored`: it
        was there before the batch) up to the batch's first change, the spilled, then
        the pending."""
        events = self.stored_events(aggregate_id) if stored else []
        if self._spill is not None:
            to_domain = self.ledger.mapper.to_domain_event
            events += [to_domain(s) for s in self._spill.events_of([aggregate_id]).get(aggregate_id, ())]
        held = self._aggregates.get(aggregate_id)
        return events + (list(held.pending_events) if held is not None else [])

    def recall(self, ids: Iterable[UUID]) -> dict[UUID, Recalled]:
        """Those of `ids` this batch spilled, read ahead, with their events (spill.recall)."""
        spill, held = self._spill, self._aggregates
        found = recall(self.ledger, spill, [i for i in ids if i not in held]) if spill else {}
        for recalled in found.values():
            self.keep(recalled.aggregate)
        return found

    def spilled(self) -> Spill | None:
        """The batch's spilled events (all of them once `spill` ran last), or None."""
        return self._spill

    def close(self) -> None:
        """Delete the scratch file, if any (the batch is saved or dropped)."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None


class LedgerBase(Application[UUID]):
    """The ledger's saving and conflict checks, which every family of commands uses."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        replay_by_default(self.repository)
        size = int(self.env.get(CACHE_SIZE_ENV) or CACHE_SIZE)
        self._kept: LRUCache[UUID, Aggregate] | None = LRUCache(size) if size > 0 else None
        # Called with the last log position after every save; the projector subscribes here
        # so a user sees their own write on the next page.
        self.after_save: list[Callable[[int], None]] = []

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Run several commands and save them in one transaction, or none if any fails."""
        batch = Batch(self)
        try:
            yield batch
            self.save_batch(batch)
        finally:
            batch.close()

    def save_batch(self, batch: Batch) -> None:
        """Save what `batch` changed in one transaction (nothing while only checking)."""
        if not _checking.get():
            self._save_batch(batch)
            self._check_in(batch.aggregates())

    def check_out(self, aggregate_id: UUID) -> Aggregate:
        """An aggregate as the store holds it now, for a batch to change: one kept from an
        earlier save, brought up to date with the events stored since (another process's
        too), else replayed from its first event. AggregateNotFoundError if none."""
        kept = self._take_kept(aggregate_id)
        if kept is None:
            return self.repository.get(aggregate_id)
        return cast(Aggregate, replay(kept, self.events.get(aggregate_id, gt=kept.version)))

    def check_out_many(self, ids: Iterable[UUID]) -> dict[UUID, Aggregate]:
        """Several aggregates as `check_out` gives them, in one read where the store can
        (else one each); ids with no events are left out."""
        select = getattr(self.recorder, "select_events_after", None)
        if select is None:
            found = {}
            for aggregate_id in ids:
                with suppress(AggregateNotFoundError):
                    found[aggregate_id] = self.check_out(aggregate_id)
            return found
        kept = {aggregate_id: self._take_kept(aggregate_id) for aggregate_id in ids}
        events: dict[UUID, list[Any]] = {aggregate_id: [] for aggregate_id in kept}
        for stored in select({i: 0 if k is None else k.version for i, k in kept.items()}):
            events[stored.originator_id].append(self.mapper.to_domain_event(stored))
        loaded = {i: replay(kept[i], events[i]) for i in kept}
        return {i: aggregate for i, aggregate in loaded.items() if aggregate is not None}

    def _take_kept(self, aggregate_id: UUID) -> Aggregate | None:
        if self._kept is not None:
            with suppress(KeyError):
                return self._kept.get(aggregate_id, evict=True)
        return None

    def _check_in(self, aggregates: list[Aggregate]) -> None:
        """Keep a batch's aggregates once saved, so the next command need not replay them.
        Only a saved batch's (its state is then the store's): a failed or only-checked
        one's are dropped, and an aggregate is out of the cache while a batch holds it,
        so no two threads ever change one object."""
        if self._kept is not None:
            for aggregate in aggregates:
                if not aggregate.pending_events:
                    self._kept.put(aggregate.id, aggregate)

    @contextmanager
    def checking_only(self) -> Iterator[None]:
        """Run commands for the problems they raise, saving nothing: a form with errors
        of its own still hears every rule it breaks, in one go."""
        token = _checking.set(True)
        try:
            yield
        finally:
            _checking.reset(token)

    @contextmanager
    def _changes(self, batch: Batch | None) -> Iterator[Batch]:
        if batch is not None:
            yield batch
        else:
            with self.batch() as own:
                yield own

    def _create(
        self, batch: Batch | None, make: Callable[[Batch], A], duplicate: Callable[[A, Batch], str]
    ) -> UUID:
        """The outline of every creation command: make the record from what was typed
        (the domain validates), refuse one whose id exists, and save it."""
        with self._changes(batch) as b:
            aggregate = make(b)
            if b.find(type(aggregate), aggregate.id) is not None:
                raise DuplicateRef(duplicate(aggregate, b), field="ref")
            b.add(aggregate)
        return aggregate.id

    def _change(
        self,
        batch: Batch | None,
        load: Callable[[Batch], A],
        change: Callable[[A, Batch], object],
        seen_version: int | None = None,
    ) -> UUID:
        """The outline of every command on an existing record: load it, check it is still
        the version the user saw, change it (the domain validates), and save."""
        with self._changes(batch) as b:
            aggregate = load(b)
            self._check_seen(aggregate, seen_version)
            change(aggregate, b)
        return aggregate.id

    def _save_batch(self, batch: Batch) -> None:
        if batch.spilled() is not None:
            self._save_spilled(batch)
            return
        aggregates = [a for a in batch.aggregates() if a.pending_events]
        if not aggregates:
            return
        # Saving collects the pending events, so note first which version each change is on.
        seen = [(a.id, a.pending_events[0].originator_version - 1) for a in aggregates]
        try:
            recordings = save_pending(self, aggregates)
        except IntegrityError:
            raise self._race_conflict(seen) from None
        if recordings:
            self._saved(recordings[-1].notification.id)

    def _save_spilled(self, batch: Batch) -> None:
        """A batch that spilled (see ledger.application.spill): the rest spilled too, then
        every event inserted through the recorder in chunks, in one transaction."""
        batch.spill()
        spill = batch.spilled()
        assert spill is not None
        if not spill.events:
            return
        try:
            last = self._insert_chunks(counted(spill.chunks()))
        except IntegrityError:
            raise self._race_conflict((i, first - 1) for i, first in spill.first_versions()) from None
        if last is not None:
            self._saved(last)

    def _insert_chunks(self, chunks: Iterator[list[StoredEvent]]) -> int | None:
        """Insert stored events in one transaction, a chunk at a time where the recorder
        can (ledger.store's); the last position."""
        insert = getattr(self.recorder, "insert_event_chunks", None)
        if insert is not None:
            return cast(int | None, insert(chunks))
        positions = self.recorder.insert_events([stored for chunk in chunks for stored in chunk])
        return positions[-1] if positions else None

    def _saved(self, position: int) -> None:
        for listener in self.after_save:
            listener(position)

    def _race_conflict(self, seen: Iterable[tuple[UUID, int]]) -> Conflict:
        """Someone saved first: find whose record moved on past the version this batch
        changed it from (`seen`), and what they did."""
        for aggregate_id, version in seen:
            changes = self._changes_since(aggregate_id, version)
            if changes:
                return Conflict(
                    subject=_subject(self.repository.get(aggregate_id)),
                    seen_version=version,
                    current_version=changes[-1].version,
                    changes=changes,
                )
        return Conflict(subject="The record", seen_version=0, current_version=0)

    def _changes_since(self, aggregate_id: UUID, version: int) -> list[ChangeSummary]:
        return [
            ChangeSummary(
                version=e.originator_version,
                actor=getattr(e, "actor", ""),
                recorded_at=e.timestamp.strftime("%d %b %Y %H:%M UTC"),
                what=describe_event(e),
            )
            for e in self.events.get(aggregate_id, gt=version)
        ]

    def _check_seen(self, aggregate: Aggregate, seen_version: int | None) -> None:
        if seen_version is not None and aggregate.version != seen_version:
            raise Conflict(
                subject=_subject(aggregate),
                seen_version=seen_version,
                current_version=aggregate.version,
                changes=self._changes_since(aggregate.id, seen_version),
            )


def _subject(aggregate: Aggregate) -> str:
    ref = (
        getattr(aggregate, "ref", None)
        or getattr(aggregate, "username", None)
        or getattr(aggregate, "slug", "")
    )
    return f"{type(aggregate).__name__} {ref}".strip()
