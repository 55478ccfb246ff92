"""retirements.csv, footnotes.csv and history.csv: items taken off the register (retired,
merged, reinstated), the footnote markers a register prints instead of a status, and a
history grid (one row per item, one column per period)."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain import ITEM_KINDS, Item
from ledger.errors import InvalidValue, LedgerError, UnknownRef
from ledger.periods import Cadence, Period
from ledger.transfer.kinds.base import SKIPPED, UNCHANGED, Applied, Applying, Kind, RowCells, Unique
from ledger.transfer.results import Outcome
from ledger.transfer.table import Row, key

ACTIONS = ("retire", "merge", "reinstate")
# The grid's own columns; every other header must be a period.
HISTORY_COLUMNS = ("programme", "ref")
HISTORY_OPTIONAL = ("title", "kind", "notes", "restate")


@dataclass(slots=True)
class RetirementRow(Row):
    ref: str
    action: str
    period: str
    merged_into: str
    reason: str


@dataclass(slots=True)
class FootnoteRow(Row):
    marker: str
    ref: str  # "" = any item of the programme
    meaning: str


@dataclass(slots=True)
class HistoryRow(Row):
    ref: str
    title: str
    kind: str
    restate: str  # the reason for restating a period that disagrees with the ledger
    cells: list[list[str]]  # [period label, column as headed, "status" or "note", value]


def period_header(text: str) -> bool:
    """Whether a grid header is a period in any form the period parser accepts."""
    for cadence in Cadence:
        try:
            Period.parse(text, cadence)
        except LedgerError:
            continue
        return True
    return False


def parse_notes(text: str) -> dict[str, str]:
    """A row's notes column: "*: merged into R5; †: withdrawn" -> {marker: meaning}."""
    notes: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        marker, colon, meaning = part.partition(":")
        if not colon or not marker.strip() or not meaning.strip():
            raise InvalidValue(
                f"{part!r} does not say what a marker means: write it like '*: merged into R5' "
                "(several separated by ';')."
            )
        notes[marker.strip()] = meaning.strip()
    return notes


def split_marker(text: str, declared: dict[str, str]) -> tuple[str, str | None]:
    """A cell as (status text, note): "*" -> ("", note), "Green *" or "Green*" -> ("Green",
    note) when the row declares "*"; otherwise (text, None)."""
    if text in declared:
        return "", declared[text]
    for mark in sorted(declared, key=len, reverse=True):
        if text.endswith(mark) and text[: -len(mark)].strip():
            return text[: -len(mark)].strip(), declared[mark]
    return text, None


# --------------------------------------------------------------------------- retirements


def check_retirement(v: RowCells) -> RetirementRow | None:
    programme = v.programme()
    if programme is None:
        return None
    ref = v.required("ref", "Enter the item's ref.")
    action = v.raw("action").strip().lower()
    if action not in ACTIONS:
        v.fail("action", f"{v.raw('action')!r} is not an action: use one of {', '.join(ACTIONS)}.")
    period = v.period(programme)
    merged_into = v.raw("merged_into")
    if action == "merge" and not merged_into:
        v.fail("merged_into", f"Enter the ref {ref or 'the item'} is merged into.")
    if action != "merge" and merged_into:
        v.fail("merged_into", f"Only a merge names the item merged into: the action is {action!r}.")
    reason = v.required("reason", f"Give the reason {ref or 'the item'} is {action}d.")
    if v.bad:
        return None
    return RetirementRow(v.table, v.number, programme.slug, ref, action, period, merged_into, reason)


def apply_retirement(applier: Applying, row: RetirementRow) -> Applied:
    item = _item(applier, row.programme, row.ref)
    if item is None:
        return SKIPPED
    kwargs = applier.command_kwargs(row.reason)
    if row.action == "reinstate":
        if any(span[1] == row.period for span in item.retirements):
            return Applied(item.id, Outcome.UNCHANGED)
        applier.ledger.reinstate_item(row.programme, row.ref, period=row.period, **kwargs)
    else:
        if any(span[0] == row.period and key(span[2]) == key(row.merged_into) for span in item.retirements):
            return Applied(item.id, Outcome.UNCHANGED)
        applier.ledger.retire_item(
            row.programme, row.ref, period=row.period, merged_into=row.merged_into, **kwargs
        )
    return Applied(item.id, Outcome.CHANGED)


def _item(applier: Applying, programme: str, ref: str) -> Item | None:
    """The row's item; None if its own row has a problem (the row is then skipped)."""
    item = applier.batch.find(Item, applier.item_id(programme, ref))
    if item is None:
        if (key(programme), key(ref)) in applier.broken_items:
            return None
        raise UnknownRef(
            f"{applier.batch.programme(programme).name} has no item {ref!r}: add it to items.csv "
            "(or the items sheet), or check the ref.", field="ref",
        )
    return item


# --------------------------------------------------------------------------- footnotes


def check_footnote(v: RowCells) -> FootnoteRow | None:
    programme = v.programme()
    if programme is None:
        return None
    marker = v.required("marker", "Enter the marker the register prints, like *.")
    meaning = v.required("meaning", f"Say what {marker or 'the marker'} means, like 'merged into R5'.")
    if v.bad:
        return None
    ref = v.raw("ref")
    v.checker.footnotes.setdefault((key(programme.slug), key(ref)), {})[marker] = meaning
    return FootnoteRow(v.table, v.number, programme.slug, marker, ref, meaning)


