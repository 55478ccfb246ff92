"""Verify: the hash chain recomputed on the spot against the latest checkpoint, and
taking a checkpoint (auditors and administrators, CSRF-protected)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ledger.store import (
    ChainBroken,
    Checkpoint,
    StoreUnavailable,
    VerifyResult,
    event_store,
    verify,
    write_checkpoint,
)
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
    return {
        "result": result,
        "checkpoint": checkpoint,
        "checkpoint_file": path.name if path else None,
        "problems": problems,
        "checked_at": checked_at,
    }


@bp.route("/audit/verify")
@requires_role(*AUDIT_ROLES)
def verify_record() -> str:
    return render_template("audit/verify.html", **verify_page(data_dir()))


@bp.route("/audit/verify/checkpoint", methods=["POST"])
@requires_role(*CHECKPOINT_ROLES)
def checkpoint() -> Response:
    """Verify, then write the chain head to <data dir>/checkpoints (CSRF-protected)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    out = data_dir() / "checkpoints" / f"checkpoint-{stamp}.json"
    try:
        taken = write_checkpoint(event_store(data_dir()), out)
    except (ChainBroken, StoreUnavailable) as error:
        flash(f"No checkpoint was taken. {error}", "error")
    else:
        current_app.logger.info("checkpoint %s taken by %s", out.name, current_user.username)
        flash(f"Checkpoint taken: {taken.events} events, head {taken.head[:12]}….", "success")
    return redirect(url_for("audit.verify_record"))
