"""eventsourcing's replay and save, without their runtime Protocol checks.

The library's projector asserts `isinstance(event, CanMutateProtocol)` for every event
it applies, and `Application.save` checks each aggregate against two Protocols
(`DomainEventProtocol`, `CollectEventsProtocol`). On Python 3.11 a runtime-checkable
Protocol's isinstance walks the protocol's members every time: ~30 µs a check, against
~1 µs to apply an event. That was over half of loading an item with a long history,
~10% of one update's CPU and ~0.3 s of a 50,000-row import's save. Every aggregate and
event here is eventsourcing's `Aggregate` and `Aggregate.Event`, which have `mutate` and
`collect_events`; one without them still fails, with an AttributeError.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import Application, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording

A = TypeVar("A")


def replay(aggregate: A | None, events: Iterable[Any]) -> A | None:
    """`aggregate` (None before its first event) with `events` applied in turn."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def save_pending(app: Application[UUID], aggregates: Sequence[Aggregate]) -> list[Recording[UUID]]:
    """Store the aggregates' pending events in one transaction: what `Application.save`
    does for the ledger, which takes no snapshots, has no followers and does not use the
    library's aggregate cache (LedgerBase keeps its own)."""
    return app.events.put([event for aggregate in aggregates for event in aggregate.collect_events()])


def replay_by_default(repository: Repository[UUID]) -> None:
    """Make `replay` the projector of the repository's loads (the library's default is its
    `project_aggregate`, with the Protocol check); a caller's own projector still wins."""
    repository.get = partial(repository.get, projector_func=replay)  # type: ignore[method-assign]
