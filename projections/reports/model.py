"""What a report shows, as plain frozen data: built from a projections database by
`build.py`, rendered to HTML by `build.render_html` and to XLSX by `xlsx.render_xlsx`.

Keeping the content separate from both renderers means the HTML and the workbook can
never disagree about a count, and the data can be checked in tests without parsing HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode

from ledger.errors import InvalidPeriod
from ledger.periods import Cadence, Calendar, Period
from projections.queries.flags import Flag
from projections.reports.trends import IndicatorTrend, TrendPeriod

REPORT_KINDS: dict[str, str] = {
    "committee": "Performance Report",
    "highlight": "Highlight Report",
    "partnership": "Partnership Progress Report",
}

# Spelt out here rather than taken from strftime, which follows the process locale.
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# An item with nothing recorded for the period (as opposed to "Not rated": recorded, no status).
NOT_RECORDED = "Not recorded"


@dataclass(frozen=True)
class StatusCount:
    name: str
    description: str
    category: str  # green, amber, red, unrated, or "none" for items with no rating
    count: int


@dataclass(frozen=True)
class Entry:
    """One rated or reported item (an action, a workstream, a core area) for the period."""

    ref: str
    title: str
    kind: str
    lead_officer: str
    committee: str
    status: str  # "" when nothing is recorded for the period; "Not rated" when left empty
    category: str  # green / amber / red / unrated / none (nothing recorded)
    update: str
    mitigation: str
    # Where the update stands in review, in words ("Approved", "Approval superseded"...);
    # "" in a report of a period nobody submitted anything for (no review column then).
    review: str = ""

    @property
    def status_text(self) -> str:
        return self.status or NOT_RECORDED

    @property
    def review_text(self) -> str:
        """The review column's words, in every report kind and format."""
        return self.review or "Not submitted"


@dataclass(frozen=True)
class Group:
    """A heading in the appendix (an aim, a priority) and what sits under it."""

    ref: str
    title: str
    kind: str
    entries: tuple[Entry, ...] = ()
    groups: tuple[Group, ...] = ()

    @property
    def heading(self) -> str:
        return f"{self.ref} – {self.title}" if self.ref and self.title else self.ref or self.title


@dataclass(frozen=True)
class IndicatorRow:
    ref: str
    name: str
    breakdown: str
    unit: str
    better: str  # higher / lower / neither
    value: str | None  # canonical decimal text, None when not recorded
    previous: str | None

    @property
    def label(self) -> str:
        return f"{self.name} – {self.breakdown}" if self.breakdown else self.name

    @property
    def change(self) -> Decimal | None:
        if self.value is None or self.previous is None:
            return None
        return Decimal(self.value) - Decimal(self.previous)

    @property
    def direction(self) -> str:
        """In words: 'better', 'worse', 'no change', 'up', 'down' or 'no previous figure'."""
        change = self.change
        if self.value is None:
            return "not recorded"
        if change is None:
            return "no previous figure"
        if change == 0:
            return "no change"
        up = change > 0
        if self.better == "higher":
            return "better" if up else "worse"
        if self.better == "lower":
            return "worse" if up else "better"
        return "up" if up else "down"

    @property
    def direction_class(self) -> str:
        return {"better": "green", "worse": "red"}.get(self.direction, "unrated")

    def format_value(self, value: str | None) -> str:
        return format_figure(value, self.unit)

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return "–"
        sign = "+" if change > 0 else "−" if change < 0 else "±"
        magnitude = format_number(str(abs(change)))
        if self.unit == "%":
            return f"{sign}{magnitude} percentage points"
        return f"{sign}{magnitude}" + (f" {self.unit}" if self.unit else "")


@dataclass(frozen=True)
class RiskRow:
    kind: str  # risk / issue
    ref: str
    description: str
    owner: str
    rag_before: str
    mitigation: str
    rag_after: str
    is_open: bool
    period: str
    rag_before_category: str = "unrated"
    rag_after_category: str = "unrated"


@dataclass(frozen=True)
class DependencyRow:
    ref: str
    description: str
    owner: str
    plan_agreed: str  # yes / no / ""
    confidence: str
    period: str

    @property
    def plan_agreed_text(self) -> str:
        return {"yes": "Yes", "no": "No"}.get(self.plan_agreed, "Not stated")


@dataclass(frozen=True)
class Contact:
    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class AsAt:
    """The ledger state a report was built from: the last log position it includes and
    when the latest included change was recorded (not when the report was rendered)."""

    position: int
    recorded_at: str = ""  # ISO 8601, UTC


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    text: str


