"""Check a Governance Ledger proof offline: the whole verifier, in one file.

Needs only Python 3.11+ and, for signatures, the `cryptography` package. It imports
nothing else from the ledger, so an auditor can copy it, read it and run it alone:

    python proofcheck.py PROOF.json CHECKPOINT [CHECKPOINT...] [--public-key KEY.vkey] [--content REPORT]

- Merkle tree: RFC 9162 section 2.1. Leaf hash SHA-256(0x00 || leaf input), node hash
  SHA-256(0x01 || left || right); inclusion (2.1.3.2) and consistency (2.1.4.2)
  verification, step for step.
- Checkpoints: C2SP tlog-checkpoint (origin, tree size, base64 root hash), signed as a
  C2SP signed-note with Ed25519 (https://c2sp.org/signed-note).
- Trust: a checkpoint counts when you supplied it yourself, or when it carries a valid
  signature by the public key you supplied. A proof carries the checkpoints it was made
  against; each must be one that counts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from dataclasses import dataclass

ED25519 = 0x01  # signed-note signature type


class ProofFailed(Exception):
    """The proof does not hold; the message says why."""


def leaf_hash(leaf_input: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2: is `leaf` (a leaf hash) leaf number `index` of the tree `root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, path: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2: does the tree `new_root` of `new` leaves extend `old_root`?"""
    if not 0 <= old <= new:
        return False
    if old == new:  # the same tree: nothing to prove but equality
        return not path and old_root == new_root
    if old == 0:  # every tree extends the empty one
        return not path and old_root == hashlib.sha256(b"").digest()
    if not path:
        return False
    if old & (old - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path = [old_root, *path]
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: bytes  # the note text the signatures cover
    signatures: tuple[tuple[str, bytes], ...]  # (key name, key ID || signature)

    @property
    def head(self) -> tuple[str, int, bytes]:
        """What the checkpoint says of the log; two checkpoints saying the same are one."""
        return self.origin, self.size, self.root


def parse_checkpoint(text: str) -> Checkpoint:
    """A C2SP checkpoint, signed (note text, blank line, signature lines) or not."""
    if not text.endswith("\n") or any(c < " " and c != "\n" for c in text):
        raise ProofFailed("not a checkpoint: it must end in a newline and hold no control characters")
    body, sep, signed = text.rpartition("\n\n")
    body, lines = (body + "\n", signed.splitlines()) if sep else (text, [])
    origin, size, root, *extensions = [*body.splitlines(), "", "", ""][:3] + body.splitlines()[3:]
    if not origin or not size.isdigit() or size != str(int(size)) or "" in extensions or (sep and not lines):
        raise ProofFailed("not a checkpoint: expected origin, tree size and root hash lines, then signatures")
    signatures = []
    for line in lines:
        dash, name, signature = line.split(" ") if line.count(" ") == 2 else ("", "", "")
        if dash != "\u2014" or not name:
            raise ProofFailed(f"not a signature line: {line!r}")
        signatures.append((name, _b64(signature, "signature")))
        if len(signatures[-1][1]) < 5:
            raise ProofFailed(f"signature line too short: {line!r}")
    return Checkpoint(origin, int(size), _b64(root, "root hash", 32), body.encode(), tuple(signatures))


def key_id(name: str, public_key: bytes) -> bytes:
    """signed-note: SHA-256(key name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def parse_vkey(vkey: str) -> tuple[str, bytes, bytes]:
    """A verifier key `name+hex(key ID)+base64(0x01 || public key)`: (name, key ID, key)."""
    name, _, rest = vkey.strip().partition("+")
    hex_id, _, material = rest.partition("+")
    raw = _b64(material, "public key", 33)
    if not name or raw[0] != ED25519 or bytes.fromhex(hex_id or "zz") != key_id(name, raw[1:]):
        raise ProofFailed("not an Ed25519 verifier key whose name and key ID match its key")
    return name, key_id(name, raw[1:]), raw[1:]


def check_signature(checkpoint: Checkpoint, vkey: str) -> None:
    """At least one signature by the key, and none by it that fails (signed-note)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    name, kid, public = parse_vkey(vkey)
    mine = [sig[4:] for n, sig in checkpoint.signatures if n == name and sig[:4] == kid]
    if not mine:
        raise ProofFailed(f"the checkpoint of {checkpoint.size} events is not signed by key {name}")
    for signature in mine:
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, checkpoint.body)
        except InvalidSignature:
            raise ProofFailed(f"{name}'s signature on the {checkpoint.size}-event checkpoint fails") from None


def leaf_fields(leaf_input: bytes) -> dict[str, object]:
    """Decode the ledger's leaf input: length-prefixed position, originator id, version, topic, state."""
    fields, at = [], 0
    for _ in range(5):
        length = int.from_bytes(leaf_input[at : at + 4], "big")
        fields.append(leaf_input[at + 4 : at + 4 + length])
        at += 4 + length
    if at != len(leaf_input) or len(fields[0]) != 8 or len(fields[2]) != 8:
        raise ProofFailed("the leaf input is not an encoded ledger event")
    try:
        return {
            "position": int.from_bytes(fields[0], "big", signed=True),
            "originator_id": fields[1].decode(),
            "originator_version": int.from_bytes(fields[2], "big", signed=True),
            "topic": fields[3].decode(),
            "state": fields[4].decode(),
        }
    except UnicodeDecodeError:
        raise ProofFailed("the leaf input holds text that is not UTF-8") from None


