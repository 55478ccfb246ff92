"""Status scales. A scale is data: councils define their own (a `StatusScale` in the
ledger, a `scales.csv` import, the administrator's page) and each programme holds the
scale in force in its events, so a rating keeps the status it was made in.

Every status has a category from a fixed set (what summaries compare across scales), a
colour, aliases (so "Measure not due" reads as "Not yet due"), whether it needs
mitigation, a rank for direction of travel (lower is better; None for unrated statuses)
and an optional group, as councils print them ("In progress" = Green + Amber + Red).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any

from ledger.errors import InvalidValue, UnknownStatus


class Category(StrEnum):
    ON_TRACK = "on track"
    MINOR_ISSUES = "minor issues"
    MAJOR_ISSUES = "major issues"
    COMPLETE = "complete"
    NOT_YET_DUE = "not yet due"
    NOT_RATED = "not rated"
    CLOSED = "closed"
    # Round 1's names for the same categories, so older code and logs read unchanged.
    GREEN = "on track"
    AMBER = "minor issues"
    RED = "major issues"
    UNRATED = "not rated"

    @classmethod
    def parse(cls, text: str, column: str = "category") -> Category:
        wanted = " ".join((text or "").replace("_", " ").split()).casefold()
        try:
            return cls(wanted)
        except ValueError:
            raise UnknownStatus(
                f"{text.strip()!r} is not a category. Use one of: {', '.join(CATEGORIES)}.", field=column
            ) from None

    @property
    def band(self) -> str:
        """green, amber, red or unrated: the RAG band tags, charts and exception lists use."""
        return _BANDS.get(self, "unrated")

    @property
    def is_exception(self) -> bool:
        """Minor and major issues are reported as exceptions, with their mitigation."""
        return self in (Category.MINOR_ISSUES, Category.MAJOR_ISSUES)


CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
_BANDS = {Category.ON_TRACK: "green", Category.MINOR_ISSUES: "amber", Category.MAJOR_ISSUES: "red"}
# GOV.UK palette, a status's colour unless its scale gives one.
DEFAULT_COLOURS: dict[str, str] = {
    "green": "#00703c", "amber": "#f47738", "red": "#d4351c", "unrated": "#b1b4b6",
}
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_LEGACY = {"green": Category.ON_TRACK, "amber": Category.MINOR_ISSUES, "red": Category.MAJOR_ISSUES}


def _legacy_category(value: str, names: tuple[str, ...]) -> Category:
    """Round-1 events stored green/amber/red/unrated; an unrated status's own name says
    whether it was a completion or not yet due."""
    if value in _LEGACY:
        return _LEGACY[value]
    if value != "unrated":
        return Category(value)
    keys = {_key(n) for n in names}
    if keys & {"complete", "completed"}:
        return Category.COMPLETE
    if "not yet due" in keys:
        return Category.NOT_YET_DUE
    return Category.NOT_RATED


def parse_colour(text: str, column: str = "colour") -> str:
    colour = (text or "").strip().lower()
    if colour and not _COLOUR.fullmatch(colour):
        raise InvalidValue(f"{text.strip()!r} is not a colour: write it as #rrggbb.", field=column)
    return colour


@dataclass(frozen=True)
class Status:
    name: str
    category: Category
    description: str = ""
    rank: int | None = None
    aliases: tuple[str, ...] = ()
    colour: str = ""  # "" = the category's default
    needs_mitigation: bool | None = None  # None = an exception category needs it
    group: str = ""

    @property
    def band(self) -> str:
        return self.category.band

    @property
    def shown_colour(self) -> str:
        return self.colour or DEFAULT_COLOURS[self.band]

    @property
    def mitigation_needed(self) -> bool:
        return self.category.is_exception if self.needs_mitigation is None else self.needs_mitigation

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "category": self.category.value,
            "description": self.description,
            "rank": self.rank,
            "aliases": list(self.aliases),
        }
        # Written only when set, so a round-1 scale and its re-definition compare equal.
        if self.colour:
            data["colour"] = self.colour
        if self.needs_mitigation is not None:
            data["needs_mitigation"] = self.needs_mitigation
        if self.group:
            data["group"] = self.group
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Status:
        aliases = tuple(data.get("aliases", ()))
        return cls(
            name=data["name"],
            category=_legacy_category(data["category"], (data["name"], *aliases)),
            description=data.get("description", ""),
            rank=data.get("rank"),
            aliases=aliases,
            colour=data.get("colour", ""),
            needs_mitigation=data.get("needs_mitigation"),
            group=data.get("group", ""),
        )


def _key(text: str) -> str:
    return " ".join((text or "").replace("–", "-").split()).casefold()


@dataclass(frozen=True)
class Scale:
    name: str
    statuses: tuple[Status, ...] = field(default_factory=tuple)
    key: str = ""  # the id imports and programmes name it by ("rag"); "" for round-1 copies

    @cached_property
    def _by_key(self) -> dict[str, Status]:
        # Built once per scale: imports resolve tens of thousands of statuses.
        return {_key(n): s for s in self.statuses for n in (s.name, *s.aliases)}

    def resolve(self, text: str) -> Status:
        """The status `text` names: by name or alias, ignoring case, and ignoring a
        description after a dash ("Green – on track"). Raises UnknownStatus."""
        wanted = _key(text or "")
        if not wanted:
            raise UnknownStatus(f"Choose a status: {self.choices_text()}.", field="status")
        for candidate in (wanted, _key(re.split(r"\s[-–]\s", text, maxsplit=1)[0])):
            if candidate in self._by_key:
                return self._by_key[candidate]
        raise UnknownStatus(
            f"{text.strip()!r} is not a status on the {self.name} scale. Use one of: {self.choices_text()}.",
            field="status",
        )

    def choices_text(self) -> str:
        return ", ".join(s.name for s in self.statuses)

    @property
    def rated(self) -> tuple[Status, ...]:
        """The statuses that are a rating (used for risk RAGs)."""
        return tuple(s for s in self.statuses if s.band != "unrated")

    @property
    def groups(self) -> dict[str, tuple[Status, ...]]:
        """Each group's statuses, in scale order (groups in order of their first status)."""
        found: dict[str, list[Status]] = {}
        for status in self.statuses:
            if status.group:
                found.setdefault(status.group, []).append(status)
        return {name: tuple(members) for name, members in found.items()}

    def same_statuses(self, other: Scale) -> bool:
        return self.name == other.name and self.statuses == other.statuses

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "statuses": [s.to_dict() for s in self.statuses]}
        if self.key:
            data["key"] = self.key
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scale:
        return cls(data["name"], tuple(Status.from_dict(s) for s in data["statuses"]), data.get("key", ""))


