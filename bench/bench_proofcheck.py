"""Benchmark the offline verifier (ledger/proofcheck.py) on proofs from a log of 1M events.

    .venv/bin/python bench/bench_proofcheck.py                # 1,000,000 leaves
    .venv/bin/python bench/bench_proofcheck.py --size 100000

The proofs are computed here from the RFC 9162 definitions over synthetic leaves (no
store needed: a check's cost depends only on the path length, ~log2(size) hashes), then
wrapped as `govledger proof` writes them, with a signed C2SP checkpoint. Timed, each as
the median microseconds of --runs runs, in the same process:

- raw: one Ed25519 verification and log2(size) SHA-256 node hashes: the floor;
- inclusion check, trusting your own copy of the checkpoint (no signature);
- inclusion check, trusting the public key (signature verified);
- consistency check, trusting the public key (two signatures).

Target (issue 15): an offline proof check under 1 ms.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger import proofcheck  # noqa: E402
from ledger.store.signed_checkpoints import checkpoint_note, generate_key  # noqa: E402


def leaf(i: int) -> bytes:
    """A leaf input shaped like a ledger event's (as ledger.store.chain encodes one)."""

    def field(data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + data

    state = b'{"status":"Green","update":"On track","period":"2024/25 Q1","n":%d}' % i
    parts = (
        (i + 1).to_bytes(8, "big"),
        b"%032x" % i,
        (1).to_bytes(8, "big"),
        b"ledger.domain:Item.StatusRecorded",
        state,
    )
    return b"".join(field(p) for p in parts)


def split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


LARGE: dict[tuple[int, int], bytes] = {}  # only ranges of 4,096+ leaves: a few hundred entries


def mth(start: int, end: int) -> bytes:
    """RFC 9162 MTH of leaves [start, end)."""
    if end - start == 1:
        return proofcheck.leaf_hash(leaf(start))
    if (start, end) in LARGE:
        return LARGE[start, end]
    k = split(end - start)
    hashed = proofcheck.node_hash(mth(start, start + k), mth(start + k, end))
    if end - start >= 4096:
        LARGE[start, end] = hashed
    return hashed


def path(m: int, start: int, end: int) -> list[bytes]:
    if end - start == 1:
        return []
    k = split(end - start)
    if m - start < k:
        return [*path(m, start, start + k), mth(start + k, end)]
    return [*path(m, start + k, end), mth(start, start + k)]


def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
    if m == end - start:
        return [] if whole else [mth(start, end)]
    k = split(end - start)
    if m <= k:
        return [*subproof(m, start, start + k, whole), mth(start + k, end)]
    return [*subproof(m - k, start + k, end, False), mth(start, start + k)]


def median_us(runs: int, job: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        job()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2_000)
    args = parser.parse_args()
    size, index, old = args.size, args.size * 2 // 3, args.size // 3 + 7

    began = time.perf_counter()
    key = generate_key("bench.example/ledger")
    new_cp = key.sign(checkpoint_note("bench.example/log", size, mth(0, size)))
    old_cp = key.sign(checkpoint_note("bench.example/log", old, mth(0, old)))
    b64 = [base64.b64encode(h).decode() for h in path(index, 0, size)]
    inclusion = {
        "kind": "inclusion",
        "checkpoint": new_cp,
        "index": index,
        "event": proofcheck.leaf_fields(leaf(index)),
        "leaf_input": base64.b64encode(leaf(index)).decode(),
        "audit_path": b64,
    }
    consistency = {
        "kind": "consistency",
        "old_checkpoint": old_cp,
        "new_checkpoint": new_cp,
        "consistency_path": [base64.b64encode(h).decode() for h in subproof(old, 0, size, True)],
    }
    built = time.perf_counter() - began
    vkey = key.vkey()
    assert proofcheck.check(inclusion, [new_cp]) and proofcheck.check(consistency, [], vkey)

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = Ed25519PublicKey.from_public_bytes(key.public_bytes)
    body = proofcheck.parse_checkpoint(new_cp).body
    signature = proofcheck.parse_checkpoint(new_cp).signatures[0][1][4:]
    hashes = [hashlib.sha256(b"") for _ in b64]

    def raw() -> None:
        public.verify(signature, body)
        for h in hashes:
            hashlib.sha256(b"\x01" + h.digest() + h.digest()).digest()

    print(
        f"tree of {size:,} leaves: audit path {len(b64)} hashes, consistency path "
        f"{len(consistency['consistency_path'])} hashes (proofs computed in {built:.1f} s)"
    )
    floor = median_us(args.runs, raw)
    rows = [
        ("raw: 1 Ed25519 verify + path hashes", floor),
        (
            "inclusion, your own checkpoint",
            median_us(args.runs, lambda: proofcheck.check(inclusion, [new_cp])),
        ),
        ("inclusion, signature checked", median_us(args.runs, lambda: proofcheck.check(inclusion, [], vkey))),
        (
            "consistency, both signatures",
            median_us(args.runs, lambda: proofcheck.check(consistency, [], vkey)),
        ),
    ]
    for label, us in rows:
        print(f"{label:40} {us:8.1f} us  ({us / floor:4.1f}x raw)  {'under' if us < 1000 else 'OVER'} 1 ms")


if __name__ == "__main__":
    main()
