"""The shapes a read-model table and view are described with, and the columns many
tables share (described once)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: type
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    pk: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    unique_indexes: tuple[tuple[str, ...], ...] = ()
    fts: tuple[str, ...] = ()  # columns indexed for full-text search
    # Indexed columns set once and never changed: left out of upserts' SET, so SQLite
    # doesn't rewrite their index entries on every update.
    fixed: tuple[str, ...] = ()
    hidden: bool = False  # internal to the projector: hidden in Datasette
    # Rows kept in the key's b-tree alone (no rowid and no separate key index): for
    # narrow rows written in key order, one b-tree to fill instead of two.
    without_rowid: bool = False
    facets: tuple[str, ...] = ()
    sort: str | None = None
    sort_desc: str | None = None
    label_column: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class View:
    name: str
    description: str
    sql: str
    columns: dict[str, str] = field(default_factory=dict)  # name -> description
    facets: tuple[str, ...] = ()
    # A full-text index searched from the view's page, and the view's column its rowid is.
    search: tuple[str, str] | None = None
    sort_desc: str | None = None


def column(name: str, type_: type, description: str) -> Column:
    return Column(name, type_, description)


# Columns shared by many tables, described once.
PROGRAMME = column("programme", str, "Programme id: the short name it was registered with")
REF = column("ref", str, "Item reference as registered, e.g. A1.1.1, P2.6 or WS7")
PERIOD = column("period", str, "Reporting period: 2024/25 Q1 (April to June 2024) or 2026-01")
PERIOD_START = column("period_start", str, "First day of the period (ISO date); sorts periods in time order")
VERSION = column("version", int, "Version of the record after this change (1 = as first recorded)")
POSITION = column("position", int, "Event log position of the change in force")
