"""Times as people in the UK read and type them. The ledger records UTC; pages show
Europe/London time (GMT in winter, BST in summer, named on every time shown), and a date
or time typed into an as-at question means UK time."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

LONDON = ZoneInfo("Europe/London")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def in_london(iso: str) -> datetime:
    """A recorded ISO time (UTC, or any zone) as the UK clock showed it."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return moment.astimezone(LONDON) if moment.tzinfo else moment


def local_time(iso: str | None) -> str:
    """23 Nov 2026 13:22 GMT; 3 Oct 2024 11:22 BST."""
    if not iso:
        return ""
    return in_london(iso).strftime("%d %b %Y %H:%M %Z")


@lru_cache(maxsize=4096)  # pure; a timeline shows fifty of them on every view
def when(value: str | None) -> Markup:
    """An ISO time as `<time>` (the machine-readable value kept as recorded, in UTC),
    e.g. 23 November 2026, 13:14:59 GMT; a bare date as 23 November 2026."""
    if not value:
        return Markup("")
    try:
        moment = in_london(value)
    except ValueError:
        return escape(value)
    text = f"{moment.day} {moment:%B %Y, %H:%M:%S %Z}" if moment.tzinfo else f"{moment.day} {moment:%B %Y}"
    return Markup('<time datetime="{}">{}</time>').format(value, text)


def uk_date(iso: str | None) -> str:
    """An ISO date as people here read it: 31 March 2027."""
    return f"{date.fromisoformat(iso):%-d %B %Y}" if iso else ""


def moment_words(iso: str) -> str:
    """11:22:03 BST on 3 October 2024: a recorded time in a sentence."""
    moment = in_london(iso)
    return f"{moment:%H:%M:%S %Z} on {moment.day} {moment:%B %Y}"


def uk_moment(day: date, at: time | None = None) -> str:
    """ISO time (with its UTC offset that day) of a UK date and clock time; a date alone
    means the end of that UK day, so "as at 3 October" includes all of 3 October."""
    return datetime.combine(day, at or time.max, tzinfo=LONDON).isoformat()


def as_uk_time(text: str) -> str:
    """A typed as-at (a log position, a date, or an ISO time) with a date or a time that
    names no zone read as UK time; anything else as typed, for the parser to judge."""
    text = (text or "").strip()
    try:
        if _DATE_ONLY.fullmatch(text):
            return uk_moment(date.fromisoformat(text))
        if "T" in text and datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is None:
            return datetime.fromisoformat(text).replace(tzinfo=LONDON).isoformat()
    except ValueError:
        return text
    return text
