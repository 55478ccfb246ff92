"""Turn the three seed reports (text extracted from their Word/PDF originals) into
import-format CSV files (docs/import-format.md).

    python -m govledger.demo.extract [SEEDS_DIR] [OUT_DIR]

SEEDS_DIR defaults to ``../shared/seeds`` beside the repository, OUT_DIR to
``govledger/demo/seed``. Output is deterministic: the same seeds give byte-identical files.

One module per report (cheshire_east, cornwall, childrens_trust); `source` holds what
they share. The parsing is deliberately strict. Every repair of extraction damage is
listed in a table in its report's module and must match the source exactly, and every
count the published report states is checked, so if a seed text changes the script
stops instead of quietly producing different data.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from govledger.demo.extract.cheshire_east import cheshire_east
from govledger.demo.extract.childrens_trust import childrens_trust
from govledger.demo.extract.cornwall import cornwall
from govledger.demo.extract.source import SourceMismatch, Tables, seed_text
from ledger.transfer.kinds import COLUMNS, header

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_SEEDS = REPO_ROOT.parent / "shared" / "seeds"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "seed"


def build(seeds: Path) -> Tables:
    tables: Tables = {name: [] for name in COLUMNS}
    for part in (
        cheshire_east(seed_text(seeds, "004")),
        cornwall(seed_text(seeds, "000")),
        childrens_trust(seed_text(seeds, "003")),
    ):
        for name, rows in part.items():
            tables[name].extend(rows)
    return tables


def write(tables: Tables, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in COLUMNS:
        # Optional columns only in a file whose rows use them.
        columns = header(name)
        if not any(set(row) - set(COLUMNS[name]) for row in tables[name]):
            columns = list(COLUMNS[name])
        path = out / f"{name}.csv"
        # "\n" line endings keep the files diff-friendly; cells may hold newlines.
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(tables[name])
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 2 or any(a.startswith("-") for a in args):
        print(__doc__, file=sys.stderr)
        return 2
    seeds = Path(args[0]) if args else DEFAULT_SEEDS
    out = Path(args[1]) if len(args) > 1 else DEFAULT_OUT
    if not seeds.is_dir():
        print(f"seed folder not found: {seeds}", file=sys.stderr)
        return 2
    try:
        paths = write(build(seeds), out)
    except SourceMismatch as error:
        print(f"seed text not as expected: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
