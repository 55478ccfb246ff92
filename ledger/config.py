"""Where the ledger keeps its files, and how eventsourcing is told about them.

Storage is configured only through eventsourcing's own environment settings, so the
PostgreSQL recorder can replace SQLite without the domain or application noticing.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "GOVLEDGER_DATA_DIR"
DEFAULT_DATA_DIR = "govledger-data"
EVENTS_DB = "events.db"
PROJECTIONS_DB = "projections.db"

# The hash-chained recorder is plugged in by topic, the library's own extension point.
SQLITE_RECORDER_TOPIC = "ledger.store:HashChainedSQLiteApplicationRecorder"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the argument, else $GOVLEDGER_DATA_DIR, else ./govledger-data."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    return Path(chosen).expanduser().resolve()


def event_store_env(data_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """eventsourcing environment for the event store in `data_dir`.

    If PERSISTENCE_MODULE is already set to something other than SQLite (for example
    eventsourcing.postgres with its POSTGRES_* settings), it is left to the library.
    """
    module = os.environ.get("PERSISTENCE_MODULE", "eventsourcing.sqlite")
    if module != "eventsourcing.sqlite":
        return {"PERSISTENCE_MODULE": module}
    directory = resolve_data_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(directory / EVENTS_DB),
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER_TOPIC,
    }


def projections_path(data_dir: str | os.PathLike[str] | None = None) -> Path:
    return resolve_data_dir(data_dir) / PROJECTIONS_DB
