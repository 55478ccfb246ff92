"""`govledger keygen`: the Ed25519 key pair that signs checkpoints.

The private key is written only where the user says, created mode 0600, and never
inside the data directory unless they insist (--force): whoever can read the ledger's
files must not be able to sign for it. Nothing about it enters the event log.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from govledger.support import data_dir_of
from ledger.store.signed_checkpoints import DEFAULT_KEY_NAME, ORIGIN_ENV, KeyFileError, generate_key

EXIT_REFUSED = 1


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


def _write_new(path: Path, text: str, mode: int, *, replace: bool) -> None:
    """Create `path` with `mode` from the start (no moment when others may read it)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, flags, mode)
    os.fchmod(descriptor, mode)  # an existing file replaced with --force keeps no wider mode
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        f.write(text + "\n")


@click.command()
@click.option(
    "--out-private",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the private (signing) key. Keep it off the ledger's server if you can.",
)
@click.option(
    "--out-public",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the public (verifier) key, to give to auditors.",
)
@click.option(
    "--name",
    envvar=ORIGIN_ENV,
    default=DEFAULT_KEY_NAME,
    show_default=True,
    help=f"The key's name, shown on every signature; best the log's origin (${ORIGIN_ENV}).",
)
@click.option("--force", is_flag=True, help="Replace existing files, and allow the data directory.")
@click.pass_context
def keygen(ctx: click.Context, out_private: Path, out_public: Path, name: str, force: bool) -> None:
    """Make an Ed25519 key pair for signing checkpoints (C2SP signed-note format).

    The public key file holds one verifier key (`name+keyid+key`), the form
    `govledger proof check --public-key` and Go's sumdb/note read. The private key
    file is created readable by you alone (mode 0600). It is refused inside the data
    directory, where anyone who can copy the ledger could also sign for it, unless you
    pass --force. Sign with `govledger checkpoint --key FILE`, or point
    $GOVLEDGER_SIGNING_KEY_FILE at it for the web's verify page.

    Exit status: 0 written, 1 refused (nothing written).
    """
    data_dir = data_dir_of(ctx)
    if not force:
        if _inside(out_private, data_dir):
            click.echo(
                f"Refusing to write the private key inside the data directory {data_dir}: "
                "keep it where the ledger's files are not (or pass --force).",
                err=True,
            )
            ctx.exit(EXIT_REFUSED)
        if existing := [str(p) for p in (out_private, out_public) if p.exists()]:
            click.echo(f"Refusing to replace {', '.join(existing)} (pass --force).", err=True)
            ctx.exit(EXIT_REFUSED)
    try:
        key = generate_key(name)
    except KeyFileError as e:
        raise click.BadParameter(str(e), param_hint="--name") from e
    _write_new(out_private, key.private_text(), 0o600, replace=force)
    _write_new(out_public, key.vkey(), 0o644, replace=force)
    click.echo(f"Private key written to {out_private} (mode 0600); keep it secret.")
    click.echo(f"Public key written to {out_public}: {key.vkey()}")
