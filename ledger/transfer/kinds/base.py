"""What every import kind declares (its columns, its row, how a row is checked and how it
is applied), and the small wording helpers the kinds share."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from ledger.application import Batch, Ledger, StatusHistory
from ledger.errors import DuplicateRef, InvalidValue
from ledger.scales import Scale
from ledger.transfer.results import Outcome
from ledger.transfer.table import Row, Table


class Applied(NamedTuple):
    """What applying a row did: the aggregate it touched (None if it touched none), and
    whether it adds to or alters what the ledger held before this import."""

    aggregate_id: UUID | None
    outcome: Outcome


SKIPPED = Applied(None, Outcome.SKIPPED)
UNCHANGED = Applied(None, Outcome.UNCHANGED)


class Unique(NamedTuple):
    """What may appear only once per file: the key, the column to blame, and its words."""

    key: Hashable
    column: str
    what: str


# What the kinds use of the checker and the applier (ledger.transfer.check and .apply),
# so the kinds depend on these shapes and not on the modules that drive them.


class ProgrammeFacts(Protocol):
    slug: str
    cadence: str
    scale: Scale


class Checking(Protocol):
    def status(self, programme: Any, text: str, *, rated: bool, field: str = "status") -> str: ...

    def claim_programme(self, slug: str, cadence: str, scale: Scale) -> None: ...

    # scales.csv: each scale's first row, by scale id, as the file defines it.
    scale_rows: dict[str, Any]

    def scale(self, text: str) -> Scale: ...

    # programmes.csv: each programme's row, by key, as the file gives it.
    programme_rows: dict[str, Any]

    def scale_began(self, slug: str, scale: Scale) -> None: ...

    def period(self, programme: Any, text: str) -> str: ...

    # footnotes.csv: (programme, ref or "" for every item) -> {marker: meaning}
    footnotes: dict[tuple[str, str], dict[str, str]]

    # periods.csv: programme -> [name, first day, last day] per period, as the file defines them.
    defined_periods: dict[str, list[list[str]]]


class RowCells(Protocol):
    """One row's cells by column name; checks record problems and set `bad`."""

    table: Table
    number: int
    bad: bool

    @property
    def checker(self) -> Checking: ...

    def raw(self, column: str) -> str: ...

    def fail(self, column: str | None, message: str) -> None: ...

    def required(self, column: str, message: str) -> str: ...

    def check(self, column: str, convert: Callable[[str], Any]) -> Any: ...

    def period(self, programme: Any) -> str: ...

    def programme(self) -> ProgrammeFacts | None: ...


class Applying(Protocol):
    """The batch an import applies its rows into, and what it knows of the ledger."""

    ledger: Ledger
    batch: Batch
    actor: str
    history: dict[UUID, StatusHistory]
    before_import: dict[UUID, frozenset[str]]
    broken_items: set[tuple[str, str]]
    defined: set[UUID]  # indicators a row of this import defined or redefined

    def item_id(self, programme: str, ref: str) -> UUID: ...

    def reason(self, row: Row, own: str = "") -> str: ...

    def command_kwargs(self, reason: str) -> dict[str, Any]: ...

    def lead_account(self, lead_officer: str) -> str | None: ...

    def problem(self, row: Row, column: str, message: str) -> None: ...

    def later(self, row: Row, step: Callable[[], Any]) -> None:
        """Run `step` for `row` once every row has applied (a link to a later kind's record)."""
        ...


@dataclass(frozen=True)
class Kind:
    name: str  # "statuses": the file or sheet name
    columns: tuple[str, ...]  # required, in the order docs/import-format.md lists them
    check: Callable[[RowCells], Any]  # the typed row, or None once its problems are recorded
    apply: Callable[[Applying, Any], Applied]
    unique: Callable[[Any], Unique | None] = lambda row: None  # None: may repeat
    # Columns a file may leave out; export always writes them so history round-trips.
    optional: tuple[str, ...] = ()
    # Columns in `columns` (so in their documented place) that a file may also leave out.
    may_omit: tuple[str, ...] = ()
    # Every other column is a period (a history grid): its header must parse as one.
    period_columns: bool = False


def yes_or_no(flag: bool) -> str:
    return "yes" if flag else "no"


def same_spelling(wanted: str, existing: str, what: str = "refs") -> None:
    """The ledger's record for `wanted` must be spelt as the row spells it."""
    if existing != wanted:
        raise DuplicateRef(
            f"{wanted!r} is already in the ledger as {existing!r} ({what} ignore case). "
            "Use the ledger's spelling.", field="ref" if what == "refs" else "programme",
        )


def fixed_values(what: str, fixed: list[tuple[str, Any, Any]]) -> None:
    """Values an import cannot change: each (column, in the ledger, in the row) must agree."""
    for column, now, wanted in fixed:
        if now != wanted:
            raise InvalidValue(
                f"{what} with {column} {now!r}, and an import cannot change it (this row "
                f"says {wanted!r}).", field=column,
            )
