"""A Merkle tree over the event log, per RFC 9162 section 2.1, kept beside the hash chain.

    leaf hash     = SHA-256(0x00 || leaf_input)       leaf_input: ledger.store.chain.leaf_input
    interior node = SHA-256(0x01 || left || right)

The leaves are the stored events in position order, numbered densely from 0 (the
"index"); PostgreSQL's positions can have gaps, so each store keeps the index <->
position mapping (on SQLite, whose positions are dense, it is position = index + 1).
The stores (ledger.store.sqlite, ledger.store.postgres_merkle) keep the hash of every
COMPLETE subtree: node (level, i) covers leaves [i * 2^level, (i + 1) * 2^level);
level 0 is the leaf hashes. Each append adds, in the same transaction as its events,
the leaves and the interior nodes they complete (`grow`); SQLite keeps them in one
table numbered in that order (`node_id`). Any tree size's root, and any inclusion
or consistency proof, is then a fold of O(log n) stored nodes: a range of leaves that
RFC 9162 splits further than a complete subtree is its complete subtrees, largest
first, folded from the right (`_range_keys`, `_fold`).

A store whose log predates the tree has events the tree does not cover; appends leave
the tree alone until `govledger merkle-backfill` (`backfill`) has caught it up, and
`MerkleLog` refuses to answer for it (TreeNotBuilt) rather than prove a shorter log.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from hashlib import sha256
from typing import Any, NamedTuple, Protocol, runtime_checkable

from ledger.errors import LedgerError
from ledger.store.chain import hashed_originator_id
from ledger.store.chain import leaf_input as encode_event

# (level, index) of a complete subtree; its hash is a NodeHash.
NodeKey = tuple[int, int]
# A stored node: (level, index, hash); level 0 is a leaf hash.
Node = tuple[int, int, bytes]
# (position, originator_id, originator_version, topic, state) as a store reads them.
EventRow = tuple[int, Any, int, str, bytes]

EMPTY_ROOT = sha256(b"").digest()  # RFC 9162: the hash of an empty list is SHA-256 of nothing
BACKFILL_BATCH = 5_000


def leaf_hash(leaf_input: bytes) -> bytes:
    """SHA-256(0x00 || leaf_input)."""
    return sha256(b"\x00" + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return sha256(b"\x01" + left + right).digest()


def event_leaf_input(row: EventRow) -> bytes:
    """The leaf input of a stored event row, its originator id hashed as the chain does."""
    position, originator_id, version, topic, state = row
    return encode_event(position, hashed_originator_id(originator_id), version, topic, bytes(state))


class TreeNotBuilt(LedgerError):
    """The store's Merkle tree does not cover its whole log (it predates the tree)."""


class TreeState(NamedTuple):
    """How far the tree and the log reach: leaves in the tree, the position of its last
    leaf, and the last position of the log (both None when empty)."""

    leaves: int
    last_leaf_position: int | None
    last_log_position: int | None

    @property
    def current(self) -> bool:
        return self.last_leaf_position == self.last_log_position


class TreeRows(NamedTuple):
    """What an append adds: (index, position, leaf hash) leaves, and the (level, index,
    hash) interior nodes they complete (level >= 1; a leaf is its own level-0 node)."""

    leaves: list[tuple[int, int, bytes]]
    nodes: list[tuple[int, int, bytes]]


# --- the tree's shape --------------------------------------------------------------------


def frontier_keys(size: int) -> list[NodeKey]:
    """The complete subtrees covering leaves [0, size), largest (leftmost) first."""
    return _range_keys(0, size)