def unique_footnote(row: FootnoteRow) -> Unique:
    return Unique(
        (key(row.programme), row.marker, key(row.ref)), "marker",
        f"marker {row.marker!r} for {row.ref or 'every item'}",
    )


def apply_footnote(applier: Applying, row: FootnoteRow) -> Applied:
    return UNCHANGED  # a footnote says what a grid's marker means; the grid records it


# --------------------------------------------------------------------------- history grid


def check_history(v: RowCells) -> HistoryRow | None:
    programme = v.programme()
    if programme is None:
        return None
    ref = v.required("ref", "Enter the item's ref.")
    kind = " ".join(v.raw("kind").lower().split())
    if kind and kind not in ITEM_KINDS:
        v.fail("kind", f"{v.raw('kind')!r} is not a kind of item: use one of {', '.join(ITEM_KINDS)}.")
    notes = v.check("notes", parse_notes) or {}
    declared = {
        **v.checker.footnotes.get((key(programme.slug), ""), {}),
        **v.checker.footnotes.get((key(programme.slug), key(ref)), {}),
        **notes,
    }
    cells: list[list[str]] = []
    for column in v.table.columns:
        if column in HISTORY_COLUMNS or column in HISTORY_OPTIONAL:
            continue
        text = v.raw(column)
        if column in v.table.defined_period_headers:
            # A header only the programme's own periods may read: whether any row reads
            # it is known after the last row (Checker.check_grid_headers).
            label = v.checker.grid_period(programme, v.table, column, v.number if text else None)
            if label is None or not text:
                continue
        elif not text:
            continue  # not on the register that period: nothing to record
        else:
            try:  # one grid may hold quarterly and monthly programmes: each reads its own
                label = v.checker.period(programme, column)
            except LedgerError as error:
                v.fail(column, f"the column {column!r} is not a period of this programme: {error.message}")
                continue
        text, note = split_marker(text, declared)
        if note is not None and not text:
            cells.append([label, column, "note", note])
        elif not any(c.isalnum() for c in text):
            v.fail(column, (
                f"{text!r} is a footnote marker nothing declares for {ref or 'this item'}: say what "
                f"it means in the row's notes column (like '{text}: merged into R5') or in the "
                "footnotes sheet."
            ))
        else:
            status = v.check(
                column, lambda _, c=column, t=text: v.checker.status(programme, t, rated=False, field=c)
            )
            cells.append([label, column, "status", status])
            if note is not None:  # "Green *": a status, and the note the marker declares
                cells.append([label, column, "note", note])
    if v.bad:
        return None
    return HistoryRow(
        v.table, v.number, programme.slug, ref, v.raw("title"), kind, v.raw("restate"), cells
    )


def unique_history(row: HistoryRow) -> Unique:
    return Unique((key(row.programme), key(row.ref)), "ref", f"ref {row.ref!r}")


def apply_history(applier: Applying, row: HistoryRow) -> Applied:
    item_id = applier.item_id(row.programme, row.ref)
    outcome = Outcome.CHANGED
    if applier.batch.find(Item, item_id) is None:
        if not row.title:
            _item(applier, row.programme, row.ref)  # raises, or None: skipped
            return SKIPPED
        applier.ledger.register_item(
            row.programme, row.ref, kind=row.kind or "action", title=row.title,
            **applier.command_kwargs(applier.reason(row)),
        )
        applier.history[item_id] = {}
        outcome = Outcome.NEW
    history = applier.history[item_id]
    for period, column, what, value in row.cells:
        try:
            if what == "note":
                applier.ledger.note_item(
                    row.programme, row.ref, period=period, note=value,
                    **applier.command_kwargs(applier.reason(row)),
                )
                continue
            recorded = history.setdefault(period, [])
            latest = recorded[-1][0] if recorded else None
            if latest == value:
                continue  # the ledger says the same: overlapping snapshots agree
            if latest is not None and not row.restate:
                applier.problem(row, column, (
                    f"{row.ref} is recorded {latest or 'not rated'} for {period}, and this grid says "
                    f"{value or 'not rated'}. Restate it only on purpose: give the reason in the "
                    "row's restate column, or import the file with --restate-reason."
                ))
                continue
            update, mitigation = (recorded[-1][1], recorded[-1][2]) if recorded else ("", "")
            reason = applier.reason(row, row.restate) if latest is not None else ""
            applier.ledger.record_status(
                row.programme, row.ref, period=period, status=value, update=update,
                mitigation=mitigation, **applier.command_kwargs(reason),
            )
            recorded.append((value, update, mitigation))
        except LedgerError as error:
            applier.problem(row, column, error.message)
    return Applied(item_id, outcome)


RETIREMENTS = Kind(
    "retirements", ("programme", "ref", "action", "period", "merged_into", "reason"),
    check_retirement, apply_retirement,
)
FOOTNOTES = Kind(
    "footnotes", ("programme", "marker", "meaning"), check_footnote, apply_footnote, unique_footnote,
    optional=("ref",),
)
HISTORY = Kind(
    "history", HISTORY_COLUMNS, check_history, apply_history, unique_history,
    optional=HISTORY_OPTIONAL, period_columns=True,
)
