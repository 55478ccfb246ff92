"""The tamper fuzz (issue 15): random single-byte changes, deletions, insertions and
reorders of the stored events in copies of a demo log, every one caught by `verify` or
by the root of a checkpoint taken before it, and the first bad position named.

CI runs 100 trials on round 1's demo log, kept as a fixture; GOVLEDGER_TAMPER_TRIALS=1000
runs the full figure recorded in docs/assurance.md, and GOVLEDGER_TAMPER_LOG=events.db
runs it on another log, such as today's demo (`govledger demo --no-serve`; run with -s
to see the counts).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tamper_fuzz import fuzz

# Round 1's demo log plus one of every other command: 265 events of 32 topics.
ROUND1_LOG = Path(__file__).parent / "fixtures" / "round1" / "events.db"
DEMO_LOG = Path(os.environ.get("GOVLEDGER_TAMPER_LOG") or ROUND1_LOG)
TRIALS = int(os.environ.get("GOVLEDGER_TAMPER_TRIALS", "100"))


def test_every_random_change_to_the_stored_events_is_caught_at_its_first_position(tmp_path: Path) -> None:
    original = tmp_path / "original.db"
    shutil.copyfile(DEMO_LOG, original)
    work = tmp_path / "work"
    work.mkdir()
    tally = fuzz(original, work, TRIALS)
    print(tally.line())
    assert tally.tried == TRIALS
    assert tally.missed == []
    assert tally.misplaced == []
    assert tally.caught == TRIALS
    # Every kind of change was tried, and some only the checkpoint could see.
    assert {kind.split(":")[0] for kind in tally.kinds} == {"byte", "delete", "insert", "reorder"}
    assert tally.by_checkpoint > 0
