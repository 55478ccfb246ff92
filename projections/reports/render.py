"""Reports to print-ready, self-contained HTML.

One Jinja environment, autoescaping everything, with no clock, locale or random input:
the same `Report` always gives the same bytes, which is what lets a published report
be proved by its hash.
"""

from __future__ import annotations

import re
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from projections.reports import charts
from projections.reports.model import Report

_BLANK_LINES = re.compile(r"\n\s*\n")
_BULLET = re.compile(r"^\s*(?:[-*•·]\s+)")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace("\r\n", "\n").split("\n") if line.strip()]


def paragraphs(text: str) -> Markup:
    """Blank-line separated paragraphs; single line breaks kept. Everything escaped."""
    blocks = [b for b in _BLANK_LINES.split((text or "").replace("\r\n", "\n").strip()) if b.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in _lines(block)))
        for block in blocks
    )


def bullets(text: str) -> Markup:
    """One bullet per line, as highlight reports list what was and was not done."""
    items = [_BULLET.sub("", line) for line in _lines(text)]
    if not items:
        return Markup("")
    return Markup("<ul>\n{}\n</ul>").format(
        Markup("\n").join(Markup("<li>{}</li>").format(item) for item in items)
    )


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("projections.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["paragraphs"] = paragraphs
    env.filters["bullets"] = bullets
    env.globals.update(
        status_trend_svg=charts.status_trend_svg,
        indicator_svg=charts.indicator_svg,
        trend_statuses=charts.trend_statuses,
        trend_title=charts.trend_title,
    )
    return env


def render_html(report: Report) -> bytes:
    """The report as one HTML document (UTF-8 bytes, LF line endings)."""
    template = environment().get_template(f"{report.kind}.html")
    return template.render(report=report).encode("utf-8")
