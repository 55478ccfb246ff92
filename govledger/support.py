"""What every `govledger` command shares: the data directory it was given, and a progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ledger.config import EVENTS_DB, PROJECTIONS_DB, resolve_data_dir

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LedgerContext:
    """What every command needs to find the ledger's files. `chosen` is the directory
    the user named (--data-dir or $GOVLEDGER_DATA_DIR), None when they named none."""

    data_dir: Path
    chosen: Path | None = None

    @property
    def events_db(self) -> Path:
        return self.data_dir / EVENTS_DB

    @property
    def projections_db(self) -> Path:
        return self.data_dir / PROJECTIONS_DB


def chosen_data_dir(ctx: click.Context) -> Path | None:
    """The directory the user named for the `govledger` group, if any."""
    obj: Any = ctx.find_root().obj
    chosen = obj.get("data_dir") if isinstance(obj, dict) else getattr(obj, "chosen", None)
    return Path(chosen) if chosen else None


def data_dir_of(ctx: click.Context) -> Path:
    """The data directory the `govledger` group resolved (--data-dir, $GOVLEDGER_DATA_DIR,
    ./govledger-data). A command invoked on its own (tests) may pass {"data_dir": ...}."""
    obj: Any = ctx.find_root().obj
    chosen = obj.get("data_dir") if isinstance(obj, dict) else getattr(obj, "data_dir", None)
    return resolve_data_dir(chosen)


@contextmanager
def progress_bar(label: str, *, threshold: int = 0) -> Iterator[Progress]:
    """A `progress(done, total)` callback drawing a rich bar on stderr (so stdout stays
    clean for scripts). Jobs of `threshold` steps or fewer finish too fast for a bar."""
    with progress_bars(label, threshold=threshold) as (report,):
        yield report


@contextmanager
def progress_bars(*labels: str, threshold: int = 0) -> Iterator[tuple[Progress, ...]]:
    """One callback per stage of a job (say, rows applied, then the save), each a bar
    under the one before it in a single display (rich draws one live display at a time)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    bars: list[Bar] = []  # started on the first report, when a total is known
    tasks: dict[str, Any] = {}

    def reporter(label: str) -> Progress:
        def report(done: int, total: int) -> None:
            if total <= threshold:
                return
            if not bars:
                bars.append(Bar(
                    "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=Console(stderr=True), transient=True,
                ))
                bars[0].start()
            if label not in tasks:
                tasks[label] = bars[0].add_task(label, total=total)
            bars[0].update(tasks[label], completed=min(done, total), total=max(total, done))

        return report

    try:
        yield tuple(reporter(label) for label in labels)
    finally:
        for bar in bars:
            bar.stop()
