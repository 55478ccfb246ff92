"""Refs as people write them (A1.9, A1.10, WS7, P2.6): how they sort."""

from __future__ import annotations

import re

_NUMBERS = re.compile(r"(\d+)")


def natural_sort_key(ref: str) -> str:
    """Numbers compared as numbers, so A1.9 < A1.10 < A2.1 and WS7 < WS12."""
    return "".join(f"{int(part):010d}" if part.isdigit() else part.casefold() for part in _NUMBERS.split(ref))
