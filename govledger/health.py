"""What `govledger status` reports: the log's head, the projection's position and lag, and
the last `govledger verify` (kept in last_verify.json in the data directory, written by
verify each time it runs, so an operator sees when the chain was last checked)."""

from __future__ import annotations

import json
import os
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.config import projections_path

LAST_VERIFY_FILE = "last_verify.json"


def record_verify(data_dir: Path, *, intact: bool, events: int, detail: str) -> None:
    """Keep this verify's result; written to a new file then renamed, so a reader never
    sees half of it. A ledger on PostgreSQL may run with no data directory at all: then
    there is nowhere to keep it, and none is created just for this."""
    if not data_dir.is_dir():
        return
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "intact": intact,
        "events": events,
        "detail": detail,
    }
    path = data_dir / LAST_VERIFY_FILE
    partial = path.with_suffix(".tmp")
    # Owner-only like everything else in the data directory.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(record, indent=2) + "\n")
    os.chmod(partial, 0o600)  # O_CREAT's mode does not apply to a file left from a crash
    os.replace(partial, path)


def last_verify(data_dir: Path) -> dict[str, Any] | None:
    """The last verify's result, or None if verify has not run here (or its file is unreadable)."""
    try:
        record = json.loads((data_dir / LAST_VERIFY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    lag: int  # events in the log not yet projected


def projection_status(data_dir: Path, head: int) -> ProjectionStatus | None:
    """The read model's position and how far it is behind `head`; None if there is none."""
    # Imported here: `govledger verify` records its result through this module and
    # should not load the read model's code.
    from projections.queries import connect_read_only, get_projection_position
    from projections.schema import PROJECTION

    path = projections_path(data_dir)
    if not path.is_file():
        return None
    with closing(connect_read_only(path)) as db:
        position = get_projection_position(db)
    return ProjectionStatus(PROJECTION, position, max(head - position, 0))
