"""Check the stored Merkle tree against the events: part of `govledger verify`.

Proofs are made from the stored tree (ledger.store.merkle), so a node edited there
would make the ledger hand out proofs that fail, or, if the events were rewritten to
match, hide the rewrite from anyone who trusts the tree. `check_tree` recomputes every
leaf and every complete subtree from the stored events (`Frontier.add_event`, the same
recomputation a checkpoint's root comes from) and compares them, in one ordered pass,
with what is stored: a leaf, a node or a position that differs, is
missing or is extra is reported by name. The root of the recomputed tree is then the
root a checkpoint of the log must carry.

A log older than the tree (never backfilled, or only partly) is not a finding: the
tree is checked as far as it reaches and the result says where it stops.
"""

from __future__ import annotations

import base64
import dataclasses
import heapq
import os
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.store import sqlite as sqlite_store
from ledger.store.merkle import EventRow, Frontier, node_id, node_key
from ledger.store.verification import EventStore

if TYPE_CHECKING:
    import psycopg

    from ledger.store.postgres import PostgresEventStore

# A stored node: (its `node_id`, hash, and for a leaf where the store records its
# position, that position; None where the position is implied, as on SQLite).
StoredNode = tuple[int, bytes, "int | None"]


@dataclass(frozen=True)
class TreeCheck:
    ok: bool
    leaves: int  # leaves that agree with the events
    nodes: int  # interior nodes that agree
    events: int  # events in the log (the tree is complete when leaves == events)
    root: bytes  # the root recomputed from the leaves that agree
    problem: str = ""
    # An SQLite file still holding the earlier two-table tree (merkle_leaves, merkle_nodes).
    earlier_layout: bool = False

    @property
    def complete(self) -> bool:
        return self.leaves == self.events

    def summary(self) -> str:
        if not self.ok:
            return f"the Merkle tree does not agree with the events: {self.problem}"
        if self.leaves == 0 and self.events and self.earlier_layout:
            return (
                "the Merkle tree is in the earlier layout (merkle_leaves, merkle_nodes), which this version "
                "does not read: run `govledger merkle-backfill` once to rebuild it, before asking for proofs"
            )
        if self.leaves == 0 and self.events:
            return "no Merkle tree yet (run `govledger merkle-backfill` before asking for proofs)"
        root = base64.b64encode(self.root).decode()
        reach = "" if self.complete else (
            f", covering {self.leaves:,} of {self.events:,} events (run `govledger merkle-backfill`)"
        )
        agree = f"{self.leaves:,} leaves and {self.nodes:,} nodes agree with the events"
        return f"Merkle tree: {agree}, root {root}{reach}"


def compare_tree(events: Iterable[EventRow], stored: Iterable[StoredNode]) -> TreeCheck:
    """Compare the stored nodes, in `node_id` order (the order `Frontier.add` completes
    them in), with the tree the events make. Pure: no I/O."""
    frontier = Frontier()
    event_iter, node_iter = iter(events), iter(stored)
    row = next(node_iter, None)
    agreed = {"nodes": 0, "events": 0, "leaves": 0}

    def result(problem: str = "") -> TreeCheck:
        events = agreed["events"] + (0 if problem else sum(1 for _ in event_iter))
        return TreeCheck(not problem, agreed["leaves"], agreed["nodes"], events, frontier.root(), problem)

    for event in event_iter:
        agreed["events"] += 1
        if row is None:  # the tree stops before this event: the rest is not built
            agreed["events"] += sum(1 for _ in event_iter)
            break
        position = event[0]
        for level, index, value in frontier.add_event(event):
            name = _name(level, index, position)
            if row is None or row[0] > node_id(level, index):
                return result(f"{name} is missing")
            if row[0] < node_id(level, index):
                return result(f"{_stored_name(row)} is stored where {name} belongs")
            if row[2] is not None and row[2] != position:
                return result(f"leaf {index} is stored for position {row[2]}, not {position}")
            if row[1] != value:
                what = "the event stored there" if level == 0 else "those leaves"
                return result(f"{name} is not the hash of {what}")
            agreed["leaves" if level == 0 else "nodes"] += 1
            row = next(node_iter, None)
    if row is not None:
        return result(f"{_stored_name(row)} is stored beyond the tree the events make")
    return result()


def _name(level: int, index: int, position: int | None = None) -> str:
    if level == 0:
        return f"leaf {index}" + (f" (position {position})" if position is not None else "")
    return f"the node over leaves {index << level} to {((index + 1) << level) - 1} (level {level})"


def _stored_name(row: StoredNode) -> str:
    key = node_key(row[0])
    if key is None:
        return f"a node numbered {row[0]}, which no tree has,"
    return _name(*key, row[2])


# --- reading the stored tree ------------------------------------------------------------


def check_tree(store: EventStore) -> TreeCheck:
    """The stored tree of an SQLite file or a PostgreSQL store, checked against its events,
    in one read-only snapshot."""
    if not isinstance(store, str | os.PathLike):
        return _check_postgres(store)
    with closing(sqlite_store.open_read_only(store)) as conn:
        conn.execute("BEGIN")  # one snapshot for both cursors
        events = conn.execute(
            f"SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {sqlite_store.EVENTS_TABLE} ORDER BY rowid"
        )
        names = sqlite_store.tables(conn)
        nodes = (
            conn.execute(f"SELECT id, hash, NULL FROM {sqlite_store.TREE_TABLE} ORDER BY id")
            if sqlite_store.TREE_TABLE in names
            else ()
        )
        checked = compare_tree(events, nodes)
        earlier = names >= sqlite_store.EARLIER_TREE_TABLES
        return dataclasses.replace(checked, earlier_layout=earlier) if earlier else checked


def _check_postgres(store: PostgresEventStore) -> TreeCheck:
    from psycopg.sql import SQL, Identifier

    from ledger.store.postgres import postgres_snapshot, table_names
    from ledger.store.postgres_merkle import merkle_table_names

    leaves_table, nodes_table = merkle_table_names(store.events_table)
    with postgres_snapshot(store) as conn:
        names = table_names(conn, store.schema)
        events = _server_cursor(
            conn, "govledger_tree_events",
            SQL("SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
                "ORDER BY notification_id").format(Identifier(store.schema, store.events_table)),
        )  # fmt: skip
        rows = ((p, i, v, t, bytes(s)) for p, i, v, t, s in events)
        if leaves_table not in names:
            return compare_tree(rows, ())
        leaves = _server_cursor(
            conn, "govledger_tree_leaves",
            SQL("SELECT leaf_index, position, hash FROM {} ORDER BY leaf_index").format(
                Identifier(store.schema, leaves_table)
            ),
        )  # fmt: skip
        nodes = _server_cursor(
            conn, "govledger_tree_nodes",
            SQL("SELECT level, node_index, hash FROM {} ORDER BY (node_index + 1) << level, level").format(
                Identifier(store.schema, nodes_table)
            ),
        )  # fmt: skip
        # Leaves and interior nodes are two tables there: one stream in node_id order.
        stored = heapq.merge(
            ((node_id(0, i), bytes(h), p) for i, p, h in leaves),
            ((node_id(level, i), bytes(h), None) for level, i, h in nodes),
            key=lambda node: node[0],
        )
        return compare_tree(rows, stored)


def _server_cursor(conn: psycopg.Connection, name: str, query: object) -> Iterator[tuple]:
    with conn.cursor(name=name) as cursor:
        cursor.itersize = 5_000
        cursor.execute(query)
        yield from cursor
