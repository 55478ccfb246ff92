"""The demo: the three seed reports loaded through the real import path, plus one
sign-in account per role.

The seed CSVs (`seed/`, produced from ../shared/seeds by `extract.py`) go through
`govledger import` exactly as a council's own spreadsheet would, so the demo exercises
validation, the hash chain and the projections for real.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import LedgerError
from ledger.transfer.importing import Progress, import_file
from ledger.transfer.results import ImportResult

SEED_DIR = Path(__file__).parent / "seed"
MARKER = ".govledger-demo"  # a data directory holding this was made by the demo
LOADER = "demo loader"

CHESHIRE_EAST = "cheshire-east-plan-2024-25"
CORNWALL = "cornwall-send-inclusion"
CHILDRENS_TRUST = "cheshire-childrens-trust"
ALL_PROGRAMMES = (CHESHIRE_EAST, CORNWALL, CHILDRENS_TRUST)
PUBLISHED_AS = "Performance Report to the Corporate Policy Committee, 3 October 2024"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    programmes: tuple[str, ...] = ()


DEMO_ACCOUNTS = (
    DemoAccount("admin", "Ada Administrator", "administrator"),
    DemoAccount("pm", "Priya Programme-Manager", "programme manager", ALL_PROGRAMMES),
    DemoAccount("officer", "Owen Officer", "officer", (CHESHIRE_EAST,)),
    DemoAccount("send.officer", "Sian SEND-Officer", "officer", (CORNWALL,)),
    DemoAccount("auditor", "Aled Auditor", "auditor"),
    DemoAccount("analyst", "Ana Analyst", "analyst"),
)


class DemoRefused(Exception):
    """The data directory holds something the demo did not make; it is left alone."""


@dataclass
class DemoLoad:
    data_dir: Path
    imported: ImportResult
    passwords: dict[str, str] = field(default_factory=dict)
    events: int = 0  # in the log once the accounts are open and the report published

    def events_text(self) -> str:
        """What the log holds beyond the import, so `govledger verify`'s count adds up."""
        others = self.events - self.imported.event_count
        return (
            f"Plus {others:,} events for the {len(DEMO_ACCOUNTS)} demo accounts (opened, given "
            "their programmes and linked as leads) and the Q1 reporting cycle (the period opened, "
            "every update submitted and approved, the committee report published, one revision "
            f"returned): {self.events:,} events in the log, as `govledger verify` counts them."
        )

    def accounts_text(self) -> str:
        lines = ["Demo accounts (username / password / role):"]
        for account in DEMO_ACCOUNTS:
            scope = f"  [{', '.join(account.programmes)}]" if account.programmes else ""
            lines.append(
                f"  {account.username:<13} {self.passwords[account.username]:<18} {account.role}{scope}"
            )
        return "\n".join(lines)


def prepare_data_dir(data_dir: Path) -> None:
    """Make `data_dir` fresh: remove an earlier demo's directory, refuse anything else."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / MARKER).exists():
            raise DemoRefused(
                f"{data_dir} already holds data that the demo did not create. "
                "Choose an empty or new --data-dir; the demo never overwrites real data."
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("Created by `govledger demo`; it may be deleted and rebuilt.\n")


def load_demo(data_dir: Path, *, progress: Progress | None = None) -> DemoLoad:
    """Create a fresh demo data directory: import the seed reports, open the accounts."""
    from govledger.demo.cycle import run_cycle
    from govledger.system import open_system
    from projections.reports.publish import publish
    from web.accounts import create_account
    from web.config import CREDENTIALS_DB
    from web.credentials import CredentialStore

    prepare_data_dir(data_dir)
    system = open_system(data_dir)
    try:
        imported = import_file(system.ledger, SEED_DIR, actor=LOADER, progress=progress)
        if not imported.ok:
            raise LedgerError(
                "The demo seed files did not import:\n" + "\n".join(map(str, imported.problems))
            )
        load = DemoLoad(data_dir=data_dir, imported=imported)
        credentials = CredentialStore(data_dir / CREDENTIALS_DB)
        for account in DEMO_ACCOUNTS:
            # Fresh random passwords each time: nothing guessable ships in the code.
            password = secrets.token_urlsafe(12)
            create_account(
                system.ledger,
                credentials,
                username=account.username,
                display_name=account.display_name,
                role=account.role,
                password=password,
                actor=LOADER,
                reason="Demo account",
            )
            for programme in account.programmes:
                system.ledger.assign_programme(account.username, programme, actor=LOADER, reason="Demo")
            load.passwords[account.username] = password
        # The committee paper as it went to the Corporate Policy Committee: reviewed, then
        # published, so anything recorded for Q1 from then on shows as changed after
        # publication (as the officer's revision, returned to him, does).
        run_cycle(
            system.ledger,
            system.projections_db,
            cheshire_east=CHESHIRE_EAST,
            cornwall=CORNWALL,
            publish=lambda: publish(
                system, CHESHIRE_EAST, "committee", "2024/25 Q1", actor="pm", reason=PUBLISHED_AS
            ),
        )
        load.events = system.ledger.get_log_position()
    finally:
        system.close()
    accounts_file = data_dir / "demo-accounts.txt"
    accounts_file.write_text(load.accounts_text() + "\n")
    accounts_file.chmod(0o600)
    return load
