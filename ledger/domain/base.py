"""What every aggregate shares: deterministic ids, the persisted topic rule, and the
checks on typed text that more than one aggregate makes.

Every event records who (`actor`) and why (`reason`, required for corrections and
re-ratings); eventsourcing stamps each event with its recorded time (`timestamp`), and
period events carry the valid time (`period`, a canonical label such as "2024/25 Q1").
Nothing is ever edited: a correction is a new event naming the version it corrects.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.errors import EmptyTitle, InvalidValue, ReasonRequired

NAMESPACE = UUID("0f6f3c2e-7a43-4f0e-9d5c-3b1f2a9e8c71")

# Persisted topics name the public package, not the file a class is written in:
# `ledger.domain:Item.StatusRecorded` whichever module of ledger/domain/ holds Item.
PUBLIC_PACKAGE = "ledger.domain"


def public_topic(cls: type) -> str:
    return f"{PUBLIC_PACKAGE}:{cls.__qualname__}"


class LedgerAggregate(Aggregate):
    """Base of every aggregate. It gives each aggregate and event class an explicit topic
    (eventsourcing's `TOPIC`), so the log's topics, and so its hashes, stay the same when
    the code moves between modules."""

    class Event(Aggregate.Event):
        def __init_subclass__(cls, **kwargs: Any) -> None:
            cls.TOPIC = public_topic(cls)
            super().__init_subclass__(**kwargs)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        cls.TOPIC = public_topic(cls)
        super().__init_subclass__(**kwargs)


@lru_cache(maxsize=65536, typed=True)
def natural_id(*parts: object) -> UUID:
    """A deterministic id from a natural key; refs compare without regard to case, so a
    duplicate ref can never become a second aggregate. Memoised (a pure function): an
    import asks for the same programme's and items' ids on every row."""
    return uuid5(NAMESPACE, "/".join(str(p).strip().casefold() for p in parts))


def required_text(value: str, message: str, field: str, error: type = EmptyTitle) -> str:
    text = (value or "").strip()
    if not text:
        raise error(message, field=field)
    return text


def require_reason(reason: str, what: str) -> str:
    return required_text(reason, f"Give a reason: {what}.", "reason", ReasonRequired)


def yes_no(value: str | bool | None, field: str, default: bool | None = None) -> str:
    """'yes' or 'no'; left empty, the default, or '' (not stated) when there is none."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = (value or "").strip().lower()
    if not text and default is not None:
        return "yes" if default else "no"
    if text in ("", "yes", "no"):
        return text
    if text in ("y", "true", "1"):
        return "yes"
    if text in ("n", "false", "0"):
        return "no"
    raise InvalidValue(f"{value!r} is not yes or no.", field=field)
