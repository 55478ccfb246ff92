"""What every report's extraction shares: the rows it produces, and strict helpers that
stop at the first thing in a seed text that is not as expected."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

Row = dict[str, str]
Tables = dict[str, list[Row]]


class SourceMismatch(Exception):
    """The seed text is not what this script was written against."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise SourceMismatch(message)


def one(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    match = re.search(pattern, text, flags)
    require(match is not None, f"pattern not found in source: {pattern!r}")
    assert match is not None  # for the type checker
    return match


def squash(text: str) -> str:
    """Collapse runs of whitespace (tabs, doubled spaces from tag removal) to one space."""
    return " ".join(text.split())


def seed_text(seeds: Path, prefix: str) -> str:
    found = sorted(seeds.glob(f"{prefix}_*.txt"))
    require(len(found) == 1, f"expected one {prefix}_*.txt in {seeds}, found {len(found)}")
    return found[0].read_text(encoding="utf-8")


def repair(text: str, repairs: Iterable[tuple[str, str]]) -> str:
    """Apply exact-string repairs of extraction damage; each must occur, so the table
    cannot silently go stale."""
    for broken, fixed in repairs:
        require(broken in text, f"repair target not in source: {broken!r}")
        text = text.replace(broken, fixed)
    return text


def item(programme: str, ref: str, kind: str, title: str, parent: str = "",
          lead: str = "", committee: str = "") -> Row:
    return {
        "programme": programme, "ref": ref, "kind": kind, "title": title,
        "parent_ref": parent, "lead_officer": lead, "committee": committee,
    }
