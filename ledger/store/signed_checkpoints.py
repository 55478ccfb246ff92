"""Signed checkpoints: the log's size and Merkle root in the C2SP tlog-checkpoint text
format, signed as a C2SP signed-note with Ed25519 (https://c2sp.org/tlog-checkpoint,
https://c2sp.org/signed-note).

    <origin>
    <tree size>
    <base64 root hash>

    — <key name> base64(key ID || Ed25519 signature of the three lines above)

Key files use the formats of Go's golang.org/x/mod/sumdb/note, which the spec's
verifier keys come from: the public key is a vkey `name+hex(key ID)+base64(0x01 || key)`,
the private key `PRIVATE+KEY+name+hex(key ID)+base64(0x01 || seed)`. Parsing and
checking a checkpoint is ledger.proofcheck's (the offline verifier); this module writes.

A checkpoint is only taken of a log that verifies, and its root is recomputed from the
stored events themselves, never read from the stored tree: it vouches for the events.
"""

from __future__ import annotations

import base64
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from ledger import proofcheck
from ledger.errors import LedgerError
from ledger.store import sqlite as sqlite_store
from ledger.store.chain import PAGE_SIZE, Checkpoint, Row
from ledger.store.checkpoints import ChainBroken
from ledger.store.merkle import MerkleLog, root_of_events
from ledger.store.verification import EventStore, Progress, VerifyResult, verify

ORIGIN_ENV = "GOVLEDGER_LOG_ORIGIN"
SIGNING_KEY_ENV = "GOVLEDGER_SIGNING_KEY_FILE"
DEFAULT_KEY_NAME = "governance-ledger"
PRIVATE_PREFIX = "PRIVATE+KEY+"

# A parsed C2SP checkpoint (origin, size, root, signatures): the verifier's own type.
SignedCheckpoint = proofcheck.Checkpoint


class KeyFileError(LedgerError):
    """A private key file that is not one `govledger keygen` wrote."""


@dataclass(frozen=True)
class SigningKey:
    name: str
    private: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> bytes:
        return proofcheck.key_id(self.name, self.public_bytes)

    def vkey(self) -> str:
        """The public (verifier) key, as text."""
        material = base64.b64encode(bytes([proofcheck.ED25519]) + self.public_bytes).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def private_text(self) -> str:
        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        material = base64.b64encode(bytes([proofcheck.ED25519]) + seed).decode()
        return f"{PRIVATE_PREFIX}{self.name}+{self.key_id.hex()}+{material}"

    def sign(self, note: str) -> str:
        """The signed note: `note` (ending in a newline), a blank line, this key's line."""
        signature = self.key_id + self.private.sign(note.encode())
        return f"{note}\n\u2014 {self.name} {base64.b64encode(signature).decode()}\n"


def generate_key(name: str = DEFAULT_KEY_NAME) -> SigningKey:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise KeyFileError(f"a key name must be non-empty, without spaces or '+': {name!r}")
    return SigningKey(name, Ed25519PrivateKey.generate())


