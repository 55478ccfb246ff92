"""The web's handle on the ledger system and the credential store (one per app).

The system (ledger + projector + projections DB) is opened by whoever owns the process,
`web.serve` or the test fixtures, and passed in; `create_app` opens one itself only when
run on its own, and then closes it at exit.
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

from ledger.application import Ledger
from web.credentials import CredentialStore

EXTENSION = "govledger"


class System(Protocol):
    """What web needs from projections.system.System."""

    ledger: Ledger
    projections_db: Any

    def close(self) -> None: ...


@dataclass
class Backend:
    system: System
    credentials: CredentialStore

    @property
    def ledger(self) -> Ledger:
        return self.system.ledger


def open_system(data_dir: Path) -> System:
    from projections.system import open_system as _open_system

    return _open_system(data_dir)


def init_app(app: Flask, system: System | None) -> None:
    if system is None:
        system = open_system(app.config["DATA_DIR"])
        atexit.register(system.close)
    app.extensions[EXTENSION] = Backend(
        system=system,
        credentials=CredentialStore(
            app.config["CREDENTIALS_DB"], method=app.config["PASSWORD_HASH_METHOD"]
        ),
    )


def backend() -> Backend:
    return current_app.extensions[EXTENSION]


def ledger() -> Ledger:
    return backend().ledger
