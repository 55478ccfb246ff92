"""Verify: the hash chain recomputed on the spot against the latest checkpoint, then
the checks `govledger verify` runs beside it, each by name (the Merkle tree, published
reports' stored bytes, credentials against the ledger, the checkpoint's signature); the
log's current C2SP checkpoint (signed with the key $GOVLEDGER_SIGNING_KEY_FILE names,
if any) to read and download; and taking a checkpoint (auditors and administrators,
CSRF-protected), which keeps the chain's JSON checkpoint and the signed C2SP one side by
side in <data dir>/checkpoints, the latest of the latter shown with its download."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, send_from_directory, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ledger import proofcheck
from ledger.store import (
    ChainBroken,
    Checkpoint,
    StoreUnavailable,
    VerifyResult,
    event_store,
    verify,
    write_checkpoint,
)
from ledger.store import signed_checkpoints as signed
from ledger.store.verification import EventStore
from projections.assurance import check_beside_the_log
from web.audit.support import AUDIT_ROLES, CHECKPOINT_ROLES, Row, bp, data_dir
from web.permissions import requires_role


def latest_checkpoint(directory: Path) -> tuple[Path | None, Checkpoint | None, list[str]]:
    """The most recently taken readable checkpoint in <data dir>/checkpoints, and the
    problems with any that could not be read."""
    best: tuple[Path, Checkpoint] | None = None
    problems: list[str] = []
    for path in sorted((directory / "checkpoints").glob("*.json")):
        try:
            checkpoint = Checkpoint.load(path)
        except (OSError, ValueError) as error:
            problems.append(str(error))
            continue
        if best is None or (checkpoint.taken_at, checkpoint.events) >= (best[1].taken_at, best[1].events):
            best = (path, checkpoint)
    return (best[0], best[1], problems) if best else (None, None, problems)


# What `checkpoint()` names a kept C2SP checkpoint: nothing else is served from the folder.
KEPT_NAME = re.compile(r"checkpoint-\d{8}T\d{12}Z\.txt")


def latest_signed(directory: Path) -> Row | None:
    """The most recently kept readable C2SP checkpoint (the names sort by time taken)."""
    for path in sorted((directory / "checkpoints").glob("checkpoint-*.txt"), reverse=True):
        if not KEPT_NAME.fullmatch(path.name):
            continue
        try:
            parsed = proofcheck.parse_checkpoint(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, proofcheck.ProofFailed):
            continue
        return {
            "file": path.name,
            "origin": parsed.origin,
            "size": parsed.size,
            "root": base64.b64encode(parsed.root).decode(),
            "signed_by": [name for name, _ in parsed.signatures],
        }
    return None


def verify_page(directory: Path) -> Row:
    path, checkpoint, problems = latest_checkpoint(directory)
    checked_at = datetime.now(UTC).isoformat(timespec="seconds")
    store = event_store(directory)  # SQLite or PostgreSQL, as configured
    try:
        result: VerifyResult | None = verify(store, checkpoint)
    except FileNotFoundError:
        result = None
        problems.append(f"There is no event store at {store}.")
    except StoreUnavailable as error:
        result = None
        problems.append(str(error))
    current = current_checkpoint(store, result.events, problems) if result and result.ok else None
    done = checks(directory, store, result, current)
    return {
        "checks": done,
        "disagreements": [item["name"] for item in done if item["ok"] is False],
        "result": result,
        "checkpoint": checkpoint,
        "checkpoint_file": path.name if path else None,
        "kept": latest_signed(directory),
        "problems": problems,
        "checked_at": checked_at,
        "current": current,
        "signing_key_env": signed.SIGNING_KEY_ENV,
    }


def check(name: str, ok: bool | None, detail: str, problems: list[str] | None = None) -> Row:
    """One named check's outcome: ok True (agrees), False (a disagreement), None (not run)."""
    return {"name": name, "ok": ok, "detail": detail, "problems": problems or []}


def checks(directory: Path, store: EventStore, result: VerifyResult | None, current: Row | None) -> list[Row]:
    """Each of `govledger verify`'s checks by name, with its result. The ones beside the
    log run only once the chain holds, as on the command line."""
    if result is None:
        return []
    said = f"{result.events} events verify" if result.ok else str(result.problem)
    chain = check("Hash chain", result.ok, said)
    if not result.ok:
        later = "Not checked: the hash chain must hold first."
        names = ("Merkle tree", "Published reports", "Credentials against the ledger", "Checkpoint signature")
        return [chain, *(check(name, None, later) for name in names)]
    beside = check_beside_the_log(directory, store)
    tree = beside.tree
    tree_ok = tree.ok and (tree.complete or None)  # a tree to backfill is not a disagreement
    return [
        chain,
        check("Merkle tree", tree_ok, tree.summary()),
        check(
            "Published reports",
            not beside.report_problems,
            f"{beside.reports} stored copies checked against the SHA-256 in their publication events",
            beside.report_problems,
        ),
        check(
            "Credentials against the ledger",
            not beside.credential_problems,
            f"{beside.credentials} stored passwords checked against the account events",
            beside.credential_problems,
        ),
        signature_check(current),
    ]