def load_signing_key(path: str | os.PathLike[str]) -> SigningKey:
    """The private key in a file `govledger keygen` wrote (KeyFileError if it is not one)."""
    text = Path(path).read_text(encoding="utf-8").strip()
    name, _, rest = text.removeprefix(PRIVATE_PREFIX).partition("+")
    hex_id, _, material = rest.partition("+")
    try:
        raw = base64.b64decode(material, validate=True)
        if not text.startswith(PRIVATE_PREFIX) or len(raw) != 33 or raw[0] != proofcheck.ED25519:
            raise ValueError("not an Ed25519 private key")
        key = SigningKey(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if key.key_id.hex() != hex_id:
            raise ValueError("its key ID does not match its name and key")
    except ValueError as e:
        raise KeyFileError(f"{path} is not a private key written by `govledger keygen` ({e})") from None
    return key


def signing_key_from_env(env: Mapping[str, str] | None = None) -> SigningKey | None:
    """The key $GOVLEDGER_SIGNING_KEY_FILE names, or None when it names none."""
    path = (os.environ if env is None else env).get(SIGNING_KEY_ENV)
    return load_signing_key(path) if path else None


# --- the log's root, from its events -------------------------------------------------


def root_of_rows(pages: Iterable[Sequence[Row]], size: int | None = None) -> tuple[int, bytes]:
    """(size, RFC 9162 root) of the first `size` events (all, by default) of verification
    rows (position, has event, id, version, topic, state, ...)."""
    events = ((r[0], r[2], r[3], r[4], r[5]) for rows in pages for r in rows if r[1])
    found, root = root_of_events(islice(events, size))
    if size is not None and found < size:
        raise ChainBroken(f"the log holds {found} events, fewer than {size}")
    return found, root


def log_root(store: EventStore, size: int | None = None) -> tuple[int, bytes]:
    """(size, root) of the store's first `size` events, recomputed from the events."""
    if isinstance(store, str | os.PathLike):
        with closing(sqlite_store.open_read_only(store)) as conn:
            conn.execute("BEGIN")
            return root_of_rows(sqlite_store.log_pages(conn, PAGE_SIZE), size)
    from ledger.store import postgres

    with postgres.postgres_snapshot(store) as conn:
        return root_of_rows(postgres.log_pages(conn, store, PAGE_SIZE), size)


def default_origin(store: EventStore, env: Mapping[str, str] | None = None) -> str:
    """$GOVLEDGER_LOG_ORIGIN, else a name stable for this log: its first event's leaf hash."""
    chosen = (os.environ if env is None else env).get(ORIGIN_ENV, "").strip()
    if chosen:
        return chosen
    try:
        _, first = log_root(store, 1)
    except ChainBroken:
        return "governance-ledger/empty-log"
    return f"governance-ledger/{first.hex()[:16]}"


def checkpoint_note(origin: str, size: int, root: bytes) -> str:
    """The unsigned tlog-checkpoint text."""
    if not origin or any(c.isspace() for c in origin):
        raise ValueError(f"a log origin must be non-empty, without spaces: {origin!r}")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def take_checkpoint(
    store: EventStore,
    key: SigningKey | None = None,
    *,
    origin: str | None = None,
    progress: Progress | None = None,
) -> str:
    """Verify the log, then its checkpoint text (signed when `key` is given).
    Raises ChainBroken, writing nothing, if the log does not verify."""
    result = verify(store, progress=progress)
    if not result.ok:
        raise ChainBroken(f"Not checkpointing: position {result.first_bad_position}: {result.problem}")
    return checkpoint_of(store, result.events, key, origin=origin)


def checkpoint_of(
    store: EventStore, events: int, key: SigningKey | None = None, *, origin: str | None = None
) -> str:
    """The checkpoint text of the first `events` events of a log already verified."""
    size, root = log_root(store, events)
    note = checkpoint_note(origin or default_origin(store), size, root)
    return key.sign(note) if key else note


def tree_checkpoint(log: MerkleLog, store: EventStore, key: SigningKey | None = None) -> str:
    """The checkpoint of the store's whole Merkle tree as stored, O(log n): what a proof
    is made against when there is no time to recompute the root from every event."""
    size = log.size()
    note = checkpoint_note(default_origin(store), size, log.root(size))
    return key.sign(note) if key else note


def write_signed_checkpoint(
    store: EventStore,
    out_path: str | os.PathLike[str],
    key: SigningKey | None = None,
    *,
    origin: str | None = None,
    progress: Progress | None = None,
) -> SignedCheckpoint:
    text = take_checkpoint(store, key, origin=origin, progress=progress)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return proofcheck.parse_checkpoint(text)


# --- verifying against either kind of checkpoint --------------------------------------


def load_any_checkpoint(path: str | os.PathLike[str]) -> Checkpoint | SignedCheckpoint:
    """A JSON chain checkpoint (the older kind) or a C2SP one; ValueError if neither."""
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        return Checkpoint.load(path)
    try:
        return proofcheck.parse_checkpoint(text)
    except proofcheck.ProofFailed as e:
        raise ValueError(f"{path} is not a ledger checkpoint ({e})") from None


def verify_against(
    store: EventStore,
    checkpoint: Checkpoint | SignedCheckpoint | None,
    *,
    progress: Progress | None = None,
) -> VerifyResult:
    """`verify`, and that the log still extends the checkpoint: for a C2SP checkpoint,
    the root of its first `size` events, recomputed from them, is the signed root."""
    if not isinstance(checkpoint, SignedCheckpoint):
        return verify(store, checkpoint, progress=progress)
    result = verify(store, progress=progress)
    if not result.ok:
        return result
    if result.events < checkpoint.size:
        return replace(
            result,
            ok=False,
            first_bad_position=result.events + 1,
            problem=f"the checkpoint covers {checkpoint.size} events but the log has only "
            f"{result.events}: events were removed from the end",
        )
    try:
        _, root = log_root(store, checkpoint.size)
    except (ChainBroken, sqlite3.DatabaseError) as e:
        return replace(result, ok=False, problem=f"the log could not be read again: {e}")
    if root != checkpoint.root:
        return replace(
            result,
            ok=False,
            problem=f"the Merkle root of the first {checkpoint.size} events differs from the "
            "checkpoint's: history covered by the checkpoint was rewritten since it was taken",
        )
    return result
