"""The Merkle tree's hashing and proofs (ledger.store.merkle) against RFC 9162 section 2.1.

Three independent references:
- the transparency-dev/merkle project's published vectors (tests/fixtures/
  merkle_vectors.json names its source: roots, complete-subtree hashes, inclusion and
  consistency proofs for its eight leaves);
- a naive recursive implementation of the RFC's MTH, PATH and PROOF, written here;
- the RFC's own verification algorithms (2.1.3.2 and 2.1.4.2), written here, run by
  hypothesis on random sizes, indices and single-bit changes; the auditor's offline
  verifier (ledger.proofcheck) must accept the same proofs.

The tree under test is grown with the stores' own code (`grow`, `extension`) into a
dictionary, so these tests cover what the recorders write as well as what MerkleLog reads.
"""

from __future__ import annotations

import json
import random
from collections.abc import Collection
from functools import cache
from hashlib import sha256
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import proofcheck
from ledger.store.merkle import (
    Frontier,
    MerkleLog,
    NodeKey,
    TreeNotBuilt,
    TreeState,
    extension,
    frontier_keys,
    leaf_hash,
    node_hash,
)

VECTORS = json.loads((Path(__file__).parent / "fixtures" / "merkle_vectors.json").read_text())


class MemoryTree:
    """A MerkleStore in a dictionary, grown a batch at a time as a recorder grows its
    tables. Positions are 10, 20, 30... so the index <-> position mapping is exercised."""

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, bytes] = {}
        self.positions: dict[int, int] = {}
        self.inputs: list[bytes] = []
        self.log_end = 0  # events the "log" holds; more than the tree before a backfill

    def append(self, inputs: list[bytes]) -> None:
        size = len(self.positions)
        leaves = [(10 * (size + i + 1), leaf_hash(data)) for i, data in enumerate(inputs)]
        rows = extension(size, lambda keys: {k: self.nodes[k] for k in keys if k in self.nodes}, leaves)
        self.positions.update({index: position for index, position, _ in rows.leaves})
        self.nodes.update({(0, index): h for index, _, h in rows.leaves})
        self.nodes.update({(level, index): h for level, index, h in rows.nodes})
        self.inputs += inputs
        self.log_end = max(self.log_end, len(self.positions))

    def merkle_state(self) -> TreeState:
        size = len(self.positions)
        return TreeState(size, 10 * size or None, 10 * self.log_end or None)

    def merkle_read(self, keys: Collection[NodeKey]) -> tuple[TreeState, dict[NodeKey, bytes]]:
        return self.merkle_state(), {key: self.nodes[key] for key in keys if key in self.nodes}

    def merkle_position(self, index: int) -> int | None:
        return self.positions.get(index)

    def merkle_index(self, position: int) -> int | None:
        return {p: i for i, p in self.positions.items()}.get(position)

    def event_row(self, position: int) -> None:
        return None

    def merkle_extend(self, limit: int) -> TreeState:
        return self.merkle_state()


def tree_of(inputs: list[bytes], batches: int = 1, seed: int = 0) -> tuple[MemoryTree, MerkleLog]:
    """A tree of `inputs` appended in `batches` random-sized batches."""
    store = MemoryTree()
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(inputs)), min(batches - 1, max(len(inputs) - 1, 0))))
    for start, end in zip([0, *cuts], [*cuts, len(inputs)], strict=True):
        store.append(inputs[start:end])
    return store, MerkleLog(store)


# --- the RFC, naively (no code shared with ledger.store.merkle) --------------------------


def _h(*parts: bytes) -> bytes:
    return sha256(b"".join(parts)).digest()


def _largest_power_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Naive:
    """RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1, recursively, over one list of leaf inputs."""

    def __init__(self, inputs: list[bytes]) -> None:
        self.inputs = inputs
        self.mth = cache(self._mth)

    def _mth(self, start: int, end: int) -> bytes:
        if end == start:
            return _h()
        if end - start == 1:
            return _h(b"\x00", self.inputs[start])
        k = _largest_power_below(end - start)
        return _h(b"\x01", self.mth(start, start + k), self.mth(start + k, end))

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        if end - start == 1:
            return []
        k = _largest_power_below(end - start)
        if m < k:
            return [*self.path(m, start, start + k), self.mth(start + k, end)]
        return [*self.path(m - k, start + k, end), self.mth(start, start + k)]

    def subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        if m == end - start:
            return [] if whole else [self.mth(start, end)]
        k = _largest_power_below(end - start)
        if m <= k:
            return [*self.subproof(m, start, start + k, whole), self.mth(start + k, end)]
        return [*self.subproof(m - k, start + k, end, False), self.mth(start, start + k)]