def signature_check(current: Row | None) -> Row:
    """The current checkpoint's signature, checked with the offline verifier and the
    signing key's public half, as an auditor holding that public key would."""
    name = "Checkpoint signature"
    if current is None or current["vkey"] is None:
        return check(name, None, "Not checked: no signing key is configured, so the checkpoint is unsigned.")
    try:
        proofcheck.check_signature(proofcheck.parse_checkpoint(current["text"]), current["vkey"])
    except proofcheck.ProofFailed as error:
        return check(name, False, f"The checkpoint's signature does not hold: {error}.")
    return check(name, True, f"Signed by {current['signed_by']}; the signature holds for its public key")


def signing_key(problems: list[str]) -> signed.SigningKey | None:
    """The deployment's signing key, or None (with the reason in `problems` if it is
    named but unusable: the page then offers an unsigned checkpoint)."""
    try:
        return signed.signing_key_from_env()
    except (OSError, signed.KeyFileError) as error:
        current_app.logger.warning("signing key unusable: %s", error)
        problems.append(
            f"The signing key ${signed.SIGNING_KEY_ENV} names cannot be used, so the checkpoint is unsigned."
        )
        return None


def current_checkpoint(store: EventStore, events: int, problems: list[str]) -> Row:
    """The C2SP checkpoint of the log just verified: its text and who signed it."""
    key = signing_key(problems)
    text = signed.checkpoint_of(store, events, key)
    parsed = proofcheck.parse_checkpoint(text)
    return {
        "text": text,
        "signed_by": key.name if key else None,
        "vkey": key.vkey() if key else None,
        "size": parsed.size,
        "origin": parsed.origin,
    }


@bp.route("/audit/verify")
@requires_role(*AUDIT_ROLES)
def verify_record() -> str:
    return render_template("audit/verify.html", **verify_page(data_dir()))


@bp.route("/audit/verify/checkpoint.txt")
@requires_role(*AUDIT_ROLES)
def checkpoint_download() -> Response:
    """The log's checkpoint now, verified and (where a key is configured) signed, as a file."""
    store = event_store(data_dir())
    problems: list[str] = []
    try:
        text = signed.take_checkpoint(store, signing_key(problems))
    except (ChainBroken, StoreUnavailable, FileNotFoundError) as error:
        current_app.logger.warning("checkpoint download refused: %s", error)
        message = "The log does not verify, so no checkpoint is given. See the verify page.\n"
        return Response(message, status=409, mimetype="text/plain")
    size = proofcheck.parse_checkpoint(text).size
    return Response(
        text,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="checkpoint-{size}.txt"'},
    )


@bp.route("/audit/verify/checkpoints/<name>")
@requires_role(*AUDIT_ROLES)
def kept_checkpoint_download(name: str) -> Response:
    """A kept C2SP checkpoint, as the file it was written to."""
    if not KEPT_NAME.fullmatch(name):
        abort(404)
    return send_from_directory(data_dir() / "checkpoints", name, mimetype="text/plain", as_attachment=True)


@bp.route("/audit/verify/checkpoint", methods=["POST"])
@requires_role(*CHECKPOINT_ROLES)
def checkpoint() -> Response:
    """Verify, then write the chain head, and the signed C2SP checkpoint of the same
    events, to <data dir>/checkpoints (CSRF-protected)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    out = data_dir() / "checkpoints" / f"checkpoint-{stamp}.json"
    store = event_store(data_dir())
    key = signing_key([])
    try:
        taken = write_checkpoint(store, out)
        kept = signed.write_signed_checkpoint(store, out.with_suffix(".txt"), key)
    except (ChainBroken, StoreUnavailable) as error:
        flash(f"No checkpoint was taken. {error}", "error")
    else:
        current_app.logger.info("checkpoint %s taken by %s", out.name, current_user.username)
        signer = f", signed by {key.name}" if key else ", unsigned"
        flash(
            f"Checkpoint taken: {taken.events} events, head {taken.head[:12]}…; "
            f"C2SP checkpoint of {kept.size} events{signer}.",
            "success",
        )
    return redirect(url_for("audit.verify_record"))