def _range_keys(start: int, end: int) -> list[NodeKey]:
    """The complete subtrees covering [start, end), largest first, where `start` is a
    multiple of the largest power of two below end - start (true of every range the
    RFC 9162 recursion visits), so each piece is aligned and stored."""
    keys = []
    length = end - start
    for level in reversed(range(length.bit_length())):
        if length >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def _fold(hashes: Sequence[bytes]) -> bytes:
    """The RFC 9162 hash of a range from its complete subtrees, largest first."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The right edge of a growing tree: its complete subtrees as (level, hash), largest
    first, merged like a binary counter as leaves arrive. O(log n) memory, so it also
    serves a root recomputed from a whole log in one pass."""

    def __init__(self, edge: Iterable[tuple[int, bytes]] = ()) -> None:
        self.edge = list(edge)
        self.size = sum(1 << level for level, _ in self.edge)

    def add(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; the (level, index, hash) nodes it completes, its own first."""
        index, current, level = self.size, leaf, 0
        completed = [(0, index, leaf)]
        while self.edge and self.edge[-1][0] == level:
            current = node_hash(self.edge.pop()[1], current)
            level += 1
            completed.append((level, index >> level, current))
        self.edge.append((level, current))
        self.size += 1
        return completed

    def add_event(self, row: EventRow) -> list[tuple[int, int, bytes]]:
        """Append a stored event's leaf (`add`)."""
        return self.add(leaf_hash(event_leaf_input(row)))

    def root(self) -> bytes:
        """The root hash of the leaves so far."""
        return _fold([h for _, h in self.edge]) if self.edge else EMPTY_ROOT


def grow(frontier: Frontier, leaves: Iterable[tuple[int, bytes]]) -> TreeRows:
    """What appending `leaves` ((position, leaf hash), in position order) to the tree
    whose right edge is `frontier` adds: the leaves and every interior node they
    complete, so the store keeps all complete subtrees. `frontier` moves on with them."""
    added: list[tuple[int, int, bytes]] = []
    nodes: list[tuple[int, int, bytes]] = []
    for position, leaf in leaves:
        added.append((frontier.size, position, leaf))
        nodes += frontier.add(leaf)[1:]
    return TreeRows(added, nodes)


# A store's reader of stored nodes, inside its own transaction.
NodeReader = Callable[[Collection[NodeKey]], dict[NodeKey, bytes]]


def stored_frontier(size: int, read_nodes: NodeReader) -> Frontier:
    """The right edge of a stored tree of `size` leaves, read with `read_nodes` (a
    store's reader, inside the appending transaction)."""
    keys = frontier_keys(size)
    found = read_nodes(keys)
    if missing := [key for key in keys if key not in found]:
        raise TreeNotBuilt(f"the Merkle tree is missing node(s) {missing[:3]} on its right edge")
    return Frontier((level, found[level, index]) for level, index in keys)


def extension(size: int, read_nodes: NodeReader, leaves: Iterable[tuple[int, bytes]]) -> TreeRows:
    """`grow` a stored tree of `size` leaves by `leaves`."""
    return grow(stored_frontier(size, read_nodes), leaves)


# --- numbering the stored nodes in the order they are completed -----------------------------


def node_id(level: int, index: int) -> int:
    """The post-order number of complete subtree (level, index): the order `Frontier.add`
    completes nodes in, so each append's nodes take the next numbers (and an SQLite
    table keyed by it is written at its end). Leaf L is 2L - popcount(L); the nodes it
    completes follow it, one per level."""
    last = ((index + 1) << level) - 1  # the last leaf it covers
    return 2 * last - last.bit_count() + level


def node_key(number: int) -> NodeKey | None:
    """(level, index) of a post-order number; None if no node has it."""
    if number < 0:
        return None
    # The last leaf it covers: the largest L with 2L - popcount(L) <= number, found by
    # stepping down from a bound at most about log2(number) / 2 above it.
    last = (number + number.bit_length() + 2) // 2
    while last and 2 * last - last.bit_count() > number:
        last -= 1
    level = number - (2 * last - last.bit_count())
    if (last + 1) % (1 << level):  # leaf `last` completes no node that high
        return None
    return level, ((last + 1) >> level) - 1


def leaves_in(count: int) -> int | None:
    """How many leaves a tree of `count` stored nodes (all its complete subtrees) has;
    None if no tree has that many."""
    size = count // 2
    while 2 * size - size.bit_count() < count:
        size += 1
    return size if 2 * size - size.bit_count() == count else None


def event_leaves(rows: Iterable[EventRow]) -> list[tuple[int, bytes]]:
    """(position, leaf hash) of stored event rows."""
    return [(row[0], leaf_hash(event_leaf_input(row))) for row in rows]


def root_of_events(rows: Iterable[EventRow]) -> tuple[int, bytes]:
    """(size, RFC 9162 root) of event rows, recomputed from the events: a checkpoint's
    root, and (`ledger.store.tree_check`) what the stored tree is checked against."""
    frontier = Frontier()
    for row in rows:
        frontier.add_event(row)
    return frontier.size, frontier.root()


# --- proofs as ranges to hash ------------------------------------------------------------


def _inclusion_ranges(index: int, start: int, end: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.3.1 PATH(m, D[n]) as the leaf ranges whose hashes it lists, leaf
    level first."""
    path: list[tuple[int, int]] = []
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    return path[::-1]


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as leaf ranges."""
    proof: list[tuple[int, int]] = []
    start, end, m, whole = 0, new, old, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append((start + k, end))
            end = start + k
        else:
            proof.append((start, start + k))
            m -= k
            start += k
            whole = False
    if not whole:
        proof.append((start, end))
    return proof[::-1]


# --- reading a store's tree --------------------------------------------------------------


@runtime_checkable
class MerkleStore(Protocol):
    """What a recorder provides for MerkleLog (both hash-chained recorders do)."""

    def merkle_state(self) -> TreeState: ...
    def merkle_read(self, keys: Collection[NodeKey]) -> tuple[TreeState, dict[NodeKey, bytes]]: ...
    def merkle_position(self, index: int) -> int | None: ...
    def merkle_index(self, position: int) -> int | None: ...
    def event_row(self, position: int) -> EventRow | None: ...
    def merkle_extend(self, limit: int) -> TreeState: ...


def merkle_log(recorder: object) -> MerkleLog | None:
    """The Merkle log of an application's recorder (`app.recorder`), or None for a
    recorder that keeps no tree."""
    return MerkleLog(recorder) if isinstance(recorder, MerkleStore) else None


class MerkleLog:
    """Roots and proofs over a store's Merkle tree. Indices are leaf indices (0-based,
    dense); `position` / `index_of` convert to and from log positions.

    Every method raises TreeNotBuilt when the tree does not yet cover the whole log, and
    ValueError for a size or index outside the tree.
    """

    def __init__(self, recorder: object) -> None:
        if not isinstance(recorder, MerkleStore):
            raise TypeError(f"{type(recorder).__name__} keeps no Merkle tree")
        self.store: MerkleStore = recorder

    def size(self) -> int:
        """The number of leaves (events) in the tree."""
        return self._covering(self.store.merkle_state())

    @staticmethod
    def _covering(state: TreeState) -> int:
        """The tree's size, if it covers the whole log."""
        if not state.current:
            raise TreeNotBuilt(
                f"The event store's Merkle tree covers {state.leaves:,} events but the log "
                f"runs to position {state.last_log_position or 0:,}: run `govledger merkle-backfill` "
                "to build it before asking for proofs."
            )
        return state.leaves

    def position(self, index: int) -> int:
        """The log position of leaf `index`."""
        self._check(index, self.size(), "index")
        position = self.store.merkle_position(index)
        if position is None:
            raise ValueError(f"leaf {index} is not in the tree")
        return position

    def index_of(self, position: int) -> int:
        """The leaf index of the event at log `position`."""
        index = self.store.merkle_index(position)
        if index is None or index >= self.size():
            raise ValueError(f"no event at position {position} in the tree")
        return index

    def event(self, index: int) -> EventRow:
        """The stored event of leaf `index`: (position, originator id, version, topic, state)."""
        position = self.position(index)
        row = self.store.event_row(position)
        if row is None:
            raise ValueError(f"no event at position {position}")
        return row

    def leaf_input(self, index: int) -> bytes:
        """The canonical encoding of event #index (what its leaf hash covers)."""
        return event_leaf_input(self.event(index))

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first `size` leaves (all of them by default)."""
        size = self.size() if size is None else size
        if size == 0:
            self._check(0, self.size() + 1, "size")
            return EMPTY_ROOT
        return self._hashes([(0, size)], size)[0]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The RFC 9162 audit path of leaf `index` in the tree of the first `size` leaves."""
        self._check(index, size, "index")
        return self._hashes(_inclusion_ranges(index, 0, size), size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """The RFC 9162 proof that the tree of `new_size` leaves extends that of
        `old_size`; empty when old_size is 0 or equal to new_size (nothing to prove)."""
        self._check(old_size, new_size + 1, "old size")
        if old_size in (0, new_size):
            self._check(new_size, self.size() + 1, "new size")
            return []
        return self._hashes(_consistency_ranges(old_size, new_size), new_size)

    def _hashes(self, ranges: Sequence[tuple[int, int]], size: int) -> list[bytes]:
        """The hash of each leaf range within the first `size` leaves, from one read of
        the tree's size and the nodes they need."""
        self._check(size, size + 1, "size")  # not negative
        pieces = [_range_keys(start, end) for start, end in ranges]
        wanted = {key for keys in pieces for key in keys}
        state, found = self.store.merkle_read(wanted)
        self._check(size, self._covering(state) + 1, "size")
        if missing := wanted - found.keys():
            raise TreeNotBuilt(f"the Merkle tree is missing node(s) {sorted(missing)[:3]}")
        return [_fold([found[key] for key in keys]) for keys in pieces]

    @staticmethod
    def _check(value: int, limit: int, name: str) -> None:
        if not 0 <= value < limit:
            raise ValueError(f"{name} {value} is outside the tree (0 to {limit - 1})")


def backfill(recorder: object, progress: Callable[[int, int], None] | None = None) -> TreeState:
    """Build the Merkle tree for the events it does not cover yet, a batch per
    transaction, so an interrupted run resumes where it stopped and a second run does
    nothing. Appends made meanwhile are picked up: the last batch catches the tree up
    under the store's write lock. `progress(leaves, last position)` after each batch."""
    if not isinstance(recorder, MerkleStore):
        raise TypeError(f"{type(recorder).__name__} keeps no Merkle tree")
    while True:
        state = recorder.merkle_extend(BACKFILL_BATCH)
        if progress is not None:
            progress(state.last_leaf_position or 0, state.last_log_position or 0)
        if state.current:
            return state
