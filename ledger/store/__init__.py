"""The tamper-evident event store: eventsourcing's recorders plus a hash chain and a
Merkle tree.

    chain.py          the chain's one definition (leaf and head), checkpoints, the rows
                      a store supplies for verification
    merkle.py         the RFC 9162 Merkle tree over the same leaf inputs: roots,
                      inclusion and consistency proofs (`merkle_log`), and its backfill
    sqlite.py         the hash-chained SQLite recorder, and reading its file read-only
    chunked.py        its insert of a big batch a chunk at a time, in one transaction
    aggregate_reads.py  its reads of several aggregates' events in one query
    postgres.py       the hash-chained PostgreSQL recorder, and reading it in a snapshot
    postgres_merkle.py  its Merkle tree tables (SQLite's are in sqlite.py)
    verification.py   `verify`: recompute the chain and name the first bad position
    checkpoints.py    `write_checkpoint`: record the verified head for later

The recorders are plugged in by topic (APPLICATION_RECORDER_TOPIC, ledger.config).
Readers outside the store use `chain_reader` (the projector) and `merkle_log` (proofs),
never the tables.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ledger.store.chain import (
    GENESIS_HEAD,
    ChainLink,
    ChainReader,
    Checkpoint,
    StoreUnavailable,
    chain_link,
)
from ledger.store.checkpoints import ChainBroken, checkpoint_store, write_checkpoint
from ledger.store.merkle import MerkleLog, TreeNotBuilt, merkle_log

# Re-exported so that the recorder's topic from before the package,
# "ledger.store:HashChainedSQLiteApplicationRecorder", still resolves.
from ledger.store.sqlite import HashChainedSQLiteApplicationRecorder
from ledger.store.verification import VerifyResult, event_store, verify, verify_store

__all__ = [
    "GENESIS_HEAD",
    "ChainBroken",
    "ChainLink",
    "ChainReader",
    "Checkpoint",
    "HashChainedSQLiteApplicationRecorder",
    "MerkleLog",
    "StoreUnavailable",
    "TreeNotBuilt",
    "VerifyResult",
    "chain_link",
    "chain_reader",
    "checkpoint_store",
    "event_store",
    "merkle_log",
    "verify",
    "verify_store",
    "write_checkpoint",
]


@runtime_checkable
class _ChainedRecorder(Protocol):
    def read_chain(self, after: int, last: int) -> list[ChainLink]: ...


def chain_reader(recorder: object) -> ChainReader | None:
    """The store's chain reader for an application's recorder (`app.recorder`): called
    with (after, last) it gives the stored ChainLinks (position, leaf, head) with
    after < position <= last. None for a recorder that keeps no chain."""
    return recorder.read_chain if isinstance(recorder, _ChainedRecorder) else None
