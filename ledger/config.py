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

# The hash-chained recorders are plugged in by topic, the library's own extension point.
SQLITE_RECORDER_TOPIC = "ledger.store.sqlite:HashChainedSQLiteApplicationRecorder"
POSTGRES_RECORDER_TOPIC = "ledger.store.postgres:HashChainedPostgresApplicationRecorder"
POSTGRES_MODULE = "eventsourcing.postgres"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the argument, else $GOVLEDGER_DATA_DIR, else ./govledger-data."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    return Path(chosen).expanduser().resolve()


def event_store_env(data_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """eventsourcing environment for the event store in `data_dir`.

    With PERSISTENCE_MODULE=eventsourcing.postgres, the hash-chained PostgreSQL store
    configured by eventsourcing's POSTGRES_* settings (data_dir is then not used for
    events). Any other non-SQLite PERSISTENCE_MODULE is left to the library, unchained.
    """
    module = os.environ.get("PERSISTENCE_MODULE", "eventsourcing.sqlite")
    if module == POSTGRES_MODULE:
        return _postgres_env()
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


def _postgres_env() -> dict[str, str]:
    from ledger.store.postgres import PostgresEventStore

    # Fail now, naming (never showing) any missing setting, rather than deep in the library.
    PostgresEventStore.from_env(os.environ)
    # Every POSTGRES_* setting is passed on (pool size, schema, timeouts...), so that
    # the returned env alone describes the store (ledger.store.verify_store reads it).
    env = {key: value for key, value in os.environ.items() if key.startswith("POSTGRES_")}
    env["PERSISTENCE_MODULE"] = POSTGRES_MODULE
    env["APPLICATION_RECORDER_TOPIC"] = POSTGRES_RECORDER_TOPIC
    return env


def projections_path(data_dir: str | os.PathLike[str] | None = None) -> Path:
    return resolve_data_dir(data_dir) / PROJECTIONS_DB
