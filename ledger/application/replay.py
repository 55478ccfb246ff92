"""Replaying an aggregate's events: eventsourcing's `project_aggregate` without its check.

The library's projector asserts `isinstance(event, CanMutateProtocol)` for every event.
On Python 3.11 a runtime-checkable Protocol's isinstance walks the protocol's members
each time: ~30 µs an event, against ~1 µs to apply it, so it was over half of loading an
item with a long history (and of re-importing a big file). Every event class here is an
eventsourcing `Aggregate.Event`, which has `mutate`; an event without one still fails,
with an AttributeError, as the assert would have with an AssertionError.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

A = TypeVar("A")


def replay(aggregate: A | None, events: Iterable[Any]) -> A | None:
    """`aggregate` (None before its first event) with `events` applied in turn."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
