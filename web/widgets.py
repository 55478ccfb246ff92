"""GOV.UK Frontend's select and radios widgets, with their HTML kept for the same input.

govuk_frontend_wtf renders every field through GOV.UK's Jinja macros, whose cost grows
with each option: the update form's period select (77 periods for a programme reporting
since 2007) and status radios were a third of that page's CPU. Their HTML is a pure
function of the parameters the widget hands its template (id, name, label, hint, items
with the one selected or checked, error message, attributes), so the same parameters
give the same HTML: it is kept, in a bounded least-recently-used store, under a key made
of exactly those parameters (with Markup told apart from text, which renders unescaped).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect
from markupsafe import Markup

KEPT = 512  # renderings kept per process: a few KB each


def _frozen(value: Any) -> Hashable:
    """`value` (params: dicts, lists, text, numbers, None) as a hashable key."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _frozen(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(_frozen(v) for v in value))
    if isinstance(value, Markup):
        return ("markup", str(value))
    if value is None or isinstance(value, str | int | float | bool):
        return (type(value).__name__, value)
    return ("other", type(value).__qualname__, repr(value))


class _Renderings:
    """A bounded, thread-safe least-recently-used store of rendered HTML."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Markup | None:
        with self._lock:
            html = self._kept.get(key)
            if html is not None:
                self._kept.move_to_end(key)
            return html

    def put(self, key: Hashable, html: Markup) -> None:
        with self._lock:
            self._kept[key] = html
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)


RENDERINGS = _Renderings(KEPT)


class _KeptRendering:
    """Mixed in before a govuk_frontend_wtf widget: its `render(params)` is kept."""

    template: str

    def render(self, params: dict[str, Any]) -> Markup:
        key = (self.template, _frozen(params))
        html = RENDERINGS.get(key)
        if html is None:
            html = super().render(params)  # type: ignore[misc]
            RENDERINGS.put(key, html)
        return html


class Select(_KeptRendering, GovSelect):
    """GovSelect, its HTML kept."""


class RadioInput(_KeptRendering, GovRadioInput):
    """GovRadioInput, its HTML kept."""
