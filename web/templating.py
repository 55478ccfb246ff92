"""Flask's Jinja environment with template globals that are cheap to look through.

Jinja gives every template a `ChainMap(its own globals, the environment's)`. GOV.UK
Frontend's macros import their helpers inside each macro, and every such import asks
Jinja for `context globals - template globals`: with a ChainMap that is a Python-level
membership test per global (about 20), thousands of times a page, 7% of a page's CPU in
the load benchmark's profile. A template with no globals of its own (all of ours) gets a
ChainMap whose keys and iteration go straight to the environment's dict; lookups, and
any template's own globals, behave exactly as Jinja's.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterator, KeysView, MutableMapping
from typing import Any

from flask.templating import Environment as FlaskEnvironment


class _Globals(ChainMap[str, Any]):
    """ChainMap(template's own, environment's), fast while the template's own is empty."""

    def keys(self) -> KeysView[str]:
        if not self.maps[0]:
            return self.maps[1].keys()
        return super().keys()

    def __iter__(self) -> Iterator[str]:
        if not self.maps[0]:
            return iter(self.maps[1])
        return super().__iter__()

    def __contains__(self, key: object) -> bool:
        return key in self.maps[0] or key in self.maps[1]


class Environment(FlaskEnvironment):
    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return _Globals({} if d is None else d, self.globals)
