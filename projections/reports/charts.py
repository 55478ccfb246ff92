"""Charts drawn on the server as plain SVG, for the web dashboards and the reports alike.

- `status_trend` / `indicator_trends`: the data, from the read model (rag_summary via
  get_summary, and the indicators table), as the report model's frozen types.
- `status_trend_svg`: counts per status stacked for each period, in the programme's own
  colours (a status's colour on its scale, else its band's), with a legend.
- `indicator_svg`: one indicator's figures over the periods, its latest step coloured
  by its direction of travel (better, worse, or neither).
- `svg_to_png`: the same drawing as a PNG, for Word, which cannot show SVG.

No script, no styles, no clock: presentation attributes only (the pages' CSP allows
them where inline styles are not), and the same data always gives the same bytes, so
a report with a chart is still proved by its hash. Every chart carries its numbers as
a title and description; pages and reports put a table of them beside it.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from markupsafe import Markup

from ledger.refs import natural_sort_key
from projections.queries.connection import Db
from projections.queries.programmes import get_scale
from projections.queries.trends import get_indicator_trend, get_status_trend
from projections.reports.model import IndicatorRow, format_figure
from projections.reports.trends import IndicatorTrend, TrendCount, TrendPeriod

# Fills from the GOV.UK colour palette per band, for statuses with no colour of their own.
BAND_FILLS: dict[str, str] = {
    "green": "#00703c",
    "amber": "#f47738",
    "red": "#d4351c",
    "unrated": "#b1b4b6",
    "none": "#b1b4b6",
}
DIRECTION_STROKES = {"better": "#00703c", "worse": "#d4351c"}
INK, GRID = "#0b0c0c", "#b1b4b6"
FONT = "Arial, Helvetica, sans-serif"


def fill(colour: str | None, category: str | None) -> str:
    """A status's own colour, else its band's."""
    return colour or BAND_FILLS.get(category or "unrated", BAND_FILLS["unrated"])


# ---------------------------------------------------------------- data


def status_trend(db: Db, programme: str, period: str) -> tuple[TrendPeriod, ...]:
    """Counts per status (scale order, zeros kept for the scale's own statuses) for the
    last periods up to `period`: exactly rag_summary's counts."""
    on_scale = {s["status"] for s in get_scale(db, programme)}
    return tuple(
        TrendPeriod(
            period=summary["period"],
            counts=tuple(
                TrendCount(s["status"], s["category"] or "unrated", s["colour"] or "", int(s["count"]))
                for s in summary["statuses"]
                if s["status"] in on_scale or s["count"]
            ),
        )
        for summary in get_status_trend(db, programme, period)
    )


def indicator_trends(db: Db, programme: str, period: str) -> tuple[IndicatorTrend, ...]:
    found = get_indicator_trend(db, programme, period)
    return tuple(
        IndicatorTrend(
            ref=r["ref"],
            name=r["name"],
            breakdown=r["breakdown"],
            unit=r["unit"],
            better=r["better"],
            points=tuple((p["period"], p["value_text"]) for p in r["points"]),
        )
        for r in sorted(
            found, key=lambda r: (natural_sort_key(r["ref"]), r["breakdown"] != "", r["breakdown"])
        )
    )


# The reports that show the trend charts (the committee's performance report).
TREND_REPORTS = ("committee",)


def report_trends(db: Db, programme: str, period: str, kind: str) -> dict[str, tuple[object, ...]]:
    """The Report fields `trend` and `indicator_trends` for a report of `kind`."""
    if kind not in TREND_REPORTS:
        return {}
    return {
        "trend": status_trend(db, programme, period),
        "indicator_trends": indicator_trends(db, programme, period),
    }


# ---------------------------------------------------------------- drawing


def _n(value: float) -> str:
    """A coordinate, with no trailing noise: 12, 12.5."""
    return f"{value:.1f}".removesuffix(".0")


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = 11,
    anchor: str = "start",
    bold: bool = False,
    colour: str = INK,
) -> Markup:
    weight = Markup(' font-weight="bold"') if bold else Markup("")
    return Markup(
        '<text x="{}" y="{}" font-family="{}" font-size="{}" fill="{}" text-anchor="{}"{}>{}</text>'
    ).format(_n(x), _n(y), FONT, size, colour, anchor, weight, text)