@dataclass(frozen=True)
class Report:
    kind: str
    programme_slug: str
    programme_name: str
    period: str  # canonical label, e.g. "2024/25 Q1"
    cadence: Calendar  # its cadence, or the periods a custom-cadence programme defines
    as_at: AsAt
    contact: Contact = Contact()
    scale_name: str = ""
    summary: tuple[StatusCount, ...] = ()
    entries: tuple[Entry, ...] = ()  # every reported item, in ref order
    groups: tuple[Group, ...] = ()  # the same items under their headings
    indicators: tuple[IndicatorRow, ...] = ()
    sections: tuple[Section, ...] = ()
    risks: tuple[RiskRow, ...] = ()
    issues: tuple[RiskRow, ...] = ()
    dependencies: tuple[DependencyRow, ...] = ()
    # The committee report's trend charts: counts per status and each indicator's figures
    # over the last periods up to this one (projections.reports.charts).
    trend: tuple[TrendPeriod, ...] = ()
    indicator_trends: tuple[IndicatorTrend, ...] = ()
    entry_noun: str = "actions"
    extra: dict[str, str] = field(default_factory=dict)
    # Stale updates and watermelons (projections.queries.flags), as at the report's own
    # date (`flag_day`), so the same log position always gives the same flags.
    flags: tuple[Flag, ...] = ()
    # "/programmes/<slug>" where statuses may link to why they are so (the web's live
    # view); "" in what is published, which stands alone.
    link_base: str = ""

    # ------------------------------------------------------------ derived content

    def band_words(self, band: str) -> str:
        """The programme's own words for a RAG band ("Partly achieved" on a council's
        scale, "Amber" on RAG), from the statuses its summary counts."""
        names = [s.name for s in self.summary if s.category == band]
        return " or ".join(names) or band.capitalize()

    @property
    def period_obj(self) -> Period:
        return Period.parse(self.period, self.cadence)

    @property
    def period_name(self) -> str:
        """'Quarter 1 2024/25' or 'January 2026', as the seed reports write them; a period
        the programme defines by its own name."""
        period = self.period_obj
        if period.calendar:
            return period.label
        if period.cadence is Cadence.QUARTERLY:
            return f"Quarter {period.number} {period.year}/{(period.year + 1) % 100:02d}"
        return f"{MONTHS[period.number - 1]} {period.year}"

    @property
    def period_label_short(self) -> str:
        """'Q1' or 'January', for column headings like 'Q1 update'."""
        period = self.period_obj
        if period.calendar:
            return period.label
        if period.cadence is Cadence.QUARTERLY:
            return f"Q{period.number}"
        return MONTHS[period.number - 1]

    @property
    def period_short_name(self) -> str:
        """'Q1 2024/25' or 'January 2026'."""
        return short_period_name(self.period_obj)

    @property
    def previous_period_name(self) -> str:
        """Empty before the first period a programme defines."""
        try:
            return short_period_name(self.period_obj.previous())
        except InvalidPeriod:
            return ""

    @property
    def period_dates(self) -> str:
        """'1 April 2024 to 30 June 2024'."""
        period = self.period_obj
        return f"{long_date(period.start)} to {long_date(period.end)}"

    @property
    def kind_name(self) -> str:
        return REPORT_KINDS[self.kind]

    @property
    def title(self) -> str:
        return f"{self.kind_name} – {self.programme_name}, {self.period_name}"

    @property
    def total(self) -> int:
        return sum(row.count for row in self.summary)

    @property
    def reviewed(self) -> bool:
        """Whether any update of the period went to review: the report then has a review column."""
        return any(e.review for e in self.entries)

    def why_url(self, entry: Entry) -> str:
        """Where an entry's status links to why it is so (web.audit.why), or "" for no
        link: in what is published, and for an entry with nothing recorded."""
        if not self.link_base or entry.category in ("none", "retired"):
            return ""
        return f"{self.link_base}/items/{quote(entry.ref)}/why?{urlencode({'period': self.period})}"

    def exceptions(self, category: str) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.category == category)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def sections_except(self, *keys: str) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.key not in keys)

    @property
    def as_at_text(self) -> str:
        when = iso_to_text(self.as_at.recorded_at)
        base = f"log position {self.as_at.position}"
        return f"{base}, last change recorded {when}" if when else base


# ---------------------------------------------------------------- formatting helpers


def short_period_name(period: Period) -> str:
    if period.calendar:
        return period.label
    if period.cadence is Cadence.QUARTERLY:
        return f"Q{period.number} {period.year}/{(period.year + 1) % 100:02d}"
    return f"{MONTHS[period.number - 1]} {period.year}"


def long_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def iso_to_text(text: str) -> str:
    """'2024-10-03T09:15:00+00:00' -> '3 October 2024 10:15 BST' (empty stays empty): a
    recorded time (UTC) as a UK committee reads it, on the UK clock."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:  # the ledger records UTC
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(ZoneInfo("Europe/London"))
    return f"{long_date(moment.date())} {moment:%H:%M %Z}"


def format_number(text: str) -> str:
    """Thousands separators, the recorded decimals kept: '2869' -> '2,869', '13.05' stays."""
    try:
        number = Decimal(text)
    except (InvalidOperation, TypeError):
        return text
    exponent = number.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return f"{number:,.{places}f}"


def format_figure(value: str | None, unit: str) -> str:
    if value is None:
        return "Not recorded"
    text = format_number(value)
    return f"{text}%" if unit == "%" else text


_NUMBER = re.compile(r"(\d+)")


def natural_key(ref: str) -> tuple[tuple[int, int | str], ...]:
    """Sort 'A1.1.10' after 'A1.1.2', 'WS12' after 'WS7'."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold()) for part in _NUMBER.split(ref) if part
    )
