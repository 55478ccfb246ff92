"""Stored event rows to domain events, quickly, for the projector.

The result is the object eventsourcing's mapper (`Mapper.to_domain_event`) makes: the
event's class (from its topic) with the decoded state as its attributes, the originator
id converted the same way, upcast to the class's version. It differs only in how: the
JSON is parsed by orjson without a per-object hook, and values the transcoder wrote as
{"_type_", "_data_"} are then revived with the transcoder's own transcodings, bottom
up, exactly as its hook would. Anything unusual (a cipher, compression, another
transcoder, JSON orjson refuses such as NaN or huge integers) goes through the mapper.

Each event comes with its recorded time as ISO text: the stored text is what the
mapper would parse and the projector would format back (`datetime.isoformat`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

from ledger.store.events import StoredRow

Decode = Callable[[StoredRow], tuple[Any, str]]


class EventDecoder:
    """Decodes stored event rows for one application's mapper."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        transcoder = mapper.transcoder
        self.fast = mapper.cipher is None and mapper.compressor is None and type(transcoder) is JSONTranscoder
        self._transcodings = cast(JSONTranscoder, transcoder).names if self.fast else {}
        # The stored text of a time is its isoformat() only with eventsourcing's transcoding.
        self._iso_times = type(self._transcodings.get("datetime_iso")) is DatetimeAsISO
        self._classes: dict[str, tuple[type, int]] = {}
        self._id_convertors: dict[tuple[type, type], Callable[[Any], Any]] = {}

    def __call__(self, row: StoredRow) -> tuple[Any, str]:
        """(domain event, recorded time as ISO text)."""
        if self.fast:
            try:
                return self._decode(row)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                pass  # let the mapper decode it, or say why it can't
        event = self.mapper.to_domain_event(StoredEvent(row[1], row[2], row[3], row[4]))
        return event, event.timestamp.isoformat()

    def _decode(self, row: StoredRow) -> tuple[Any, str]:
        _, originator_id, version, topic, stored = row
        found = self._classes.get(topic)
        if found is None:
            cls = resolve_topic(topic)
            found = self._classes[topic] = (cls, getattr(cls, "class_version", 1))
        cls, class_version = found
        state: dict[str, Any] = orjson.loads(stored)
        recorded = state["timestamp"]
        recorded_at = recorded["_data_"] if self._iso_times and recorded["_type_"] == "datetime_iso" else None
        revive = self._revive
        for key, value in state.items():
            if type(value) is dict or type(value) is list:
                state[key] = revive(value)
        timestamp = state["timestamp"]
        if len(state) == 2 and "_type_" in state and "_data_" in state:
            raise TypeError("a transcoded value where event state was expected")
        key = (cls, type(originator_id))
        convert = self._id_convertors.get(key)
        if convert is None:
            convert = self._id_convertors[key] = find_id_convertor(cls, type(originator_id))
        state["originator_id"] = convert(originator_id)
        state["originator_version"] = version
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        if recorded_at is None or state.get("timestamp") is not timestamp:
            # Not the usual stored timestamp (or an upcast replaced it): format it.
            recorded_at = event.timestamp.isoformat()
        return event, recorded_at

    def _revive(self, value: Any) -> Any:
        """What JSONTranscoder's object hook makes of a decoded dict or list."""
        if type(value) is list:
            return [self._revive(v) if type(v) is dict or type(v) is list else v for v in value]
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                value[key] = self._revive(item)
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return self._transcodings[value["_type_"]].decode(value["_data_"])
        return value