def _rect(x: float, y: float, w: float, h: float, colour: str, title: str = "") -> Markup:
    tip = Markup("<title>{}</title>").format(title) if title else Markup("")
    return Markup(
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" stroke-width="1">{}</rect>'
    ).format(_n(x), _n(y), _n(w), _n(h), colour, INK, tip)


def _line(x1: float, y1: float, x2: float, y2: float, colour: str = INK, width: float = 1) -> Markup:
    return Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}"/>').format(
        _n(x1), _n(y1), _n(x2), _n(y2), colour, _n(width)
    )


def _svg(width: float, height: float, label_id: str, title: str, desc: str, body: list[Markup]) -> Markup:
    return Markup(
        '<svg class="app-chart" role="img" focusable="false" '
        'width="{w}" height="{h}" viewBox="0 0 {w} {h}" aria-labelledby="{id}-title {id}-desc">\n'
        '<title id="{id}-title">{title}</title>\n<desc id="{id}-desc">{desc}</desc>\n'
        '<rect width="{w}" height="{h}" fill="#ffffff"/>\n{body}\n</svg>'
    ).format(w=_n(width), h=_n(height), id=label_id, title=title, desc=desc, body=Markup("\n").join(body))


def _on(colour: str) -> str:
    """Ink or white, whichever reads on `colour` (#rrggbb), by its luminance."""
    try:
        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    except ValueError:
        return INK
    return INK if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


def trend_statuses(trend: tuple[TrendPeriod, ...]) -> list[TrendCount]:
    """Every status the trend counts, once, in scale order (first seen wins)."""
    seen: dict[str, TrendCount] = {}
    for period in trend:
        for count in period.counts:
            if count.count:
                seen.setdefault(count.name, count)
    return list(seen.values())


def trend_title(trend: tuple[TrendPeriod, ...]) -> str:
    span = f"{trend[0].period} to {trend[-1].period}" if len(trend) > 1 else trend[0].period if trend else ""
    return f"Number of items by status, {span}" if span else "Number of items by status"


def trend_description(trend: tuple[TrendPeriod, ...]) -> str:
    return " ".join(
        f"{p.period}: "
        + ", ".join(f"{c.name} {c.count}" for c in p.counts if c.count)
        + f" (total {p.total})."
        for p in trend
    )


def status_trend_svg(trend: tuple[TrendPeriod, ...], label_id: str = "status-trend") -> Markup:
    """A column per period, its statuses stacked bottom up in scale order, each segment
    with its count where it fits, the total on top; the legend lists them top down as
    they stack."""
    plot_h, column_w, bar_w, left, top = 200.0, 64.0, 40.0, 36.0, 24.0
    statuses = trend_statuses(trend)
    legend_x = left + column_w * max(len(trend), 1) + 24
    highest = max((p.total for p in trend), default=0) or 1
    base, scale = top + plot_h, plot_h / highest
    body = [
        _line(left, base, left + column_w * len(trend), base),
        _text(left - 6, base + 4, "0", anchor="end"),
        _text(left - 6, top + 4, str(highest), anchor="end"),
    ]
    for i, period in enumerate(trend):
        x, y = left + i * column_w + (column_w - bar_w) / 2, base
        for count in (c for c in period.counts if c.count):
            h = count.count * scale
            y -= h
            colour = fill(count.colour, count.category)
            # The numbers travel with the drawing (data-*), for tests and anyone reusing it.
            segment = [_rect(x, y, bar_w, h, colour, f"{period.period}: {count.name} {count.count}")]
            if h >= 15:
                segment.append(
                    _text(x + bar_w / 2, y + h / 2 + 4, str(count.count), anchor="middle", colour=_on(colour))
                )
            body.append(
                Markup('<g data-period="{}" data-status="{}" data-count="{}">{}</g>').format(
                    period.period, count.name, count.count, Markup("").join(segment)
                )
            )
        body.append(_text(x + bar_w / 2, y - 6, str(period.total), anchor="middle", bold=True))
        for line, words in enumerate(period.period.split(" ", 1)):
            body.append(_text(x + bar_w / 2, base + 16 + 14 * line, words, anchor="middle"))
    for j, status in enumerate(reversed(statuses)):
        body.append(_rect(legend_x, top + j * 22, 14, 14, fill(status.colour, status.category)))
        body.append(_text(legend_x + 20, top + j * 22 + 12, status.name, size=12))
    height = max(base + 44, top + 22 * len(statuses) + 8)
    return _svg(legend_x + 180, height, label_id, trend_title(trend), trend_description(trend), body)


