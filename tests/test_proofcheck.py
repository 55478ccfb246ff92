"""The offline verifier (ledger/proofcheck.py) against references it shares no code with:

- a naive recursive RFC 9162 tree written here (MTH, PATH, PROOF), for every size 1..70;
- the transparency-dev/merkle published vectors (tests/fixtures/merkle_vectors.json);
- the C2SP signed-note specification's own example key and signed note;
- hypothesis: any single-bit change to a proof, leaf, size or root makes a check fail.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import proofcheck
from ledger.proofcheck import ProofFailed, verify_consistency, verify_inclusion

VECTORS = json.loads((Path(__file__).parent / "fixtures" / "merkle_vectors.json").read_text())
PROOFCHECK = Path(proofcheck.__file__)


# --- the RFC, naively --------------------------------------------------------------------


def _h(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


class NaiveTree:
    """RFC 9162 2.1.1 MTH, 2.1.3.1 PATH and 2.1.4.1 PROOF, by their recursive definitions."""

    def __init__(self, inputs: list[bytes]) -> None:
        self.leaves = [_h(b"\x00", d) for d in inputs]

    @staticmethod
    def _k(n: int) -> int:
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def mth(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self.leaves[start]
        k = self._k(end - start)
        return _h(b"\x01", self.mth(start, start + k), self.mth(start + k, end))

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        if end - start == 1:
            return []
        k = self._k(end - start)
        if m < k:
            return [*self.path(m, start, start + k), self.mth(start + k, end)]
        return [*self.path(m - k, start + k, end), self.mth(start, start + k)]

    def subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self.mth(start, end)]
        k = self._k(n)
        if m <= k:
            return [*self.subproof(m, start, start + k, whole), self.mth(start + k, end)]
        return [*self.subproof(m - k, start + k, end, False), self.mth(start, start + k)]


@cache
def naive(size: int) -> NaiveTree:
    return NaiveTree([i.to_bytes(4, "big") for i in range(size)])


def flip(data: bytes, bit: int) -> bytes:
    bit %= len(data) * 8
    return (int.from_bytes(data, "big") ^ (1 << bit)).to_bytes(len(data), "big")


# --- the Merkle verification -------------------------------------------------------------


def test_every_inclusion_and_consistency_proof_up_to_70_leaves_verifies() -> None:
    for size in range(1, 71):
        tree = naive(size)
        root = tree.mth(0, size)
        for index in range(size):
            path = tree.path(index, 0, size)
            assert verify_inclusion(index, size, tree.leaves[index], path, root), (index, size)
            # the neighbouring leaf with the same path is refused
            if size > 1:
                other = (index + 1) % size
                assert not verify_inclusion(other, size, tree.leaves[index], path, root), (index, size)
        for old in range(1, size + 1):
            proof = tree.subproof(old, 0, size, True)
            assert verify_consistency(old, size, tree.mth(0, old), root, proof), (old, size)
            if old < size:
                assert not verify_consistency(old, size, root, root, proof), (old, size)


def test_the_published_vectors_verify() -> None:
    def b(hexes: list[str]) -> list[bytes]:
        return [bytes.fromhex(h) for h in hexes]

    for v in VECTORS["inclusion"]:
        leaf, root = bytes.fromhex(v["leaf_hash"]), bytes.fromhex(v["root"])
        assert verify_inclusion(v["leaf_index"], v["tree_size"], leaf, b(v["proof"]), root), v
    for v in VECTORS["consistency"]:
        old, new = bytes.fromhex(v["old_root"]), bytes.fromhex(v["new_root"])
        assert verify_consistency(v["old_size"], v["new_size"], old, new, b(v["proof"])), v


def test_the_edges_of_both_checks() -> None:
    tree = naive(5)
    root = tree.mth(0, 5)
    assert verify_consistency(0, 5, hashlib.sha256(b"").digest(), root, [])
    assert not verify_consistency(0, 5, root, root, [])
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, root, [root])
    assert not verify_consistency(3, 5, tree.mth(0, 3), root, [])
    assert not verify_consistency(6, 5, root, root, [])
    assert not verify_inclusion(5, 5, tree.leaves[4], tree.path(4, 0, 5), root)
    # A path too short for the claimed size: the smaller tree's proof and root, size 5 claimed.
    four = naive(4)
    assert verify_inclusion(0, 4, four.leaves[0], four.path(0, 0, 4), four.mth(0, 4))
    assert not verify_inclusion(0, 5, four.leaves[0], four.path(0, 0, 4), four.mth(0, 4))
    # ...and too long: the root's own sibling appended.
    assert not verify_inclusion(0, 4, four.leaves[0], [*four.path(0, 0, 4), root], four.mth(0, 4))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=st.integers(1, 300))
def test_any_single_bit_change_to_an_inclusion_check_fails(data: st.DataObject, size: int) -> None:
    tree = naive(size)
    index = data.draw(st.integers(0, size - 1), label="index")
    leaf, root, path = tree.leaves[index], tree.mth(0, size), tree.path(index, 0, size)
    assert verify_inclusion(index, size, leaf, path, root)
    bit = data.draw(st.integers(0, 255), label="bit")
    assert not verify_inclusion(index, size, flip(leaf, bit), path, root)
    assert not verify_inclusion(index, size, leaf, path, flip(root, bit))
    if path:
        at = data.draw(st.integers(0, len(path) - 1), label="path item")
        changed = [*path[:at], flip(path[at], bit), *path[at + 1 :]]
        assert not verify_inclusion(index, size, leaf, changed, root)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=st.integers(2, 300))
def test_any_single_bit_change_to_a_consistency_check_fails(data: st.DataObject, size: int) -> None:
    tree = naive(size)
    old = data.draw(st.integers(1, size - 1), label="old size")
    old_root, new_root, proof = tree.mth(0, old), tree.mth(0, size), tree.subproof(old, 0, size, True)
    assert verify_consistency(old, size, old_root, new_root, proof)
    bit = data.draw(st.integers(0, 255), label="bit")
    assert not verify_consistency(old, size, flip(old_root, bit), new_root, proof)
    assert not verify_consistency(old, size, old_root, flip(new_root, bit), proof)
    at = data.draw(st.integers(0, len(proof) - 1), label="proof item")
    changed = [*proof[:at], flip(proof[at], bit), *proof[at + 1 :]]
    assert not verify_consistency(old, size, old_root, new_root, changed)


# --- signed checkpoints ------------------------------------------------------------------

# From the C2SP signed-note specification (signed-note.md, "Example").
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_the_specifications_example_signature_verifies_and_a_change_fails() -> None:
    name, kid, _ = proofcheck.parse_vkey(SPEC_VKEY)
    assert (name, kid.hex()) == ("example.com/foo", "530d903a")
    body = b"This is an example message.\n"
    signature = base64.b64decode(SPEC_NOTE.split()[-1])
    note = proofcheck.Checkpoint("o", 1, bytes(32), body, (("example.com/foo", signature),))
    proofcheck.check_signature(note, SPEC_VKEY)
    changed = proofcheck.Checkpoint("o", 1, bytes(32), body.replace(b"example", b"exemple"), note.signatures)
    with pytest.raises(ProofFailed, match="signature"):
        proofcheck.check_signature(changed, SPEC_VKEY)


def make_key(name: str = "example.org/ledger") -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    material = base64.b64encode(bytes([1]) + public).decode()
    vkey = f"{name}+{proofcheck.key_id(name, public).hex()}+{material}"
    return private, vkey


def signed_checkpoint(private: Ed25519PrivateKey, name: str, origin: str, size: int, root: bytes) -> str:
    """Signed here from the specification's words, not with the ledger's signer."""
    body = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"
    public = private.public_key().public_bytes_raw()
    kid = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    return f"{body}\n\u2014 {name} {base64.b64encode(kid + private.sign(body.encode())).decode()}\n"


def test_a_wrong_key_a_changed_checkpoint_or_a_changed_origin_fails() -> None:
    private, vkey = make_key()
    text = signed_checkpoint(private, "example.org/ledger", "example.org/log", 7, naive(7).mth(0, 7))
    checkpoint = proofcheck.parse_checkpoint(text)
    assert (checkpoint.origin, checkpoint.size) == ("example.org/log", 7)
    proofcheck.check_signature(checkpoint, vkey)

    _, other_vkey = make_key()  # same name, another key: its signature is unknown to it
    with pytest.raises(ProofFailed, match="not signed by key"):
        proofcheck.check_signature(checkpoint, other_vkey)
    impostor = Ed25519PrivateKey.generate()  # same name and key ID, wrong signature
    forged = (
        text.rsplit(" ", 1)[0]
        + " "
        + base64.b64encode(checkpoint.signatures[0][1][:4] + impostor.sign(checkpoint.body)).decode()
        + "\n"
    )
    with pytest.raises(ProofFailed, match="fails"):
        proofcheck.check_signature(proofcheck.parse_checkpoint(forged), vkey)
    for changed in (
        text.replace("\n7\n", "\n8\n"),
        text.replace("example.org/log\n", "example.org/lag\n"),
        text.replace(text.splitlines()[2], base64.b64encode(flip(checkpoint.root, 3)).decode()),
    ):
        with pytest.raises(ProofFailed, match="fails"):
            proofcheck.check_signature(proofcheck.parse_checkpoint(changed), vkey)


@pytest.mark.parametrize(
    "text",
    [
        "origin\n7\n",  # no root
        "origin\n07\n" + base64.b64encode(bytes(32)).decode() + "\n",  # leading zero
        "origin\n7\n" + base64.b64encode(bytes(31)).decode() + "\n",  # short root
        "origin\n7\n" + base64.b64encode(bytes(32)).decode(),  # no final newline
        "origin\n7\n" + base64.b64encode(bytes(32)).decode() + "\n\n",  # blank line, no signature
        "origin\n7\n" + base64.b64encode(bytes(32)).decode() + "\n\n- name AAAAAAAA\n",  # not an em dash
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(ProofFailed):
        proofcheck.parse_checkpoint(text)


# --- whole proof documents ---------------------------------------------------------------


def event_leaf(position: int, state: str) -> bytes:
    def field(data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + data

    return b"".join(
        field(x)
        for x in (
            position.to_bytes(8, "big"),
            b"0123456789abcdef0123456789abcdef",
            (1).to_bytes(8, "big"),
            b"ledger.domain.publications:Publication.Published",
            state.encode(),
        )
    )


REPORT = b"<html>the committee pack</html>"


@cache
def publication_log(size: int = 9) -> tuple[NaiveTree, list[bytes]]:
    inputs = [
        event_leaf(i + 1, json.dumps({"content_sha256": hashlib.sha256(REPORT + bytes([i])).hexdigest()}))
        for i in range(size)
    ]
    return NaiveTree(inputs), inputs


def inclusion_document(private: Ed25519PrivateKey, index: int, size: int = 9) -> tuple[dict, str]:
    tree, inputs = publication_log(size)
    text = signed_checkpoint(private, "example.org/ledger", "example.org/log", size, tree.mth(0, size))
    state = json.loads(proofcheck.leaf_fields(inputs[index])["state"])  # type: ignore[arg-type]
    return {
        "kind": "inclusion",
        "checkpoint": text,
        "index": index,
        "event": proofcheck.leaf_fields(inputs[index]),
        "leaf_input": base64.b64encode(inputs[index]).decode(),
        "audit_path": [base64.b64encode(h).decode() for h in tree.path(index, 0, size)],
        "content_sha256": state["content_sha256"],
    }, text


def test_a_publication_proof_checks_the_reports_bytes() -> None:
    private, vkey = make_key()
    proof, text = inclusion_document(private, 4)
    said = proofcheck.check(proof, [text], vkey, REPORT + bytes([4]))
    assert "position 5" in said and proof["content_sha256"] in said
    assert proofcheck.check(proof, [text]) and proofcheck.check(proof, [], vkey)
    with pytest.raises(ProofFailed, match="report file's SHA-256"):
        proofcheck.check(proof, [text], vkey, REPORT + bytes([5]))
    with pytest.raises(ProofFailed, match="not the one its publication event records"):
        proofcheck.check({**proof, "content_sha256": hashlib.sha256(REPORT).hexdigest()}, [text])
    with pytest.raises(ProofFailed, match="not the event its leaf input encodes"):
        proofcheck.check({**proof, "event": {**proof["event"], "position": 6}}, [text])
    with pytest.raises(ProofFailed, match="did not supply"):
        proofcheck.check(proof, [])
    _, other = make_key()
    with pytest.raises(ProofFailed, match="not signed"):
        proofcheck.check(proof, [text], other)
    eight = publication_log(8)[0].mth(0, 8)
    other_text = signed_checkpoint(private, "example.org/ledger", "example.org/log", 8, eight)
    with pytest.raises(ProofFailed, match="not one the proof is made against"):
        proofcheck.check(proof, [other_text], vkey)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_any_single_bit_change_to_a_proof_document_fails(data: st.DataObject) -> None:
    private, vkey = PRIVATE_AND_VKEY
    index = data.draw(st.integers(0, 8), label="index")
    proof, text = inclusion_document(private, index)
    bit = data.draw(st.integers(0, 10_000), label="bit")
    part = data.draw(st.sampled_from(["leaf", "path", "size", "root", "index"]), label="part")
    changed = dict(proof)
    if part == "leaf":
        changed["leaf_input"] = base64.b64encode(flip(base64.b64decode(proof["leaf_input"]), bit)).decode()
    elif part == "path":
        at = bit % len(proof["audit_path"])
        path = list(proof["audit_path"])
        path[at] = base64.b64encode(flip(base64.b64decode(path[at]), bit)).decode()
        changed["audit_path"] = path
    elif part == "index":
        changed["index"] = index ^ (1 << (bit % 4))
    else:  # the checkpoint the proof carries: its size or root, a bit changed
        cp = proofcheck.parse_checkpoint(text)
        size, root = (cp.size, flip(cp.root, bit))
        if part == "size":
            size, root = cp.size ^ (1 << (bit % 4)), cp.root
        body = f"{cp.origin}\n{size}\n{base64.b64encode(root).decode()}\n"
        changed["checkpoint"] = text.replace(cp.body.decode(), body)
    with pytest.raises(ProofFailed):
        proofcheck.check(changed, [], vkey)  # trusting the key
    with pytest.raises(ProofFailed):
        proofcheck.check(changed, [text])  # trusting the auditor's own copy of the checkpoint


PRIVATE_AND_VKEY = make_key()


def test_consistency_documents() -> None:
    private, vkey = make_key()
    tree, _ = publication_log(9)
    old = signed_checkpoint(private, "example.org/ledger", "example.org/log", 4, tree.mth(0, 4))
    new = signed_checkpoint(private, "example.org/ledger", "example.org/log", 9, tree.mth(0, 9))
    proof = {
        "kind": "consistency",
        "old_checkpoint": old,
        "new_checkpoint": new,
        "consistency_path": [base64.b64encode(h).decode() for h in tree.subproof(4, 0, 9, True)],
    }
    assert "extends its log of 4" in proofcheck.check(proof, [old, new])
    assert proofcheck.check(proof, [old], vkey)
    with pytest.raises(ProofFailed, match="did not supply"):
        proofcheck.check(proof, [old])
    rewritten = NaiveTree([b"rewritten", *[i.to_bytes(4, "big") for i in range(1, 9)]])
    other_new = signed_checkpoint(private, "example.org/ledger", "example.org/log", 9, rewritten.mth(0, 9))
    with pytest.raises(ProofFailed, match="history was rewritten"):
        proofcheck.check({**proof, "new_checkpoint": other_new}, [old, other_new])
    other_origin = signed_checkpoint(private, "example.org/ledger", "example.org/other", 9, tree.mth(0, 9))
    with pytest.raises(ProofFailed, match="different logs"):
        proofcheck.check({**proof, "new_checkpoint": other_origin}, [old, other_origin])
    with pytest.raises(ProofFailed, match="malformed"):
        proofcheck.check({"kind": "consistency"}, [old])


def test_the_file_runs_on_its_own_with_python_alone(tmp_path: Path) -> None:
    """Copied out of the package, next to nothing else, it still checks proofs."""
    private, vkey = make_key()
    proof, text = inclusion_document(private, 2)
    (tmp_path / "proofcheck.py").write_bytes(PROOFCHECK.read_bytes())
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    (tmp_path / "cp.txt").write_text(text)
    (tmp_path / "log.vkey").write_text(vkey + "\n")
    (tmp_path / "report.html").write_bytes(REPORT + bytes([2]))
    run = [sys.executable, "-I", "proofcheck.py", "proof.json", "cp.txt", "--public-key", "log.vkey"]
    held = subprocess.run([*run, "--content", "report.html"], cwd=tmp_path, capture_output=True, text=True)
    assert held.returncode == 0, held.stderr
    assert "position 3" in held.stdout
    (tmp_path / "report.html").write_bytes(REPORT)
    failed = subprocess.run([*run, "--content", "report.html"], cwd=tmp_path, capture_output=True, text=True)
    assert failed.returncode == 1
    assert "PROOF FAILS: the report file's SHA-256" in failed.stderr


def test_proofcheck_imports_nothing_from_the_ledger() -> None:
    source = PROOFCHECK.read_text()
    imports = {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", "argparse", "base64", "hashlib", "json", "sys", "dataclasses"}, imports
    assert "from cryptography" in source  # only inside the signature check
