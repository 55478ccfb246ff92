"""What the load benchmark's officers read off the update form (bench/load_officers.py,
bench/load_profile.py): the period it has chosen and the programme's statuses."""

from __future__ import annotations

import html
import re


def selected_period(page: str) -> str:
    """The update form's chosen period (the open one, selected in its <select>)."""
    select = re.search(r'<select[^>]*\bname="period"[^>]*>(.*?)</select>', page, re.S)
    if select is None:
        raise RuntimeError("no period select in the update form")
    option = re.search(
        r'<option[^>]*\bselected[^>]*\bvalue="([^"]*)"|<option[^>]*\bvalue="([^"]*)"[^>]*\bselected',
        select.group(1),
    )
    if option is None:
        raise RuntimeError("no period selected in the update form")
    return html.unescape(option.group(1) or option.group(2))


def statuses(page: str) -> list[str]:
    """The status radio buttons' values (the programme's scale)."""
    return [html.unescape(v) for v in re.findall(r'<input[^>]*\bname="status"[^>]*\bvalue="([^"]*)"', page)]
