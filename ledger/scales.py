"""Status scales. A scale is data: each programme holds its own, stored in its events.

Every status has a category (green, amber, red or unrated) that summaries and exception
lists work from, a rank for direction of travel (lower is better; None for unrated
statuses), and aliases, so "Measure not due" reads as "Not yet due".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from ledger.errors import UnknownStatus


class Category(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    UNRATED = "unrated"

    @property
    def is_exception(self) -> bool:
        """Amber and red items are reported as exceptions, with their mitigation."""
        return self in (Category.AMBER, Category.RED)


@dataclass(frozen=True)
class Status:
    name: str
    category: Category
    description: str = ""
    rank: int | None = None
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category.value,
            "description": self.description,
            "rank": self.rank,
            "aliases": list(self.aliases),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Status:
        return cls(
            name=data["name"],
            category=Category(data["category"]),
            description=data.get("description", ""),
            rank=data.get("rank"),
            aliases=tuple(data.get("aliases", ())),
        )


def _key(text: str) -> str:
    return " ".join(text.replace("–", "-").split()).casefold()


@dataclass(frozen=True)
class Scale:
    name: str
    statuses: tuple[Status, ...] = field(default_factory=tuple)

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
        return tuple(s for s in self.statuses if s.category is not Category.UNRATED)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "statuses": [s.to_dict() for s in self.statuses]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scale:
        return cls(data["name"], tuple(Status.from_dict(s) for s in data["statuses"]))


RAG = Scale(
    "RAG",
    (
        Status("Green", Category.GREEN, "On track", 0, ("G", "On track")),
        Status("Amber", Category.AMBER, "Mainly on track with some minor issues", 1, ("A",)),
        Status("Red", Category.RED, "Off track with major issues", 2, ("R", "Off track")),
        Status("To be added", Category.UNRATED, "Measure or milestone still to be set"),
        Status("Not yet due", Category.UNRATED, "Not due this period", None, ("Measure not due",)),
        Status("Complete", Category.UNRATED, "Delivered", None, ("Completed",)),
    ),
)

FIVE_POINT = Scale(
    "Five-point RAG",
    (
        Status("Green", Category.GREEN, "On track", 0, ("G",)),
        Status("Amber/Green", Category.AMBER, "Minor issues, likely to recover", 1, ("AG", "Amber-Green")),
        Status("Amber", Category.AMBER, "Issues needing attention", 2, ("A",)),
        Status("Amber/Red", Category.RED, "Significant issues, at risk", 3, ("AR", "Amber-Red")),
        Status("Red", Category.RED, "Off track with major issues", 4, ("R",)),
        Status("To be added", Category.UNRATED, "Measure or milestone still to be set"),
        Status("Not yet due", Category.UNRATED, "Not due this period", None, ("Measure not due",)),
        Status("Complete", Category.UNRATED, "Delivered", None, ("Completed",)),
    ),
)

BUILT_IN_SCALES: dict[str, Scale] = {"rag": RAG, "five-point": FIVE_POINT}


def scale_named(name: str) -> Scale:
    try:
        return BUILT_IN_SCALES[name.strip().lower()]
    except KeyError:
        raise UnknownStatus(
            f"Unknown scale {name!r}: use one of {', '.join(BUILT_IN_SCALES)}.", field="scale"
        ) from None