def check(proof: dict, checkpoints: list[str], vkey: str | None = None, content: bytes | None = None) -> str:
    """Check a proof against the checkpoints you trust and/or the log's public key. Returns
    what it proved, in a sentence; raises ProofFailed with the reason it does not hold."""
    kind = proof.get("kind") if isinstance(proof, dict) else None
    if kind not in ("inclusion", "consistency"):
        raise ProofFailed("not a ledger proof (its kind is neither inclusion nor consistency)")
    try:
        given = [parse_checkpoint(text) for text in checkpoints]
        names = ["checkpoint"] if kind == "inclusion" else ["old_checkpoint", "new_checkpoint"]
        claimed = [parse_checkpoint(proof[name]) for name in names]
        for c in given:  # yours: each must be one the proof uses, and signed if you gave a key
            if c.head not in {p.head for p in claimed}:
                raise ProofFailed(f"your checkpoint of {c.size} events is not one the proof is made against")
            if vkey:
                check_signature(c, vkey)
        for c in claimed:  # the proof's: each must be yours, or signed by the key
            if c.head in {g.head for g in given}:
                continue
            if vkey is None:
                raise ProofFailed(
                    f"the proof is made against a checkpoint of {c.size} events that you did not "
                    "supply: give that checkpoint, or the log's public key"
                )
            check_signature(c, vkey)
        if kind == "inclusion":
            return _inclusion(proof, claimed[0], content)
        return _consistency(proof, *claimed)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ProofFailed(f"the proof is malformed ({type(error).__name__}: {error})") from None


def _consistency(proof: dict, old: Checkpoint, new: Checkpoint) -> str:
    path = [_b64(h, "consistency proof hash", 32) for h in proof["consistency_path"]]
    if old.origin != new.origin:
        raise ProofFailed(f"the checkpoints are of different logs: {old.origin} and {new.origin}")
    if not verify_consistency(old.size, new.size, old.root, new.root, path):
        raise ProofFailed(
            f"the log of {new.size} events does not extend the log of {old.size}: history was rewritten"
        )
    return f"{new.origin}'s log of {new.size} events extends its log of {old.size} events unchanged."


def _inclusion(proof: dict, cp: Checkpoint, content: bytes | None) -> str:
    leaf_input = _b64(proof["leaf_input"], "leaf input")
    path = [_b64(h, "audit path hash", 32) for h in proof["audit_path"]]
    if not verify_inclusion(int(proof["index"]), cp.size, leaf_hash(leaf_input), path, cp.root):
        raise ProofFailed(f"leaf {proof['index']} is not in the log of {cp.size} events: the proof fails")
    event = leaf_fields(leaf_input)
    if proof.get("event") != event:
        raise ProofFailed("the event shown in the proof is not the event its leaf input encodes")
    said = f"The event at position {event['position']} is in {cp.origin}'s log of {cp.size} events"
    if "content_sha256" not in proof:
        if content is not None:
            raise ProofFailed("a report file was given, but the proof is not of a publication")
        return said + "."
    recorded = json.loads(str(event["state"])).get("content_sha256")
    if recorded != proof["content_sha256"]:
        raise ProofFailed("the report's content SHA-256 is not the one its publication event records")
    if content is not None and hashlib.sha256(content).hexdigest() != recorded:
        raise ProofFailed(f"the report file's SHA-256 is not {recorded}, the one published")
    said += f"; it published the report with SHA-256 {recorded}"
    return said + (", as the file has." if content else ".")


def _b64(text: object, what: str, length: int | None = None) -> bytes:
    try:
        raw = base64.b64decode(str(text), validate=True)
    except ValueError:
        raise ProofFailed(f"the {what} is not base64") from None
    if length is not None and len(raw) != length:
        raise ProofFailed(f"the {what} is {len(raw)} bytes, not {length}")
    return raw


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Check a Governance Ledger proof offline.")
    parser.add_argument("proof", help="the proof (JSON)")
    parser.add_argument("checkpoint", nargs="*", help="checkpoints you trust (C2SP text files)")
    parser.add_argument("--public-key", help="the log's verifier key (a vkey text file)")
    parser.add_argument("--content", help="a published report's file, to check its SHA-256")
    args = parser.parse_args(argv)

    def read(path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    try:
        proof, texts = json.loads(read(args.proof)), [read(path).decode() for path in args.checkpoint]
        key = read(args.public_key).decode() if args.public_key else None
        print(check(proof, texts, key, read(args.content) if args.content else None))
    except (ProofFailed, OSError, ValueError) as error:
        print(f"PROOF FAILS: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
