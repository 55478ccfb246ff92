"""Fixtures shared by the whole suite. A module's own fixture of the same name wins.

- `ledger`: the write side alone, on a fresh SQLite event store in tmp_path.
- `system`: the ledger plus its projector (projections.db kept current after every
  save), on a fresh data directory in tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.config import event_store_env
from projections.system import System, open_system


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory on the SQLite event store (whatever the environment says)."""
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    return tmp_path


@pytest.fixture
def ledger(data_dir: Path) -> Iterator[Ledger]:
    app = Ledger(env=event_store_env(data_dir))
    yield app
    app.close()


@pytest.fixture
def system(data_dir: Path) -> Iterator[System]:
    opened = open_system(data_dir)
    yield opened
    opened.close()
