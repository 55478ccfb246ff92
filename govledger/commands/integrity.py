"""`govledger verify` and `govledger checkpoint`: the hash chain, checked from the command line.

Each command parses options, makes one library call and turns the outcome into text
and an exit status. Both read only the event store: no Flask, no Datasette.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from govledger.health import record_verify
from govledger.support import LedgerContext, progress_bar
from ledger import proofcheck
from ledger import store as ledger_store
from ledger.config import DATA_DIR_ENV, EVENTS_DB
from ledger.store import signed_checkpoints as signed
from ledger.store.verification import EventStore

if TYPE_CHECKING:
    from projections import assurance

# Below this many events verification takes well under a second: no progress bar.
PROGRESS_THRESHOLD = 50_000

EXIT_TAMPERED = 1
EXIT_NO_STORE = 2


@contextmanager
def _event_store_errors(ctx: click.Context, events_db: Path) -> Iterator[None]:
    """Turn 'no usable event store' into exit status 2 and a sentence, not a traceback."""
    try:
        yield
    except FileNotFoundError:
        click.echo(
            f"No event store at {events_db}.\n"
            f"Point --data-dir (or ${DATA_DIR_ENV}) at the directory that holds {EVENTS_DB}.",
            err=True,
        )
        ctx.exit(EXIT_NO_STORE)
    except sqlite3.DatabaseError as e:
        click.echo(f"Cannot read {events_db} as an SQLite event store: {e}", err=True)
        ctx.exit(EXIT_NO_STORE)


@click.command()
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A checkpoint written earlier by `govledger checkpoint` (C2SP text, or the older "
    "JSON): also check that the log still extends it unchanged.",
)
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The public key from `govledger keygen`: also check the --checkpoint's signature.",
)
@click.pass_context
def verify(ctx: click.Context, checkpoint_file: Path | None, public_key_file: Path | None) -> None:
    """Check that the event log has not been altered.

    Recomputes the hash chain over every stored event, in order, and compares it with
    the chain recorded when each event was written. Any edited byte, deleted, inserted
    or reordered event is reported with the first position where the log goes wrong.
    The database is opened read-only.

    When the chain is intact, it also checks, naming each disagreement: the stored
    Merkle tree (every leaf and node recomputed from the events, so proofs made from it
    hold); every published report's stored copy against the SHA-256 its publication
    event records; and every password in the credential store against the account
    events (an account the ledger opened, set by whom and when the ledger says).

    Without a checkpoint, cutting events off the end of the log, or rewriting all of
    it with a freshly computed chain, cannot be told apart from an intact log; keep
    checkpoints somewhere the database's administrators cannot change them. With
    --public-key, the checkpoint's Ed25519 signature must be that key's.

    The result is kept in last_verify.json in the data directory (`govledger status`).

    Exit status: 0 intact and everything agrees; 1 altered: the chain, the tree, a
    published report, a credential, or the checkpoint or its signature (or not a
    ledger); 2 no event store.
    """
    obj: LedgerContext = ctx.obj
    checkpoint = _load_checkpoint(checkpoint_file, public_key_file)
    try:
        with (
            _event_store_errors(ctx, obj.events_db),
            progress_bar("Verifying", threshold=PROGRESS_THRESHOLD) as progress,
        ):
            # The SQLite file in the data directory, or PostgreSQL if PERSISTENCE_MODULE says so.
            store = ledger_store.event_store(obj.data_dir)
            result = signed.verify_against(store, checkpoint, progress=progress)
            beside = _check_beside(obj.data_dir, store) if result.ok else None
    except ledger_store.StoreUnavailable as e:
        click.echo(str(e), err=True)
        ctx.exit(EXIT_NO_STORE)
    problems = [] if beside is None else beside.problems
    if beside is not None and not beside.tree.ok:
        problems = [beside.tree.summary(), *problems]
    detail = str(result.problem) if not result.ok else problems[0] if problems else f"head {result.head_hex}"
    # `govledger status` shows when the chain was last checked, and what was found.
    record_verify(obj.data_dir, intact=result.ok and not problems, events=result.events, detail=detail)
    if not result.ok:
        _report_broken_chain(result)
        ctx.exit(EXIT_TAMPERED)
    assert beside is not None
    click.echo(f"Intact: {result.events} events, head {result.head_hex}")
    if isinstance(checkpoint, signed.SignedCheckpoint):
        signer = f", signed by {public_key_file.name}'s key" if public_key_file else ""
        click.echo(f"Extends {checkpoint.origin}'s checkpoint of {checkpoint.size} events{signer}.")
    elif checkpoint is not None:
        click.echo(
            f"Extends the checkpoint of {checkpoint.events} events "
            f"taken at {checkpoint.taken_at or 'an unknown time'}."
        )
    if beside.tree.ok:
        click.echo(beside.tree.summary())
    click.echo(f"Published reports: {beside.reports} stored copies checked against their publication events.")
    click.echo(f"Credentials: {beside.credentials} stored passwords checked against the account events.")
    if problems:
        click.echo(f"NOT INTACT: {len(problems)} disagreement(s) beside the log:")
        for problem in problems:
            click.echo(f"- {problem}")
        ctx.exit(EXIT_TAMPERED)


def _load_checkpoint(
    checkpoint_file: Path | None, public_key_file: Path | None
) -> ledger_store.Checkpoint | signed.SignedCheckpoint | None:
    """The --checkpoint, its signature checked with --public-key (a usage error if not)."""
    if checkpoint_file is None:
        if public_key_file is not None:
            raise click.BadParameter("name the --checkpoint to check it against", param_hint="--public-key")
        return None
    try:
        checkpoint = signed.load_any_checkpoint(checkpoint_file)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--checkpoint") from e
    if public_key_file is None:
        return checkpoint
    if not isinstance(checkpoint, signed.SignedCheckpoint):
        raise click.BadParameter("a JSON checkpoint carries no signature", param_hint="--public-key")
    try:
        proofcheck.check_signature(checkpoint, public_key_file.read_text(encoding="utf-8"))
    except proofcheck.ProofFailed as e:
        click.echo(f"NOT INTACT: the checkpoint {checkpoint_file} fails its signature check: {e}.")
        click.get_current_context().exit(EXIT_TAMPERED)
    return checkpoint


def _check_beside(data_dir: Path, store: EventStore) -> assurance.Coverage:
    from projections import assurance  # only when the chain holds: it loads the report code

    return assurance.check_beside_the_log(data_dir, store)


def _report_broken_chain(result: ledger_store.VerifyResult) -> None:
    if result.first_bad_position is not None:
        click.echo(f"NOT INTACT: first bad position {result.first_bad_position}")
        click.echo(f"{result.problem}.")
        click.echo(f"The {result.events} events before it verify (head {result.head_hex}).")
    else:
        click.echo(f"NOT INTACT: {result.problem}.")


@click.command()
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the checkpoint.",
)
@click.option(
    "--key",
    "key_file",
    envvar=signed.SIGNING_KEY_ENV,
    show_envvar=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A private key from `govledger keygen`: sign the checkpoint with it.",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(["c2sp", "json"]),
    help="c2sp: the signed tree size and Merkle root (C2SP tlog-checkpoint); json: the "
    "older unsigned chain head.  [default: json for a FILE named *.json, else c2sp]",
)
@click.pass_context
def checkpoint(ctx: click.Context, out_file: Path, key_file: Path | None, form: str | None) -> None:
    """Record the log's size and Merkle root hash in a checkpoint file, signed with --key.

    The file is C2SP tlog-checkpoint text (origin, tree size, base64 root hash) with an
    Ed25519 signed-note signature; the origin is $GOVLEDGER_LOG_ORIGIN, or a name
    derived from the log's first event. Verifies the whole log first and refuses if it
    is not intact. Later, `govledger verify --checkpoint FILE` proves the log still
    begins with exactly the events it covers, `govledger proof` proves single events
    and growth against it, and auditors check those with `govledger proof check`.
    Store the file outside the ledger's own machine, for example with the published
    committee pack. A FILE named *.json gets the older unsigned JSON chain checkpoint.

    Exit status: 0 written, 1 log not intact (nothing written), 2 no event store.
    """
    obj: LedgerContext = ctx.obj
    form = form or ("json" if out_file.suffix.lower() == ".json" else "c2sp")
    if form == "json" and ctx.get_parameter_source("key_file") == ParameterSource.ENVIRONMENT:
        key_file = None  # the deployment's key signs C2SP checkpoints; JSON ones stay unsigned
    if key_file is not None and form == "json":
        raise click.BadParameter(
            "a JSON checkpoint cannot be signed: name the file *.txt, or pass --format c2sp",
            param_hint="--key",
        )
    try:
        key = signed.load_signing_key(key_file) if key_file else None
    except signed.KeyFileError as e:
        raise click.BadParameter(str(e), param_hint="--key") from e
    try:
        with (
            _event_store_errors(ctx, obj.events_db),
            progress_bar("Verifying before checkpoint", threshold=PROGRESS_THRESHOLD) as progress,
        ):
            store = ledger_store.event_store(obj.data_dir)  # SQLite file, or PostgreSQL if configured
            if form == "json":
                written = ledger_store.write_checkpoint(store, out_file, progress=progress)
                summary = f"{written.events} events, head {written.head}"
            else:
                taken = signed.write_signed_checkpoint(store, out_file, key, progress=progress)
                summary = f"{taken.size} events, root {base64.b64encode(taken.root).decode()}"
                summary += f", signed by {key.name}" if key else " (unsigned: give --key to sign it)"
    except ledger_store.ChainBroken as e:
        click.echo(str(e), err=True)
        ctx.exit(EXIT_TAMPERED)
    except ledger_store.StoreUnavailable as e:
        click.echo(str(e), err=True)
        ctx.exit(EXIT_NO_STORE)
    click.echo(f"Checkpoint written to {out_file}: {summary}")
