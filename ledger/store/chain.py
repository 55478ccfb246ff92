"""The hash chain both event stores share: one definition of a link, and the rows a
store supplies so that verification can check them.

    leaf = sha256(field(position) || field(originator_id) || field(originator_version)
                  || field(topic) || field(state))
    head = sha256(previous head || leaf)          (the genesis head is 32 zero bytes)

where field(x) is a 4-byte big-endian length followed by the bytes of x; integers are
8-byte big-endian signed, text is UTF-8, and the originator id is hashed exactly as
SQLite stores it (the UUID's 32-digit hex, or the text id). Binding the position
(eventsourcing's notification id) into the leaf makes reordering detectable; chaining
the heads makes any edit, deletion or insertion in the middle detectable. Truncation
of the tail is only detectable against a checkpoint.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple, TypeAlias
from uuid import UUID

from ledger.errors import LedgerError

GENESIS_HEAD = bytes(32)
PAGE_SIZE = 10_000

# Fixed-width integer fields, with their length prefix (always 8) packed in one call.
_INT_FIELD = struct.Struct(">Iq")
_LEN = struct.Struct(">I")


def leaf_input(
    position: int,
    originator_id: str,
    originator_version: int,
    topic: str,
    state: bytes,
) -> bytes:
    """The canonical length-prefixed encoding of one stored event: what the chain's leaf
    and the Merkle tree's leaf (ledger.store.merkle) both hash.

    Raises TypeError/AttributeError/struct.error if a column holds a value of the wrong
    type, UnicodeEncodeError for text that was not valid UTF-8 when read.
    """
    oid = originator_id.encode()
    top = topic.encode()
    return b"".join(
        (
            _INT_FIELD.pack(8, position),
            _LEN.pack(len(oid)),
            oid,
            _INT_FIELD.pack(8, originator_version),
            _LEN.pack(len(top)),
            top,
            _LEN.pack(len(state)),
            state,
        )
    )


def link(prev_head: bytes, encoded: bytes) -> tuple[bytes, bytes]:
    """The (leaf, head) for an event whose `leaf_input` is `encoded`."""
    leaf = sha256(encoded).digest()
    return leaf, sha256(prev_head + leaf).digest()


def chain_link(
    prev_head: bytes,
    position: int,
    originator_id: str,
    originator_version: int,
    topic: str,
    state: bytes,
) -> tuple[bytes, bytes]:
    """The (leaf, head) for one stored event. The single definition of the chain.

    Used by both recorders when writing and by verification, so they can never drift
    apart. Raises as `leaf_input` does for a column of the wrong type or text that was
    not valid UTF-8 (verification reports both as tampering).
    """
    return link(prev_head, leaf_input(position, originator_id, originator_version, topic, state))


def hashed_originator_id(originator_id: UUID | str) -> str:
    """The originator id as the chain hashes it: a UUID's 32-digit hex (as SQLite stores
    it), else the text id, so hashes match across backends."""
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id


class ChainLink(NamedTuple):
    """One stored chain row: a position, its event's leaf and the head after it."""

    position: int
    leaf: bytes
    head: bytes


# A store's public chain reader: the stored links with after < position <= last.
ChainReader = Callable[[int, int], list[ChainLink]]

# One position of the log as a store supplies it to verification, in position order:
#   (position, has_event, originator_id, originator_version, topic, state, leaf, head)
# The event columns are None when only the chain has the position; leaf and head are
# None when only the events table has it. The originator id is as stored: text on
# SQLite, a UUID from PostgreSQL's uuid column.
Row: TypeAlias = tuple[int, bool, Any, Any, Any, Any, Any, Any]


class StoreUnavailable(LedgerError):
    """The configured event store cannot be reached (a server down, a wrong password)."""


class StoreDamaged(Exception):
    """Raised by a store's row supply when the storage itself cannot be read any further
    (a damaged database page): verification reports it at the next unchecked position."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def pages(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while page := list(islice(rows, size)):
        yield page


@dataclass(frozen=True)
class Checkpoint:
    """The chain head after the first `events` positions, at a point in time."""

    events: int
    head: str
    taken_at: str
    database: str

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Checkpoint:
        """Read a checkpoint file written by `write_checkpoint`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            checkpoint = cls(
                events=int(data["events"]),
                head=str(data["head"]).lower(),
                taken_at=str(data.get("taken_at", "")),
                database=str(data.get("database", "")),
            )
            if checkpoint.events < 0:
                raise ValueError("events is negative")
            if len(bytes.fromhex(checkpoint.head)) != len(GENESIS_HEAD):
                raise ValueError("head is not a sha256 digest")
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            raise ValueError(f"{path} is not a ledger checkpoint ({e})") from e
        return checkpoint
