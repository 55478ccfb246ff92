"""`govledger audit-bundle`: everything an external auditor needs to check, offline, what
the log recorded between two checkpoints.

    DIR/README.md                 how to check it, step by step
    DIR/checkpoint-from.txt       checkpoint A, as given
    DIR/checkpoint-to.txt         checkpoint B, as given
    DIR/log.vkey                  the log's public key (when --public-key is given)
    DIR/consistency.json          B's log extends A's unchanged
    DIR/events/position-N.json    each event after A up to B, with its inclusion proof in B
    DIR/proofcheck.py             the offline verifier itself, one file
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from govledger.commands.proofs import ExistingFile, opened_merkle_log, write_json
from ledger import proofcheck

README = """\
# Audit bundle: {origin}, events {first} to {last}

This directory proves what the ledger's event log recorded between two checkpoints:
the log of {old_size} events (checkpoint-from.txt) and the log of {new_size} events
(checkpoint-to.txt). Nothing here needs the ledger's database or its servers.

- `consistency.json` proves that the later log extends the earlier one: none of the
  first {old_size} events was changed, removed or reordered.
- `events/position-N.json` is the event recorded at log position N, as stored, with
  a proof that it is in the later log. A report's publication also names the SHA-256
  of the published file.
- `proofcheck.py` is the whole verifier (RFC 9162 Merkle proofs, C2SP checkpoints,
  Ed25519 signatures) in one file of Python, to read before trusting it.
{key_line}
## Before you start

Compare the checkpoints with copies you hold from elsewhere (for example, published
with the committee papers), or check their signatures with the log's public key
obtained from the organisation directly, not from this bundle alone.

## Check with the ledger's command line

    govledger proof check consistency.json \\
        --checkpoint checkpoint-from.txt --checkpoint checkpoint-to.txt{key_option}
    for proof in events/*.json; do
        govledger proof check "$proof" --checkpoint checkpoint-to.txt{key_option} || echo "FAILED: $proof"
    done

Add `--content REPORT.html` to an event's check to test a published report's bytes.

## Check with Python alone (3.11 or later; `pip install cryptography` for signatures)

    python proofcheck.py consistency.json checkpoint-from.txt checkpoint-to.txt{key_option}
    for proof in events/*.json; do
        python proofcheck.py "$proof" checkpoint-to.txt{key_option} || echo "FAILED: $proof"
    done

Each check prints what it proved and exits 0, or prints `PROOF FAILS:` with the reason
and exits 1.
"""


@click.command("audit-bundle")
@click.option(
    "--from-checkpoint", "from_file", required=True, type=ExistingFile, help="Checkpoint A: the earlier log."
)
@click.option(
    "--to-checkpoint", "to_file", required=True, type=ExistingFile, help="Checkpoint B: the later log."
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new (or empty) directory to write the bundle into.",
)
@click.option(
    "--public-key",
    "public_key",
    type=ExistingFile,
    help="The log's public key, to include for checking the checkpoints' signatures.",
)
@click.pass_context
def audit_bundle(
    ctx: click.Context, from_file: Path, to_file: Path, out_dir: Path, public_key: Path | None
) -> None:
    """Write the events between checkpoints A and B, each with its inclusion proof in
    B, the consistency proof from A to B, both checkpoints, the public key if given,
    the offline verifier and a README telling an external auditor how to check it.

    Exit status: 0 written, 1 the checkpoints do not fit the log (nothing written),
    2 no event store.
    """
    from ledger.store.proofs import consistency_proof, inclusion_proof

    if out_dir.exists() and any(out_dir.iterdir()):
        raise click.BadParameter(f"{out_dir} is not empty", param_hint="--out")
    old_text, new_text = from_file.read_text(encoding="utf-8"), to_file.read_text(encoding="utf-8")
    with opened_merkle_log(ctx) as log:
        consistency = consistency_proof(log, old_text, new_text)
        old, new = consistency["old_size"], consistency["new_size"]
        events = [inclusion_proof(log, new_text, log.position(i)) for i in range(old, new)]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "checkpoint-from.txt").write_text(old_text, encoding="utf-8")
    (out_dir / "checkpoint-to.txt").write_text(new_text, encoding="utf-8")
    write_json(out_dir / "consistency.json", consistency)
    for document in events:
        write_json(out_dir / "events" / f"position-{document['event']['position']}.json", document)
    shutil.copyfile(proofcheck.__file__, out_dir / "proofcheck.py")
    if public_key is not None:
        shutil.copyfile(public_key, out_dir / "log.vkey")
    positions = [d["event"]["position"] for d in events]
    (out_dir / "README.md").write_text(
        README.format(
            origin=proofcheck.parse_checkpoint(new_text).origin,
            first=positions[0] if positions else "(none)",
            last=positions[-1] if positions else "(none)",
            old_size=old,
            new_size=new,
            key_line="- `log.vkey` is the log's public key, to check the checkpoints' signatures.\n"
            if public_key
            else "",
            key_option=" --public-key log.vkey" if public_key else "",
        ),
        encoding="utf-8",
    )
    click.echo(f"Audit bundle written to {out_dir}: {len(events)} events, consistency {old} -> {new}")