def scale_problems(statuses: list[Status]) -> list[tuple[int, str, str]]:
    """What is wrong with a scale's statuses, as (status index, field, message): an empty
    name, or a name or alias that two statuses share (every word must name one status)."""
    problems: list[tuple[int, str, str]] = []
    if not statuses:
        problems.append((0, "status", "A scale needs at least one status."))
    owners: dict[str, str] = {}
    for i, status in enumerate(statuses):
        if not status.name.strip():
            problems.append((i, "status", "Enter the status's name."))
            continue
        own: set[str] = set()
        for column, word in [("status", status.name), *(("aliases", a) for a in status.aliases)]:
            k = _key(word)
            owner = owners.get(k)
            if k in own:
                problems.append((i, column, f"{word!r} is given twice for {status.name}."))
            elif owner is not None and column == "status" and _key(owner) == k:
                problems.append((i, column, f"The status {word!r} is listed twice."))
            elif owner is not None:
                what = "status" if column == "status" else "alias"
                problems.append((i, column, f"The {what} {word!r} clashes with {owner!r} on this scale."))
            else:
                owners[k] = status.name
            own.add(k)
    return problems


def build_scale(key: str, name: str, statuses: list[Status]) -> Scale:
    """A scale from what was typed, or InvalidValue naming the first problem."""
    key = scale_id(key)
    if not key or not all(c.isalnum() or c in "-_" for c in key):
        raise InvalidValue(f"{key!r} is not a scale id: use letters, digits and hyphens.", field="scale")
    if not (name or "").strip():
        raise InvalidValue("Enter the scale's name.", field="name")
    problems = scale_problems(statuses)
    if problems:
        index, column, message = problems[0]
        raise InvalidValue(f"Status {index + 1}: {message}", field=column)
    if all(s.rank is None for s in statuses):
        # Direction of travel: rated statuses rank in scale order, best first.
        rated = [s for s in statuses if s.band != "unrated"]
        statuses = [replace(s, rank=rated.index(s)) if s in rated else s for s in statuses]
    return Scale(name.strip(), tuple(statuses), key)


def _rag(name: str, key: str, rated: tuple[Status, ...]) -> Scale:
    return Scale(name, (
        *rated,
        Status("To be added", Category.NOT_RATED, "Measure or milestone still to be set"),
        Status("Not yet due", Category.NOT_YET_DUE, "Not due this period", None, ("Measure not due",)),
        Status("Complete", Category.COMPLETE, "Delivered", None, ("Completed",)),
    ), key)


# The two scales every ledger starts with: ordinary definitions, which a council may
# revise (a StatusScale with the same key then takes their place).
RAG = _rag("RAG", "rag", (
    Status("Green", Category.ON_TRACK, "On track", 0, ("G", "On track")),
    Status("Amber", Category.MINOR_ISSUES, "Mainly on track with some minor issues", 1, ("A",)),
    Status("Red", Category.MAJOR_ISSUES, "Off track with major issues", 2, ("R", "Off track")),
))

FIVE_POINT = _rag("Five-point RAG", "five-point", (
    Status("Green", Category.ON_TRACK, "On track", 0, ("G",)),
    Status("Amber/Green", Category.MINOR_ISSUES, "Minor issues, likely to recover", 1, ("AG", "Amber-Green")),
    Status("Amber", Category.MINOR_ISSUES, "Issues needing attention", 2, ("A",)),
    Status("Amber/Red", Category.MAJOR_ISSUES, "Significant issues, at risk", 3, ("AR", "Amber-Red")),
    Status("Red", Category.MAJOR_ISSUES, "Off track with major issues", 4, ("R",)),
))

BUILT_IN_SCALES: dict[str, Scale] = {"rag": RAG, "five-point": FIVE_POINT}


def scale_id(name: str) -> str:
    return _key(name).replace(" ", "-")


def scale_named(name: str, defined: dict[str, Scale] | None = None) -> Scale:
    """The scale with id `name`: one the ledger defines (`defined`), else a built-in."""
    wanted = scale_id(name)
    found = (defined or {}).get(wanted) or BUILT_IN_SCALES.get(wanted)
    if found is None:
        known = sorted({*BUILT_IN_SCALES, *(defined or {})})
        raise UnknownStatus(f"Unknown scale {name!r}: use one of {', '.join(known)}.", field="scale")
    return found


def with_key(scale: Scale, key: str) -> Scale:
    return replace(scale, key=key)
