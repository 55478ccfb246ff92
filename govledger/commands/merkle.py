"""`govledger merkle-backfill`: build the Merkle tree for an event log written before it.

Parses nothing but the data directory, makes one library call (ledger.store.merkle
`backfill`) and reports the tree's size and root. Reads and writes only the event store.
"""

from __future__ import annotations

import os

import click

from govledger.support import LedgerContext, progress_bar
from ledger.config import DATA_DIR_ENV, EVENTS_DB, POSTGRES_MODULE

# Below this many events the backfill takes about a second: no progress bar.
PROGRESS_THRESHOLD = 20_000
EXIT_NO_STORE = 2


@click.command("merkle-backfill")
@click.pass_context
def merkle_backfill(ctx: click.Context) -> None:
    """Build the Merkle tree (RFC 9162) for events recorded before the ledger kept one.

    Inclusion and consistency proofs need a tree that covers every event. A ledger
    created by this version keeps it as it appends; a log from an earlier version
    needs this command once. It adds the missing leaves in batches, each batch in its
    own transaction, so it is safe to stop and run again (it resumes where it stopped,
    and does nothing once the tree is complete). The ledger can keep recording while it
    runs. The events and the hash chain are not changed.

    Exit status: 0 the tree covers every event, 2 no event store.
    """
    obj: LedgerContext = ctx.obj
    on_sqlite = os.environ.get("PERSISTENCE_MODULE", "eventsourcing.sqlite") != POSTGRES_MODULE
    if on_sqlite and not obj.events_db.is_file():
        click.echo(
            f"No event store at {obj.events_db}.\n"
            f"Point --data-dir (or ${DATA_DIR_ENV}) at the directory that holds {EVENTS_DB}.",
            err=True,
        )
        ctx.exit(EXIT_NO_STORE)
    # Imported here, so that `--help` stays quick.
    from ledger.application import open_ledger
    from ledger.store.merkle import MerkleLog, backfill

    ledger = open_ledger(obj.data_dir)
    try:
        with progress_bar("Building the Merkle tree", threshold=PROGRESS_THRESHOLD) as progress:
            state = backfill(ledger.recorder, progress)
        root = MerkleLog(ledger.recorder).root(state.leaves)
    finally:
        ledger.close()
    click.echo(f"Merkle tree complete: {state.leaves} events, root {root.hex()}")
