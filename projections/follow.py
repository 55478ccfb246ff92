"""The projector as its own service: keep projections.db caught up with the log until told
to stop (`govledger project --follow`).

On PostgreSQL the event store's `subscribe()` (eventsourcing's PostgresSubscription,
LISTEN/NOTIFY) wakes it as soon as another process commits an event. Stores that cannot
subscribe (SQLite) are polled: one cheap read of the log's last position, with the pause
between polls doubling while nothing happens, up to `idle_max` seconds.

Either way the events themselves are applied by the one `Projector.catch_up`, a page per
transaction, so web workers that still project their own saves can run beside it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from projections.system import System

FIRST_PAUSE = 0.02  # seconds: the first wait after a poll found nothing new
IDLE_MAX = 1.0

# Told (position reached, log head) after each catch-up that applied something.
Report = Callable[[int, int], None]


def follow(
    system: System,
    stop: threading.Event,
    *,
    idle_max: float = IDLE_MAX,
    report: Report | None = None,
) -> None:
    """Project every new event until `stop` is set. A `ProjectionFailed` ends it (the
    event stays in the log: fix the cause and start again)."""
    recorder = system.ledger.recorder
    try:
        subscription = recorder.subscribe(gt=system.projector.position)
    except NotImplementedError:
        _poll(system, stop, idle_max, report)
    else:
        _follow(system, subscription, stop, report)


def _catch_up(system: System, report: Report | None) -> int:
    """Apply what is new; the position reached."""
    applied = system.projector.catch_up()
    position = system.projector.position
    if applied and report is not None:
        report(position, system.ledger.get_log_position())
    return position


def _poll(system: System, stop: threading.Event, idle_max: float, report: Report | None) -> None:
    position = _catch_up(system, report)
    pause = FIRST_PAUSE
    while not stop.is_set():
        if system.ledger.get_log_position() > position:
            position = _catch_up(system, report)
            pause = FIRST_PAUSE
        else:
            stop.wait(pause)
            pause = min(pause * 2, idle_max)


def _follow(system: System, subscription: Any, stop: threading.Event, report: Report | None) -> None:
    # The subscription blocks until a notification arrives; a watcher stops it on `stop`.
    def stop_when_told() -> None:
        stop.wait()
        subscription.stop()

    watcher = threading.Thread(target=stop_when_told, name="follow-stop", daemon=True)
    watcher.start()
    with subscription:
        position = _catch_up(system, report)
        # Each notification only says "there is more": one catch-up applies everything up
        # to the head, and the notifications it covered are skipped.
        for notification in subscription:
            if notification.id > position:
                position = _catch_up(system, report)
    stop.set()  # the subscription ended on its own (its connection failed): end the watcher
