"""`govledger backup` and `govledger restore`: a consistent online copy of the data
directory, and bringing it back with proof (govledger.backup does the work)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from govledger.support import data_dir_of, progress_bar
from ledger.store import StoreUnavailable


@contextmanager
def _owner_only_files() -> Iterator[None]:
    """Anything this process creates is readable by its owner only: a backup holds
    password hashes. (The library sets each file's mode too; this also covers files
    SQLite creates beside them.)"""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


@contextmanager
def _refusals() -> Iterator[None]:
    """The library's refusals as a sentence and exit status 1, never a traceback."""
    from govledger.backup import BackupDamaged, BackupRefused
    from govledger.backup.postgres import PostgresBackupFailed

    try:
        yield
    except (BackupRefused, BackupDamaged, PostgresBackupFailed, StoreUnavailable) as e:
        raise click.ClickException(str(e)) from e


@click.command("backup")
@click.argument("out", type=click.Path(path_type=Path))
@click.pass_context
def backup_command(ctx: click.Context, out: Path) -> None:
    """Copy the ledger into the new directory OUT while the service keeps running.

    Copies the event store with SQLite's online backup API (never a file copy of a live
    database), or with pg_dump when PERSISTENCE_MODULE=eventsourcing.postgres (the
    password is passed in PGPASSWORD, never on a command line); the credential store
    (password hashes), the secret key if the data directory keeps one, and every
    published report. projections.db is left out: `govledger restore` rebuilds it.

    OUT/manifest.json records the event count and chain head the copy verifies to, the
    SHA-256 of every file and the time. Everything in OUT is readable by its owner only.

    Exit status: 0 written, 1 refused (nothing left at OUT).
    """
    from govledger.backup import back_up

    with _owner_only_files(), _refusals(), progress_bar("Backing up") as progress:
        manifest = back_up(data_dir_of(ctx), out, progress=progress)
    click.echo(
        f"Backed up {manifest.events:,} events (head {manifest.head}) and "
        f"{len(manifest.files) - 1} other files to {out}."
    )


@click.command("restore")
@click.argument("backup", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Restore even though the data directory is not empty: what it holds is moved "
    "aside to DATA_DIR.before-restore-TIME, never deleted.",
)
@click.pass_context
def restore_command(ctx: click.Context, backup: Path, force: bool) -> None:
    """Bring the backup in BACKUP back into the data directory, and prove it.

    Checks every file against the backup's manifest first: a damaged backup is refused
    and nothing is written. Refuses a data directory that is not empty unless --force.
    Then restores the files (on PostgreSQL, loads the dump into the configured database,
    which must hold no events), checks that the restored log verifies to exactly the
    manifest's event count and chain head, and rebuilds projections.db from it.
    Stop the service before restoring.

    Exit status: 0 restored and verified, 1 refused or not verified.
    """
    from govledger.backup import restore

    data_dir = data_dir_of(ctx)
    with _owner_only_files(), _refusals(), progress_bar("Restoring") as progress:
        restored = restore(backup, data_dir, force=force, progress=progress)
    if restored.moved_aside is not None:
        click.echo(f"What {data_dir} held before was moved to {restored.moved_aside}.")
    manifest = restored.manifest
    click.echo(
        f"Restored {data_dir} from the backup of {manifest.taken_at}: intact, "
        f"{manifest.events:,} events, head {manifest.head}; projections rebuilt."
    )
