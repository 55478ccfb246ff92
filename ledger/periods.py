"""Periods: the valid time of a rating.

Quarterly programmes report on the UK municipal year, April to March: "2024/25 Q1" is
April to June 2024 and "2023/24 Q4" is January to March 2024. Monthly programmes report
by calendar month, written "2026-01". A programme on the custom cadence defines its own
periods as data (a name, a first and a last day, like "2024/25 P2", 1 April to 31 July
2024): its `Calendar` then names, orders and compares them. Recorded time (when an event
was written) is kept separately by every event.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise

from ledger.errors import InvalidPeriod


class Cadence(StrEnum):
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"
    CUSTOM = "custom"  # periods the programme defines (Calendar.defined)

    @classmethod
    def parse(cls, text: str) -> Cadence:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidPeriod(
                f"Unknown cadence {text!r}: use 'quarterly', 'monthly' or 'custom' (periods the "
                "programme defines).", field="cadence"
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
    number: int  # quarter 1-4, or month 1-12; custom: its place in its calendar, from 0
    # A custom period's own calendar (its name and days); None for quarters and months.
    calendar: Calendar | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str, cadence: Cadence | str | Calendar) -> Period:
        if isinstance(cadence, Calendar):
            return cadence.parse(text)
        return _parse_fixed(text, Cadence(cadence))

    @classmethod
    def _parse_fixed(cls, text: str, cadence: Cadence) -> Period:
        raw = " ".join((text or "").split())
        if not raw:
            raise InvalidPeriod("Enter a period.", field="period")
        if cadence is Cadence.CUSTOM:
            raise InvalidPeriod(
                f"{raw!r}: this programme reports in periods it defines, and none are defined yet. "
                "Define them first (periods.csv, or govledger define-periods).",
                field="period",
            )
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
    def containing(cls, day: date, cadence: Cadence | str | Calendar) -> Period:
        """The period a calendar date falls in."""
        if isinstance(cadence, Calendar):
            return cadence.containing(day)
        if Cadence(cadence) is Cadence.MONTHLY:
            return cls(Cadence.MONTHLY, day.year, day.month)
        year = day.year if day.month >= 4 else day.year - 1
        return cls(Cadence.QUARTERLY, year, (day.month - 4) % 12 // 3 + 1)

    @property
    def defined(self) -> DefinedPeriod | None:
        return self.calendar.defined[self.number] if self.calendar else None

    @property
    def label(self) -> str:
        if self.calendar:
            return self.calendar.defined[self.number].name
        if self.cadence is Cadence.MONTHLY:
            return f"{self.year:04d}-{self.number:02d}"
        return f"{self.year}/{(self.year + 1) % 100:02d} Q{self.number}"

    @property
    def start(self) -> date:
        if self.calendar:
            return self.calendar.defined[self.number].start
        if self.cadence is Cadence.MONTHLY:
            return date(self.year, self.number, 1)
        month = 4 + 3 * (self.number - 1)
        return date(self.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> date:
        if self.calendar:
            return self.calendar.defined[self.number].end
        if self.cadence is Cadence.MONTHLY:
            return date(self.year, self.number, calendar.monthrange(self.year, self.number)[1])
        last = self.start.month + 2
        year = self.start.year + (last - 1) // 12
        month = (last - 1) % 12 + 1
        return date(year, month, calendar.monthrange(year, month)[1])

    @property
    def description(self) -> str:
        """Human form, e.g. 'April to June 2024'."""
        if self.calendar:
            return f"{_day(self.start)} to {_day(self.end)}"
        if self.cadence is Cadence.MONTHLY:
            return f"{calendar.month_name[self.number]} {self.year}"
        return (
            f"{calendar.month_name[self.start.month]} {self.start.year} to "
            f"{calendar.month_name[self.end.month]} {self.end.year}"
        )

    def previous(self) -> Period:
        if self.calendar:
            return self.calendar.at(self.number - 1, f"{self.label} is the first period defined")
        size = 12 if self.cadence is Cadence.MONTHLY else 4
        if self.number == 1:
            return Period(self.cadence, self.year - 1, size)
        return Period(self.cadence, self.year, self.number - 1)

    def next(self) -> Period:
        if self.calendar:
            return self.calendar.at(self.number + 1, f"{self.label} is the last period defined")
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


@lru_cache(maxsize=4096)
def _parse_fixed(text: str, cadence: Cadence) -> Period:
    """Quarters and months parsed once per text: an import parses each row's period
    several times (periods are frozen values, so sharing them is safe)."""
    return Period._parse_fixed(text, cadence)


def _day(day: date) -> str:
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


@dataclass(frozen=True)
class DefinedPeriod:
    """A period a programme defines: its name and its first and last days."""

    name: str
    start: date
    end: date


def _name_key(text: str) -> str:
    return " ".join((text or "").split()).casefold()


@dataclass(frozen=True)
class Calendar:
    """How a programme's periods are named and ordered: its cadence, or for the custom
    cadence the periods it defines (in time order). Hashable, so lookups can be cached."""

    cadence: Cadence
    defined: tuple[DefinedPeriod, ...] = ()

    @classmethod
    def of(cls, cadence: Cadence | str, defined: Iterable[Sequence[str]] = ()) -> Calendar:
        """From a cadence and (name, first day, last day) triples, days as ISO text;
        checked: names unique (ignoring case and spaces), first <= last, no overlaps."""
        cadence = Cadence.parse(cadence) if isinstance(cadence, str) else cadence
        periods = sorted((_defined(*triple) for triple in defined), key=lambda p: p.start)
        if cadence is not Cadence.CUSTOM:
            if periods:
                raise InvalidPeriod(
                    f"A {cadence.value} programme reports in its cadence's periods: only a "
                    "programme on the custom cadence defines its own.", field="cadence",
                )
            return cls(cadence)
        seen: dict[str, str] = {}
        for before, after in pairwise(periods):
            if after.start <= before.end:
                raise InvalidPeriod(
                    f"{after.name!r} ({after.start.isoformat()} to {after.end.isoformat()}) overlaps "
                    f"{before.name!r} ({before.start.isoformat()} to {before.end.isoformat()}).",
                    field="start",
                )
        for period in periods:
            if _name_key(period.name) in seen:
                raise InvalidPeriod(f"The period {period.name!r} is defined twice.", field="period")
            seen[_name_key(period.name)] = period.name
        return cls(cadence, tuple(periods))

    @classmethod
    def from_json(cls, cadence: str, text: str | None) -> Calendar:
        """A programme row's calendar: its cadence and its `periods` column (JSON triples)."""
        return cls.of(cadence, json.loads(text) if text else ())

    def triples(self) -> list[list[str]]:
        """(name, first day, last day) per period, days as ISO text: how events store them."""
        return [[p.name, p.start.isoformat(), p.end.isoformat()] for p in self.defined]

    def to_json(self) -> str:
        return json.dumps(self.triples(), ensure_ascii=False)

    def at(self, index: int, missing: str) -> Period:
        if not 0 <= index < len(self.defined):
            raise InvalidPeriod(missing, field="period")
        return Period(Cadence.CUSTOM, 0, index, self)

    def parse(self, text: str) -> Period:
        if self.cadence is not Cadence.CUSTOM:
            return Period.parse(text, self.cadence)
        raw = " ".join((text or "").split())
        if not raw:
            raise InvalidPeriod("Enter a period.", field="period")
        wanted = raw.casefold()
        for index, period in enumerate(self.defined):
            if _name_key(period.name) == wanted:
                return Period(Cadence.CUSTOM, 0, index, self)
        names = ", ".join(p.name for p in self.defined)
        raise InvalidPeriod(
            f"{raw!r} is not one of this programme's periods: use one of {names}."
            if names else
            f"{raw!r}: this programme reports in periods it defines, and none are defined yet. "
            "Define them first (periods.csv, or govledger define-periods).",
            field="period",
        )

    def containing(self, day: date) -> Period:
        """The period a day falls in; between or after periods, the latest begun by then
        (before all of them, the first)."""
        if self.cadence is not Cadence.CUSTOM:
            return Period.containing(day, self.cadence)
        if not self.defined:
            raise InvalidPeriod("This programme has no periods defined yet.", field="period")
        begun = [i for i, p in enumerate(self.defined) if p.start <= day]
        return Period(Cadence.CUSTOM, 0, begun[-1] if begun else 0, self)


def _defined(name: str, start: str | date, end: str | date) -> DefinedPeriod:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidPeriod("Enter the period's name, like 2024/25 P2.", field="period")
    first, last = _iso_day(start, "start", name), _iso_day(end, "end", name)
    if last < first:
        raise InvalidPeriod(
            f"{name!r} ends ({last.isoformat()}) before it starts ({first.isoformat()}).", field="end"
        )
    return DefinedPeriod(name, first, last)


def _iso_day(value: str | date, column: str, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidPeriod(
            f"{value!r} is not a date for the {column} of {name!r}: write it like 2024-04-01.",
            field=column,
        ) from None


@lru_cache(maxsize=256)
def calendar_for(cadence: str, periods: str | None = None) -> Calendar:
    """A programme's calendar from its cadence and its defined periods as JSON (how the
    read model's programmes table holds them); built once per distinct definition."""
    return Calendar.from_json(cadence, periods)
