"""Stored event rows to domain events, quickly, for the projector.

The result is the object eventsourcing's mapper (`Mapper.to_domain_event`) makes: the
event's class (from its topic) with the decoded state as its attributes, the originator
id converted the same way, upcast to the class's version. It differs only in how: the
JSON is parsed by orjson without a per-object hook, and values the transcoder wrote as
{"_type_", "_data_"} are then revived with the transcoder's own transcodings, bottom
up, exactly as its hook would. Anything unusual (a cipher, compression, another
transcoder, JSON orjson refuses such as NaN, integers beyond 64 bits) goes through the mapper.

Each event comes with its recorded time as ISO text: the stored text is what the
mapper would parse and the projector would format back (`datetime.isoformat`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

from ledger.store.events import StoredRow

# orjson reads an integer too big for 64 bits as a float where json gives an int, so an
# event with any float in it goes through the mapper (the ledger's events hold none).
_FLOATS = "a number orjson may read otherwise than json: the mapper decodes it"

# Values orjson reads as json does, and the transcoder leaves as they are.
_PLAIN_KINDS = frozenset((str, int, bool, type(None)))

Decode = Callable[[StoredRow], tuple[Any, str]]


class EventDecoder:
    """Decodes stored event rows for one application's mapper."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        transcoder = mapper.transcoder
        self.fast = mapper.cipher is None and mapper.compressor is None and type(transcoder) is JSONTranscoder
        names = cast(JSONTranscoder, transcoder).names if self.fast else {}
        self._transcodings: dict[str, Any] = dict(names)
        if type(names.get("uuid_hex")) is UUIDAsHex:
            # The same few programme ids recur in every event: parse each one once.
            self._transcodings["uuid_hex"] = _CachedUUIDs()
        # The stored text of a time is its isoformat() only with eventsourcing's transcoding.
        self._iso_times = type(names.get("datetime_iso")) is DatetimeAsISO
        self._classes: dict[str, _EventClass] = {}

    def __call__(self, row: StoredRow) -> tuple[Any, str]:
        """(domain event, recorded time as ISO text)."""
        if self.fast:
            try:
                return self._decode(row)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                pass  # let the mapper decode it, or say why it can't
        event = self.mapper.to_domain_event(StoredEvent(row[1], row[2], row[3], row[4]))
        return event, event.timestamp.isoformat()

    def plain(self, row: StoredRow, class_version: int) -> tuple[dict[str, Any], str] | None:
        """The stored state of an event whose values are all plain (text, integers, true,
        false, null) but its time: its event's attributes but for the originator's id,
        version and time, with the time as ISO text. A rebuild reads the fields of most
        events (a status) without building the event. None when the event needs decoding:
        another transcoded, nested or float value, or stored by another class version."""
        if not self._iso_times:
            return None
        try:
            state: dict[str, Any] = orjson.loads(row[4])
        except orjson.JSONDecodeError:
            return None
        recorded = state.pop("timestamp", None)
        if (
            type(recorded) is not dict
            or len(recorded) != 2
            or recorded.get("_type_") != "datetime_iso"
            or type(recorded.get("_data_")) is not str
            or state.pop("class_version", 1) != class_version
            or not _PLAIN_KINDS.issuperset(map(type, state.values()))
        ):
            return None
        return state, recorded["_data_"]

    def _decode(self, row: StoredRow) -> tuple[Any, str]:
        _, originator_id, version, topic, stored = row
        found = self._classes.get(topic)
        if found is None:
            found = self._classes[topic] = _EventClass(resolve_topic(topic))
        cls = found.cls
        state: dict[str, Any] = orjson.loads(stored)
        recorded = state["timestamp"]
        recorded_at = recorded["_data_"] if self._iso_times and recorded["_type_"] == "datetime_iso" else None
        keys = found.transcoded
        if keys is not None and stored.count(b'"_type_"') == len(keys) and b"\\u" not in stored:
            # Every "_type_" in the text is under one of the keys this class's events keep
            # their transcoded values under, so nothing else needs reviving.
            names = self._transcodings
            for key in keys:
                value = state[key]
                if type(value) is not dict or len(value) != 2 or "_data_" not in value:
                    break
                state[key] = names[value["_type_"]].decode(value["_data_"])
            else:
                kinds = set(map(type, state.values()))
                if float in kinds:
                    raise ValueError(_FLOATS)
                if dict not in kinds and list not in kinds:
                    keys = ()
            if keys:
                # Not the usual shape, or plain dicts and lists: the full walk (values
                # revived above are no longer dicts, so it leaves them be).
                self._revive_all(state)
        else:
            found.transcoded = self._revive_all(state)
        timestamp = state["timestamp"]
        if type(originator_id) is not found.id_type:
            found.id_type = type(originator_id)
            found.convert_id = find_id_convertor(cls, found.id_type)
        state["originator_id"] = found.convert_id(originator_id)
        state["originator_version"] = version
        from_version = state.pop("class_version", 1)
        while from_version < found.class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        if recorded_at is None or state.get("timestamp") is not timestamp:
            # Not the usual stored timestamp (or an upcast replaced it): format it.
            recorded_at = event.timestamp.isoformat()
        return event, recorded_at

    def _revive_all(self, state: dict[str, Any]) -> tuple[str, ...] | None:
        """Revive every value of an event's state. Returns the keys that held top-level
        transcoded values (None if one held a dict or list of its own)."""
        revive, names = self._revive, self._transcodings
        keys: list[str] | None = []
        for key, value in state.items():
            kind = type(value)
            if kind is dict and len(value) == 2 and "_type_" in value and "_data_" in value:
                data = value["_data_"]
                if type(data) is dict or type(data) is list:
                    data = revive(data)
                    keys = None
                elif type(data) is float:
                    raise ValueError(_FLOATS)
                state[key] = names[value["_type_"]].decode(data)
                if keys is not None:
                    keys.append(key)
            elif kind is dict or kind is list:
                state[key] = revive(value)
            elif kind is float:
                raise ValueError(_FLOATS)
        if len(state) == 2 and "_type_" in state and "_data_" in state:
            raise TypeError("a transcoded value where event state was expected")
        return tuple(keys) if keys is not None else None

    def _revive(self, value: Any) -> Any:
        """What JSONTranscoder's object hook makes of a decoded dict or list."""
        if type(value) is list:
            revived = []
            for item in value:
                kind = type(item)
                if kind is dict or kind is list:
                    item = self._revive(item)
                elif kind is float:
                    raise ValueError(_FLOATS)
                revived.append(item)
            return revived
        for key, item in value.items():
            kind = type(item)
            if kind is dict or kind is list:
                value[key] = self._revive(item)
            elif kind is float:
                raise ValueError(_FLOATS)
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return self._transcodings[value["_type_"]].decode(value["_data_"])
        return value


class _EventClass:
    """What the decoder keeps about one event class (by its topic)."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.class_version: int = getattr(cls, "class_version", 1)
        # The top-level keys its events kept transcoded values under, once seen.
        self.transcoded: tuple[str, ...] | None = None
        self.id_type: type | None = None
        self.convert_id: Callable[[Any], Any] = lambda value: value


class _CachedUUIDs:
    """eventsourcing's UUIDAsHex decoding, remembering the ids it has parsed."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._ids: dict[str, UUID] = {}

    def decode(self, data: str) -> UUID:
        found = self._ids.get(data)
        if found is None:
            if len(self._ids) >= self.LIMIT:
                self._ids.clear()
            if not isinstance(data, str):
                raise TypeError("a uuid_hex value must be text")
            found = self._ids[data] = UUID(data)
        return found
