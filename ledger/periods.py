"""Periods: the valid time of a rating.

Quarterly programmes report on the UK municipal year, April to March: "2024/25 Q1" is
April to June 2024 and "2023/24 Q4" is January to March 2024. Monthly programmes report
by calendar month, written "2026-01". Recorded time (when an event was written) is kept
separately by every event.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ledger.errors import InvalidPeriod


class Cadence(StrEnum):
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"

    @classmethod
    def parse(cls, text: str) -> Cadence:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidPeriod(
                f"Unknown cadence {text!r}: use 'quarterly' or 'monthly'.", field="cadence"
            ) from None


# "2024/25 Q1", "Q1 2024/25", and the short form registers print, "24/25 Q1".
_QUARTER = re.compile(
    r"^(?:(\d{4}|\d{2})\s*[/-]\s*(\d{2}|\d{4})\s*Q([1-4])|Q([1-4])\s*(\d{4}|\d{2})\s*[/-]\s*(\d{2}|\d{4}))$",
    re.I,
)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_MONTH_NAMES = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTH_NAMES.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period. Ordered by time; `label` is the canonical text stored in events."""

    cadence: Cadence
    year: int  # quarterly: the municipal year's starting calendar year; monthly: the calendar year
    number: int  # quarter 1-4, or month 1-12

    @classmethod
    def parse(cls, text: str, cadence: Cadence | str) -> Period:
        cadence = Cadence(cadence)
        raw = " ".join((text or "").split())
        if not raw:
            raise InvalidPeriod("Enter a period.", field="period")
        if cadence is Cadence.QUARTERLY:
            return cls._parse_quarter(raw)
        return cls._parse_month(raw)

    @classmethod
    def _parse_quarter(cls, raw: str) -> Period:
        match = _QUARTER.match(raw)
        if not match:
            raise InvalidPeriod(
                f"{raw!r} is not a quarter of the municipal year. "
                "This programme reports quarterly: write it like '2024/25 Q1'.",
                field="period",
            )
        start, end, quarter = (match[1], match[2], match[3]) if match[1] else (match[5], match[6], match[4])
        # A two-digit year is this century's: "22/23" is 2022/23.
        first = int(start) if len(start) == 4 else 2000 + int(start)
        follows = int(end) == (first + 1 if len(end) == 4 else (first + 1) % 100)
        if not follows:
            raise InvalidPeriod(
                f"{raw!r} is not a municipal year: {start}/{end} should be consecutive years, "
                f"like {first}/{(first + 1) % 100:02d}.",
                field="period",
            )
        return cls(Cadence.QUARTERLY, first, int(quarter))

    @classmethod
    def _parse_month(cls, raw: str) -> Period:
        match = _MONTH.match(raw)
        if match and 1 <= int(match[2]) <= 12:
            return cls(Cadence.MONTHLY, int(match[1]), int(match[2]))
        words = raw.replace(",", " ").split()
        if len(words) == 2 and words[0].lower() in _MONTH_NAMES and words[1].isdigit():
            return cls(Cadence.MONTHLY, int(words[1]), _MONTH_NAMES[words[0].lower()])
        raise InvalidPeriod(
            f"{raw!r} is not a month. This programme reports monthly: write it like '2026-01'.",
            field="period",
        )

    @classmethod
    def containing(cls, day: date, cadence: Cadence | str) -> Period:
        """The period a calendar date falls in."""
        if Cadence(cadence) is Cadence.MONTHLY:
            return cls(Cadence.MONTHLY, day.year, day.month)
        year = day.year if day.month >= 4 else day.year - 1
        return cls(Cadence.QUARTERLY, year, (day.month - 4) % 12 // 3 + 1)

    @property
    def label(self) -> str:
        if self.cadence is Cadence.MONTHLY:
            return f"{self.year:04d}-{self.number:02d}"
        return f"{self.year}/{(self.year + 1) % 100:02d} Q{self.number}"

    @property
    def start(self) -> date:
        if self.cadence is Cadence.MONTHLY:
            return date(self.year, self.number, 1)
        month = 4 + 3 * (self.number - 1)
        return date(self.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> date:
        if self.cadence is Cadence.MONTHLY:
            return date(self.year, self.number, calendar.monthrange(self.year, self.number)[1])
        last = self.start.month + 2
        year = self.start.year + (last - 1) // 12
        month = (last - 1) % 12 + 1
        return date(year, month, calendar.monthrange(year, month)[1])

    @property
    def description(self) -> str:
        """Human form, e.g. 'April to June 2024'."""
        if self.cadence is Cadence.MONTHLY:
            return f"{calendar.month_name[self.number]} {self.year}"
        return (
            f"{calendar.month_name[self.start.month]} {self.start.year} to "
            f"{calendar.month_name[self.end.month]} {self.end.year}"
        )

    def previous(self) -> Period:
        size = 12 if self.cadence is Cadence.MONTHLY else 4
        if self.number == 1:
            return Period(self.cadence, self.year - 1, size)
        return Period(self.cadence, self.year, self.number - 1)

    def next(self) -> Period:
        size = 12 if self.cadence is Cadence.MONTHLY else 4
        if self.number == size:
            return Period(self.cadence, self.year + 1, 1)
        return Period(self.cadence, self.year, self.number + 1)

    @property
    def sort_key(self) -> str:
        """A string that sorts in time order (useful as a SQL column)."""
        return self.start.isoformat()

    def __str__(self) -> str:
        return self.label
