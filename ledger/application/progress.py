"""How far a long save has got, for whoever is watching it (an import's progress bars, a
background job's page): the events inserted into the log, then the read model brought up
to them, each counted in events.

A context variable, so the save's chunked insert (`counted`) and the projector's catch-up
after the save (`projecting`) report to it without every call in between passing it on.
Outside `reporting_save` both report nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

Progress = Callable[[int, int], None]
T = TypeVar("T")


@dataclass
class _Save:
    inserting: Progress | None
    projecting: Progress | None
    events: int  # the events the save inserts
    inserted: int = 0


_current: ContextVar[_Save | None] = ContextVar("govledger_save_progress", default=None)


@contextmanager
def reporting_save(inserting: Progress | None, projecting: Progress | None, events: int) -> Iterator[None]:
    """Report the save of `events` events made inside this block: `inserting(done, total)`
    as they go into the log, `projecting(done, total)` as the read model catches up."""
    if (inserting is None and projecting is None) or events <= 0:
        yield
        return
    token = _current.set(_Save(inserting, projecting, events))
    try:
        yield
    finally:
        _current.reset(token)


def counted(chunks: Iterable[list[T]]) -> Iterator[list[T]]:
    """`chunks` of events as they are inserted, each reported once it is taken."""
    for chunk in chunks:
        yield chunk
        save = _current.get()
        if save is not None and save.inserting is not None:
            save.inserted += len(chunk)
            save.inserting(min(save.inserted, save.events), save.events)


def projecting(last: int) -> Progress | None:
    """For the read model's catch-up to `last`, the save's last position: its
    `progress(position, head)` as the count of the save's events projected."""
    found = _current.get()
    if found is None or found.projecting is None:
        return None
    report, events = found.projecting, found.events
    first = last - events  # the position before the save's first event
    return lambda position, head: report(min(max(position - first, 0), events), events)
