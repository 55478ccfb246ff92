"""Inclusion and consistency proofs as the JSON documents `govledger proof` writes and
ledger.proofcheck checks: each carries the checkpoint(s) it was made against, so it
can be checked with nothing else but the auditor's own copy of them or a public key.

A proof is only made against a checkpoint the log still matches (its root recomputed
from the stored tree); a log that has been rewritten since gets ProofUnavailable.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ledger import proofcheck
from ledger.errors import LedgerError
from ledger.store.merkle import MerkleLog, leaf_hash

# Events that publish a report: their state records the report's content SHA-256.
PUBLICATION_EVENTS = ("Publication.Published", "Publication.Republished")


class ProofUnavailable(LedgerError):
    """No proof can be made: the position or checkpoint does not fit this log."""


class NoSuchEvent(ProofUnavailable):
    """There is no event at the position asked for."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _matching(log: MerkleLog, text: str) -> proofcheck.Checkpoint:
    """The parsed checkpoint, once the log is shown to still hold exactly its tree."""
    try:
        checkpoint = proofcheck.parse_checkpoint(text)
    except proofcheck.ProofFailed as e:
        raise ProofUnavailable(f"not a C2SP checkpoint ({e}); take one with `govledger checkpoint`") from None
    if checkpoint.size > log.size():
        raise ProofUnavailable(
            f"the checkpoint covers {checkpoint.size} events but the log has only {log.size()}"
        )
    if log.root(checkpoint.size) != checkpoint.root:
        raise ProofUnavailable(
            f"the log's first {checkpoint.size} events no longer have the checkpoint's root hash: "
            "it was rewritten since the checkpoint was taken (run `govledger verify`)"
        )
    return checkpoint


def is_publication(topic: str) -> bool:
    return topic.rpartition(":")[2] in PUBLICATION_EVENTS


def inclusion_proof(log: MerkleLog, checkpoint_text: str, position: int) -> dict[str, Any]:
    """The proof that the event at log `position` is in the checkpoint's tree: the event
    as stored, its leaf input, leaf index and audit path; for a publication also the
    report's content SHA-256, so the report's bytes can be checked against it."""
    checkpoint = _matching(log, checkpoint_text)
    try:
        index = log.index_of(position)
    except ValueError:
        raise NoSuchEvent(f"there is no event at position {position}") from None
    if index >= checkpoint.size:
        raise ProofUnavailable(
            f"the event at position {position} was recorded after the checkpoint "
            f"({checkpoint.size} events): take a newer checkpoint"
        )
    leaf_input = log.leaf_input(index)
    path = log.inclusion_proof(index, checkpoint.size)
    # The event is read from the events table, the path from the tree: if they disagree,
    # the event was altered after it was added to the tree. Say so rather than hand
    # out a proof that fails.
    if not proofcheck.verify_inclusion(index, checkpoint.size, leaf_hash(leaf_input), path, checkpoint.root):
        raise ProofUnavailable(
            f"the event stored at position {position} is not the one the Merkle tree holds: "
            "it was altered (run `govledger verify`)"
        )
    event = proofcheck.leaf_fields(leaf_input)
    proof: dict[str, Any] = {
        "kind": "inclusion",
        "checkpoint": checkpoint_text,
        "index": index,
        "tree_size": checkpoint.size,
        "event": event,
        "leaf_input": _b64(leaf_input),
        "audit_path": [_b64(h) for h in path],
    }
    if is_publication(str(event["topic"])):
        proof["content_sha256"] = json.loads(str(event["state"]))["content_sha256"]
    return proof


def consistency_proof(log: MerkleLog, old_text: str, new_text: str) -> dict[str, Any]:
    """The proof that the `new_text` checkpoint's tree extends the `old_text` one's."""
    old, new = _matching(log, old_text), _matching(log, new_text)
    if old.size > new.size:
        raise ProofUnavailable(f"the old checkpoint ({old.size} events) is newer than the new ({new.size})")
    return {
        "kind": "consistency",
        "old_checkpoint": old_text,
        "new_checkpoint": new_text,
        "old_size": old.size,
        "new_size": new.size,
        "consistency_path": [_b64(h) for h in log.consistency_proof(old.size, new.size)],
    }