# --- the RFC's verification algorithms ---------------------------------------------------


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _h(b"\x01", p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _h(b"\x01", r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 2.1.4.2 (for 0 < first < second)."""
    if not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_hash, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _h(b"\x01", c, fr)
            sr = _h(b"\x01", c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _h(b"\x01", sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# --- the published vectors ---------------------------------------------------------------


def vector_tree(batches: int) -> tuple[MemoryTree, MerkleLog]:
    return tree_of([bytes.fromhex(x) for x in VECTORS["leaf_inputs"]], batches=batches)


def test_leaf_and_node_hashes_are_rfc_9162s() -> None:
    level0, level1 = VECTORS["node_hashes"][0], VECTORS["node_hashes"][1]
    assert leaf_hash(b"").hex() == level0[0]
    assert leaf_hash(bytes.fromhex("00")).hex() == level0[1]
    assert node_hash(bytes.fromhex(level0[0]), bytes.fromhex(level0[1])).hex() == level1[0]


@pytest.mark.parametrize("batches", [1, 3, 8])
def test_the_stored_tree_holds_the_published_complete_subtrees(batches: int) -> None:
    store, _ = vector_tree(batches)
    expected = {
        (level, index): bytes.fromhex(h)
        for level, hashes in enumerate(VECTORS["node_hashes"])
        for index, h in enumerate(hashes)
    }
    assert store.nodes == expected


@pytest.mark.parametrize("batches", [1, 5, 8])
def test_roots_match_the_published_roots_for_every_size(batches: int) -> None:
    _, log = vector_tree(batches)
    assert [log.root(size).hex() for size in range(9)] == VECTORS["root_hashes"]
    assert log.root().hex() == VECTORS["root_hashes"][8]


@pytest.mark.parametrize(
    "vector", VECTORS["inclusion"], ids=lambda v: f"{v['leaf_index']}-of-{v['tree_size']}"
)
def test_inclusion_proofs_match_the_published_ones(vector: dict) -> None:
    _, log = vector_tree(4)
    assert log.root(vector["tree_size"]).hex() == vector["root"]
    proof = log.inclusion_proof(vector["leaf_index"], vector["tree_size"])
    assert [p.hex() for p in proof] == vector["proof"]


@pytest.mark.parametrize(
    "vector", VECTORS["consistency"], ids=lambda v: f"{v['old_size']}-to-{v['new_size']}"
)
def test_consistency_proofs_match_the_published_ones(vector: dict) -> None:
    _, log = vector_tree(4)
    assert log.root(vector["old_size"]).hex() == vector["old_root"]
    assert log.root(vector["new_size"]).hex() == vector["new_root"]
    proof = log.consistency_proof(vector["old_size"], vector["new_size"])
    assert [p.hex() for p in proof] == vector["proof"]


# --- against the naive implementation, sizes 1..70 -------------------------------------


def test_every_root_and_proof_up_to_70_leaves_matches_the_naive_rfc() -> None:
    inputs = [f"event {i}".encode() * (i % 4) for i in range(70)]
    naive = Naive(inputs)
    _, log = tree_of(inputs, batches=17, seed=70)
    for size in range(1, 71):
        assert log.root(size) == naive.mth(0, size), size
        for index in range(size):
            assert log.inclusion_proof(index, size) == naive.path(index, 0, size), (index, size)
        for old in range(1, size):
            assert log.consistency_proof(old, size) == naive.subproof(old, 0, size, True), (old, size)


# --- property tests with the RFC's verifiers ------------------------------------------


@st.composite
def sized_trees(draw: st.DrawFn, max_size: int = 600) -> tuple[MemoryTree, MerkleLog, int]:
    size = draw(st.integers(1, max_size))
    batches = draw(st.integers(1, min(size, 12)))
    store, log = tree_of([i.to_bytes(4, "big") for i in range(size)], batches, seed=size)
    return store, log, size


@settings(max_examples=60, deadline=None)
@given(data=st.data(), built=sized_trees())
def test_every_inclusion_proof_verifies_and_a_changed_bit_fails(
    data: st.DataObject, built: tuple[MemoryTree, MerkleLog, int]
) -> None:
    store, log, tree_size = built
    size = data.draw(st.integers(1, tree_size), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    leaf = leaf_hash(store.inputs[index])
    root = log.root(size)
    proof = log.inclusion_proof(index, size)
    assert verify_inclusion(index, size, leaf, proof, root)
    assert proofcheck.verify_inclusion(index, size, leaf, proof, root)  # the auditor's verifier agrees
    # Any single-bit change to the proof, leaf or root fails. (Not the size: a leftmost
    # leaf's path can fit two sizes; the size is bound by the signed checkpoint.)
    bit = data.draw(st.integers(0, 255), label="bit")
    flipped = lambda h: (int.from_bytes(h) ^ (1 << bit)).to_bytes(32)  # noqa: E731
    assert not verify_inclusion(index, size, flipped(leaf), proof, root)
    assert not verify_inclusion(index, size, leaf, proof, flipped(root))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="proof item")
        assert not verify_inclusion(
            index, size, leaf, [*proof[:at], flipped(proof[at]), *proof[at + 1 :]], root
        )


@settings(max_examples=60, deadline=None)
@given(data=st.data(), built=sized_trees())
def test_every_consistency_proof_verifies_and_a_changed_bit_fails(
    data: st.DataObject, built: tuple[MemoryTree, MerkleLog, int]
) -> None:
    _, log, tree_size = built
    if tree_size < 2:
        return
    new = data.draw(st.integers(2, tree_size), label="new size")
    old = data.draw(st.integers(1, new - 1), label="old size")
    old_root, new_root = log.root(old), log.root(new)
    proof = log.consistency_proof(old, new)
    assert verify_consistency(old, new, old_root, new_root, proof)
    assert proofcheck.verify_consistency(old, new, old_root, new_root, proof)
    bit = data.draw(st.integers(0, 255), label="bit")
    flipped = lambda h: (int.from_bytes(h) ^ (1 << bit)).to_bytes(32)  # noqa: E731
    assert not verify_consistency(old, new, flipped(old_root), new_root, proof)
    assert not verify_consistency(old, new, old_root, flipped(new_root), proof)
    at = data.draw(st.integers(0, len(proof) - 1), label="proof item")
    assert not verify_consistency(
        old, new, old_root, new_root, [*proof[:at], flipped(proof[at]), *proof[at + 1 :]]
    )


# --- edges -------------------------------------------------------------------------------


def test_a_frontier_gives_every_published_root_in_one_pass() -> None:
    frontier = Frontier()
    roots = [frontier.root()]
    for data in VECTORS["leaf_inputs"]:
        frontier.add(leaf_hash(bytes.fromhex(data)))
        roots.append(frontier.root())
    assert [r.hex() for r in roots] == VECTORS["root_hashes"]


def test_trivial_consistency_and_the_empty_tree() -> None:
    _store, log = tree_of([b"a", b"b", b"c"])
    assert log.consistency_proof(0, 3) == []
    assert log.consistency_proof(3, 3) == []
    assert log.root(0) == sha256(b"").digest()
    assert log.position(2) == 30 and log.index_of(30) == 2
    assert frontier_keys(3) == [(1, 0), (0, 2)]


@pytest.mark.parametrize(
    "ask",
    [
        lambda log: log.root(4),
        lambda log: log.inclusion_proof(3, 3),
        lambda log: log.inclusion_proof(0, 4),
        lambda log: log.consistency_proof(3, 2),
        lambda log: log.position(3),
        lambda log: log.index_of(40),
    ],
)
def test_sizes_and_indices_outside_the_tree_are_refused(ask) -> None:
    _, log = tree_of([b"a", b"b", b"c"])
    with pytest.raises(ValueError):
        ask(log)


def test_a_tree_behind_its_log_refuses_to_answer() -> None:
    store, log = tree_of([b"a", b"b"])
    store.log_end = 5  # the log holds events the tree was never given
    with pytest.raises(TreeNotBuilt, match="merkle-backfill"):
        log.root()
