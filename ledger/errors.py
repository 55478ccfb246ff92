"""Domain errors. Each message is written for the person who typed the input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class LedgerError(Exception):
    """Base for every error a user can act on. `field` names the input at fault, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class InvalidInput(LedgerError):
    """Several problems with one input, reported together so the person fixes them in one
    go rather than one per submit. `problems` are the single errors, each naming its field."""

    def __init__(self, problems: list[LedgerError]) -> None:
        super().__init__(" ".join(p.message for p in problems))
        self.problems = problems


def raise_all(*checks: Callable[[], object]) -> None:
    """Run every check, then raise what they found: nothing, the one error, or all of them
    as one InvalidInput. A check that finds nothing returns; one that finds a problem raises."""
    problems: list[LedgerError] = []
    for check in checks:
        try:
            check()
        except InvalidInput as several:
            problems.extend(several.problems)
        except LedgerError as problem:
            problems.append(problem)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidInput(problems)


class InvalidPeriod(LedgerError):
    pass


class UnknownStatus(LedgerError):
    pass


class EmptyTitle(LedgerError):
    pass


class UnknownRef(LedgerError):
    pass


class DuplicateRef(LedgerError):
    pass


class ReasonRequired(LedgerError):
    pass


class MitigationRequired(LedgerError):
    pass


class InvalidValue(LedgerError):
    """A value of the wrong shape: a non-numeric indicator value, an unknown cadence..."""


class NothingToCorrect(LedgerError):
    pass


@dataclass(frozen=True)
class ChangeSummary:
    """One change someone else recorded since the version a user saw."""

    version: int
    actor: str
    recorded_at: str
    what: str


@dataclass
class Conflict(LedgerError):
    """Someone else changed the record since the version the user saw.

    Nothing was recorded; `changes` says who changed what, so the user can decide.
    """

    subject: str
    seen_version: int
    current_version: int
    changes: list[ChangeSummary] = field(default_factory=list)

    def __post_init__(self) -> None:
        who = ", ".join(f"{c.actor} ({c.what}, {c.recorded_at})" for c in self.changes) or "another user"
        super().__init__(
            f"{self.subject} was changed by {who} after you opened it "
            f"(you saw version {self.seen_version}, it is now version {self.current_version}). "
            "Nothing has been saved; review their change and submit again."
        )
