"""The composition root the entry points open: the ledger, its projector with the
handlers listed in `projections.handlers`, and the catch-up after every save, so a user
sees their own write. Commands, the demo and the web server open the system here and
hand it on (the web app takes it as `create_app(system=...)`); nothing in the three
layers opens a system for an entry point.

    with open_system(data_dir) as system:
        system.ledger.record_status(...)   # saved, then projected before it returns
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.application import Ledger
from projections.system import System, open_system

__all__ = ["System", "open_system", "opened_ledger"]


@contextmanager
def opened_ledger(data_dir: Path) -> Iterator[Ledger]:
    """The ledger with its projector, so the projections are current the moment a
    command's changes are recorded."""
    with open_system(data_dir) as system:
        yield system.ledger
