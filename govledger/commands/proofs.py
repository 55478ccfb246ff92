"""`govledger proof inclusion | consistency | check`: Merkle proofs from the command line.

`inclusion` and `consistency` read the event store's Merkle tree (ledger.store.merkle)
and write JSON (ledger.store.proofs). `check` is ledger.proofcheck and nothing else:
it opens no data directory and no database, so an auditor can run it on their own
machine with only the proof, their checkpoint and the log's public key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from govledger.support import data_dir_of
from ledger import proofcheck

EXIT_FAILED = 1
EXIT_NO_STORE = 2

ExistingFile = click.Path(exists=True, dir_okay=False, path_type=Path)
out_option = click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the proof (JSON).",
)


@contextmanager
def opened_merkle_log(ctx: click.Context) -> Iterator[Any]:
    """The Merkle log of the configured event store, read through its own recorder;
    exit 2 with a sentence when there is no store or its tree is not built, 1 when the
    block finds no proof can be made (ProofUnavailable: nothing is written)."""
    from eventsourcing.persistence import InfrastructureFactory
    from eventsourcing.utils import Environment

    from ledger.application import Ledger
    from ledger.config import EVENTS_DB, POSTGRES_MODULE, event_store_env
    from ledger.store.merkle import MerkleLog, TreeNotBuilt
    from ledger.store.proofs import ProofUnavailable

    data_dir = data_dir_of(ctx)
    if os.environ.get("PERSISTENCE_MODULE") != POSTGRES_MODULE and not (data_dir / EVENTS_DB).is_file():
        click.echo(f"No event store at {data_dir / EVENTS_DB}: point --data-dir at the ledger.", err=True)
        ctx.exit(EXIT_NO_STORE)
    # Named as the ledger application is, so PostgreSQL's tables are the ledger's own.
    factory = InfrastructureFactory.construct(Environment(Ledger.name, event_store_env(data_dir)))
    try:
        log = MerkleLog(factory.application_recorder())
        log.size()  # refuses now, not halfway, if the tree does not cover the log
        yield log
    except (TreeNotBuilt, TypeError) as e:
        click.echo(str(e), err=True)
        ctx.exit(EXIT_NO_STORE)
    except ProofUnavailable as e:
        click.echo(f"Nothing written: {e}.", err=True)
        ctx.exit(EXIT_FAILED)
    finally:
        factory.close()


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@click.group()
def proof() -> None:
    """Prove that an event is in the log, or that the log only grew, and check such
    proofs offline (RFC 9162 Merkle proofs against C2SP checkpoints)."""


@proof.command("inclusion")
@click.argument("position", type=click.IntRange(min=1))
@click.option(
    "--checkpoint",
    "checkpoint_file",
    required=True,
    type=ExistingFile,
    help="The checkpoint (from `govledger checkpoint`) to prove the event against.",
)
@out_option
@click.pass_context
def inclusion(ctx: click.Context, position: int, checkpoint_file: Path, out_file: Path) -> None:
    """Prove that the event at log POSITION is in the checkpoint's log.

    The proof holds the event as stored, its leaf input, its leaf index and the audit
    path; for a report's publication it also names the report's content SHA-256, so
    the published file can be checked with `govledger proof check --content FILE`.

    Exit status: 0 written, 1 no such event in the checkpoint or the log no longer
    matches it, 2 no event store (or its Merkle tree is not built).
    """
    from ledger.store.proofs import inclusion_proof

    with opened_merkle_log(ctx) as log:
        document = inclusion_proof(log, checkpoint_file.read_text(encoding="utf-8"), position)
    write_json(out_file, document)
    click.echo(f"Proof of position {position} in {document['tree_size']} events written to {out_file}")


@proof.command("consistency")
@click.option("--old", "old_file", required=True, type=ExistingFile, help="The earlier checkpoint.")
@click.option("--new", "new_file", required=True, type=ExistingFile, help="The later checkpoint.")
@out_option
@click.pass_context
def consistency(ctx: click.Context, old_file: Path, new_file: Path, out_file: Path) -> None:
    """Prove that the log of the --new checkpoint extends that of the --old one,
    nothing before it changed.

    Exit status: 0 written, 1 the log no longer matches a checkpoint, 2 no event store.
    """
    from ledger.store.proofs import consistency_proof

    with opened_merkle_log(ctx) as log:
        old, new = (path.read_text(encoding="utf-8") for path in (old_file, new_file))
        document = consistency_proof(log, old, new)
    write_json(out_file, document)
    click.echo(
        f"Proof that {document['new_size']} events extend {document['old_size']} written to {out_file}"
    )


@proof.command("check")
@click.argument("proof_file", metavar="PROOF", type=ExistingFile)
@click.option(
    "--checkpoint",
    "checkpoint_files",
    required=True,
    multiple=True,
    type=ExistingFile,
    help="A checkpoint you trust; give both for a consistency proof (or one, with --public-key).",
)
@click.option(
    "--public-key",
    "public_key",
    type=ExistingFile,
    help="The log's public key (from `govledger keygen`): checkpoints must carry its signature.",
)
@click.option(
    "--content",
    "content_file",
    type=ExistingFile,
    help="A published report's file: check that its SHA-256 is the published one.",
)
def check(
    proof_file: Path, checkpoint_files: tuple[Path, ...], public_key: Path | None, content_file: Path | None
) -> None:
    """Check a proof offline: no data directory, no database, only ledger/proofcheck.py.

    Exit status: 0 the proof holds, 1 it does not (the reason is printed).
    """
    try:
        document = json.loads(proof_file.read_text(encoding="utf-8"))
        said = proofcheck.check(
            document,
            [path.read_text(encoding="utf-8") for path in checkpoint_files],
            public_key.read_text(encoding="utf-8") if public_key else None,
            content_file.read_bytes() if content_file else None,
        )
    except (proofcheck.ProofFailed, ValueError) as e:
        click.echo(f"PROOF FAILS: {e}", err=True)
        raise SystemExit(EXIT_FAILED) from None
    click.echo(f"Proof holds. {said}")
