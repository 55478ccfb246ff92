"""What the audit pages share: their blueprint, who may read them, paging, the data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, request

from web.forms import whole_number
from web.permissions import AUDIT_ROLES, CHECKPOINT_ROLES  # noqa: F401  (the audit pages' roles)

bp = Blueprint("audit", "web.audit")

Row = dict[str, Any]

PAGE_SIZE = 50


def data_dir() -> Path:
    return Path(current_app.config["DATA_DIR"])


def position_arg(name: str) -> int | None:
    """A log position from the query string (None if absent; 400 if not a number)."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    position = whole_number(text)
    if position is None:
        abort(400)
    return position
