"""What the trend charts show, as plain frozen data (the report model's `trend` and
`indicator_trends`; built and drawn by projections.reports.charts)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrendCount:
    """How many items had a status in a period (rag_summary's count)."""

    name: str
    category: str  # green, amber, red or unrated
    colour: str  # the programme's own colour for the status (#rrggbb), or ""
    count: int


@dataclass(frozen=True)
class TrendPeriod:
    """One period's counts per status, in scale order."""

    period: str
    counts: tuple[TrendCount, ...]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.counts)

    def count(self, status: str) -> int:
        """How many items had `status` in the period (0 if none)."""
        return sum(c.count for c in self.counts if c.name == status)


@dataclass(frozen=True)
class IndicatorTrend:
    """One indicator's figures over the trend's periods: (period, decimal text or None)."""

    ref: str
    name: str
    breakdown: str
    unit: str
    better: str
    points: tuple[tuple[str, str | None], ...]

    @property
    def label(self) -> str:
        return f"{self.name} – {self.breakdown}" if self.breakdown else self.name