def direction(indicator: IndicatorTrend) -> str:
    """The latest step in words, as the indicators table says it (better, worse...)."""
    latest = indicator.points[-1][1] if indicator.points else None
    previous = indicator.points[-2][1] if len(indicator.points) > 1 else None
    row = IndicatorRow(
        indicator.ref, indicator.name, indicator.breakdown, indicator.unit, indicator.better, latest, previous
    )
    return row.direction


def indicator_summary(indicator: IndicatorTrend) -> str:
    """'2024/25 Q1: 13.05% (worse)', or '2024/25 Q2: not recorded'."""
    period, value = indicator.points[-1] if indicator.points else ("", None)
    if value is None:
        return f"{period}: not recorded"
    return f"{period}: {format_figure(value, indicator.unit)} ({direction(indicator)})"


def indicator_svg(indicator: IndicatorTrend, label_id: str) -> Markup:
    """The figures joined period to period, the first and last labelled; the step into
    the latest period drawn in the colour of its direction of travel."""
    width, left, right, top, plot_h = 320.0, 16.0, 16.0, 22.0, 52.0
    values = [(i, Decimal(v)) for i, (_, v) in enumerate(indicator.points) if v is not None]
    low = min((v for _, v in values), default=Decimal(0))
    span = (max((v for _, v in values), default=Decimal(1)) - low) or Decimal(1)
    step = (width - left - right) / max(len(indicator.points) - 1, 1)

    def at(i: int, value: Decimal) -> tuple[float, float]:
        return left + i * step, top + plot_h - float((value - low) / span) * plot_h

    last = len(indicator.points) - 1
    body: list[Markup] = []
    for (i, a), (j, b) in pairwise(values):
        latest = (i, j) == (last - 1, last)
        colour = DIRECTION_STROKES.get(direction(indicator), INK) if latest else GRID
        body.append(_line(*at(i, a), *at(j, b), colour=colour, width=3 if latest else 2))
    for n, (i, value) in enumerate(values):
        x, y = at(i, value)
        figure = format_figure(str(value), indicator.unit)
        body.append(
            Markup('<circle cx="{}" cy="{}" r="3.5" fill="{}"><title>{}: {}</title></circle>').format(
                _n(x), _n(y), INK, indicator.points[i][0], figure
            )
        )
        if n in (0, len(values) - 1):
            anchor = "start" if x < width / 3 else "end" if x > 2 * width / 3 else "middle"
            body.append(_text(x, y - 8, figure, anchor=anchor))
    body.append(_text(left, top + plot_h + 18, indicator.points[0][0] if indicator.points else ""))
    body.append(
        _text(
            width - right,
            top + plot_h + 18,
            indicator.points[-1][0] if indicator.points else "",
            anchor="end",
        )
    )
    body.append(_text(left, top + plot_h + 36, indicator_summary(indicator), bold=True))
    desc = "; ".join(f"{p}: {format_figure(v, indicator.unit)}" for p, v in indicator.points)
    better = {"higher": "higher is better", "lower": "lower is better"}.get(
        indicator.better, "neither is better"
    )
    title = f"{indicator.label}: direction of travel ({better})"
    return _svg(
        width, top + plot_h + 44, label_id, title, f"{desc}. Latest: {indicator_summary(indicator)}.", body
    )


def svg_to_png(svg: str, scale: float = 2.0) -> bytes:
    """The drawing as PNG (cairosvg), for documents that cannot hold SVG; deterministic."""
    import cairosvg

    # Inline in HTML an <svg> needs no namespace (and a report names no URL); alone it does.
    standalone = str(svg).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return cairosvg.svg2png(bytestring=standalone.encode("utf-8"), scale=scale)
