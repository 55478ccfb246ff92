"""Random tampering with a copy of a real event log, and whether verification catches it
at the right place (issue 15: the tamper fuzz).

Each trial copies the log, makes ONE change to its stored events the way someone with
write access to the file could (triggers dropped, rows rewritten with SQL):

- byte:    one byte of one event's originator id, version, topic or state changed
- delete:  one event removed, leaving a gap, or with later events renumbered down,
           or together with its chain row (a gap in both), or the last event and its
           chain row (the log cut short: only the checkpoint can tell)
- insert:  a forged event put in at a position, later events renumbered up; or
           appended after the last event without a chain row
- reorder: two events swapped, or one event moved elsewhere (others shift)

and runs `verify_against` with a C2SP checkpoint taken before the change: the hash
chain first, then the Merkle root of the checkpoint's events recomputed from the events
(what a consistency proof against that checkpoint checks). A trial is caught when the
result is not intact AND it names, as the first bad position, the first position at
which the tampered log differs from the original.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import struct
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from helpers_store import guards_dropped

from ledger.store import signed_checkpoints as signed

# position -> (originator_id, version, topic, state); chain: position -> (leaf, head)
Events = dict[int, tuple[object, ...]]
Chain = dict[int, tuple[bytes, bytes]]
Mutation = Callable[[random.Random, Events, Chain], tuple[str, Events, Chain]]


@dataclass
class Tally:
    tried: int = 0
    caught: int = 0  # not intact, first bad position named correctly
    by_checkpoint: int = 0  # of those, only the checkpoint saw it (the chain alone was fooled)
    missed: list[str] = field(default_factory=list)  # intact although changed
    misplaced: list[str] = field(default_factory=list)  # caught, at the wrong position
    kinds: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.kinds.items()))
        return (
            f"tamper fuzz: tried {self.tried}, caught {self.caught} (the chain alone "
            f"{self.caught - self.by_checkpoint}, the checkpoint {self.by_checkpoint}), "
            f"missed {len(self.missed)}, wrong position {len(self.misplaced)} [{kinds}]"
        )


def read_log(db: Path) -> tuple[Events, Chain]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        events = {
            row[0]: tuple(row[1:])
            for row in conn.execute(
                "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
            )
        }
        links = conn.execute("SELECT position, leaf, head FROM event_chain")
        chain = {row[0]: (row[1], row[2]) for row in links}
    return events, chain


def write_log(db: Path, events: Events, chain: Chain) -> None:
    """Replace the copy's events and chain with these, positions as given."""
    with guards_dropped(db) as conn:
        conn.execute("DELETE FROM stored_events")
        conn.execute("DELETE FROM event_chain")
        conn.executemany(
            "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, CAST(? AS TEXT), ?)",
            [(p, *row) for p, row in sorted(events.items())],
        )
        links = [(p, *c) for p, c in sorted(chain.items())]
        conn.executemany("INSERT INTO event_chain VALUES (?, ?, ?)", links)


def first_difference(before: Events, after: Events) -> int:
    return min(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


# --- the mutations -----------------------------------------------------------------------


def _changed_byte(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + bytes([(data[at] + rng.randrange(1, 256)) % 256]) + data[at + 1 :]


def change_byte(rng: random.Random, events: Events, chain: Chain) -> tuple[str, Events, Chain]:
    position = rng.choice(sorted(events))
    oid, version, topic, state = events[position]
    column = rng.choice(["originator_id", "version", "topic", "state"])
    if column == "version":  # one byte of its 8-byte two's complement form
        raw = _changed_byte(rng, struct.pack("<q", version))  # type: ignore[arg-type]
        changed: tuple[object, ...] = (oid, struct.unpack("<q", raw)[0], topic, state)
    elif column == "state":
        changed = (oid, version, topic, _changed_byte(rng, state))  # type: ignore[arg-type]
    else:  # text, as bytes: the new byte may leave it invalid UTF-8, stored as such
        index = 0 if column == "originator_id" else 2
        row = list(events[position])
        row[index] = _changed_byte(rng, str(row[index]).encode())
        changed = tuple(row)
    return f"byte:{column}", {**events, position: changed}, chain


def _renumbered(rows: list[tuple[object, ...]]) -> Events:
    return {p: row for p, row in enumerate(rows, start=1)}


def delete(rng: random.Random, events: Events, chain: Chain) -> tuple[str, Events, Chain]:
    how = rng.choice(["gap", "renumbered", "with its chain row", "the last, with its chain row"])
    position = max(events) if how.startswith("the last") else rng.choice(sorted(events))
    kept = {p: row for p, row in events.items() if p != position}
    if how == "renumbered":
        return f"delete:{how}", _renumbered([kept[p] for p in sorted(kept)]), chain
    if how.endswith("with its chain row"):
        chain = {p: c for p, c in chain.items() if p != position}
    return f"delete:{how}", kept, chain


def insert(rng: random.Random, events: Events, chain: Chain) -> tuple[str, Events, Chain]:
    oid, _, topic, state = events[rng.choice(sorted(events))]
    version = 1 + max(v for o, v, *_ in events.values() if o == oid)  # type: ignore[type-var]
    forged = (oid, version, topic, state)
    rows = [events[p] for p in sorted(events)]
    if rng.random() < 0.25:
        return "insert:appended", {**events, max(events) + 1: forged}, chain
    rows.insert(rng.randrange(len(rows)), forged)
    return "insert:renumbered", _renumbered(rows), chain


def reorder(rng: random.Random, events: Events, chain: Chain) -> tuple[str, Events, Chain]:
    rows = [events[p] for p in sorted(events)]
    i, j = sorted(rng.sample(range(len(rows)), 2))
    if rng.random() < 0.5:
        rows[i], rows[j] = rows[j], rows[i]
        return "reorder:swap", _renumbered(rows), chain
    rows.insert(j, rows.pop(i))
    return "reorder:move", _renumbered(rows), chain


MUTATIONS: tuple[Mutation, ...] = (change_byte, delete, insert, reorder)


# --- a run -------------------------------------------------------------------------------


def fuzz(original_db: Path, work: Path, trials: int, seed: int = 15) -> Tally:
    """`trials` random single changes to copies of `original_db` (an intact log)."""
    checkpoint = signed.proofcheck.parse_checkpoint(signed.take_checkpoint(original_db))
    events, chain = read_log(original_db)
    rng, tally = random.Random(seed), Tally()
    copy = work / "events.db"
    for trial in range(trials):
        kind, changed, changed_chain = rng.choice(MUTATIONS)(rng, events, chain)
        if changed == events and changed_chain == chain:
            continue  # a change that changes nothing (cannot happen, but never count it)
        shutil.copyfile(original_db, copy)
        write_log(copy, changed, changed_chain)
        expected = first_difference(events, changed)
        tally.tried += 1
        tally.kinds[kind] += 1
        chain_alone = signed.verify(copy)
        result = signed.verify_against(copy, checkpoint)
        what = f"trial {trial} {kind} at {expected}"
        if result.ok:
            tally.missed.append(what)
        elif result.first_bad_position != expected:
            tally.misplaced.append(f"{what}: named {result.first_bad_position} ({result.problem})")
        else:
            tally.caught += 1
            tally.by_checkpoint += chain_alone.ok
    return tally
