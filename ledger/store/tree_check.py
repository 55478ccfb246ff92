"""Check the stored Merkle tree against the events: part of `govledger verify`.

Proofs are made from the stored tree (ledger.store.merkle), so a node edited there
would make the ledger hand out proofs that fail, or, if the events were rewritten to
match, hide the rewrite from anyone who trusts the tree. `check_tree` recomputes every
leaf and every complete subtree from the stored events (`merkle.rebuild`, the same
recomputation a checkpoint's root comes from) and compares them, in one ordered pass
over each table, with what is stored: a leaf, a node or a position that differs, is
missing or is extra is reported by name. The root of the recomputed tree is then the
root a checkpoint of the log must carry.

A log older than the tree (never backfilled, or only partly) is not a finding: the
tree is checked as far as it reaches and the result says where it stops.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.store import sqlite as sqlite_store
from ledger.store.merkle import EventRow, Frontier, Node
from ledger.store.verification import EventStore

if TYPE_CHECKING:
    import psycopg

    from ledger.store.postgres import PostgresEventStore

# A stored leaf: (leaf index, log position, leaf hash).
Leaf = tuple[int, int, bytes]


@dataclass(frozen=True)
class TreeCheck:
    ok: bool
    leaves: int  # leaves that agree with the events
    nodes: int  # interior nodes that agree
    events: int  # events in the log (the tree is complete when leaves == events)
    root: bytes  # the root recomputed from the leaves that agree
    problem: str = ""

    @property
    def complete(self) -> bool:
        return self.leaves == self.events

    def summary(self) -> str:
        if not self.ok:
            return f"the Merkle tree does not agree with the events: {self.problem}"
        if self.leaves == 0 and self.events:
            return "no Merkle tree yet (run `govledger merkle-backfill` before asking for proofs)"
        root = base64.b64encode(self.root).decode()
        reach = "" if self.complete else (
            f", covering {self.leaves:,} of {self.events:,} events (run `govledger merkle-backfill`)"
        )
        agree = f"{self.leaves:,} leaves and {self.nodes:,} nodes agree with the events"
        return f"Merkle tree: {agree}, root {root}{reach}"


def compare_tree(events: Iterable[EventRow], leaves: Iterable[Leaf], nodes: Iterable[Node]) -> TreeCheck:
    """Compare stored leaves (by index) and interior nodes (ordered by the last leaf they
    cover, then level: the order `Frontier.add` completes them in) with the tree the
    events make. Pure: no I/O."""
    frontier = Frontier()
    event_iter, leaf_iter, node_iter = iter(events), iter(leaves), iter(nodes)
    stored_leaf, stored_node = next(leaf_iter, None), next(node_iter, None)
    agreed = {"nodes": 0, "events": 0}

    def result(problem: str = "") -> TreeCheck:
        events = agreed["events"] + (sum(1 for _ in event_iter) if not problem else 0)
        leaves = frontier.size - (1 if problem and stored_leaf is not None else 0)
        return TreeCheck(not problem, leaves, agreed["nodes"], events, frontier.root(), problem)

    for row in event_iter:
        agreed["events"] += 1
        if stored_leaf is None:  # the tree stops before this event: the rest is not built
            agreed["events"] += sum(1 for _ in event_iter)
            break
        completed = frontier.add_event(row)
        position, (_, index, leaf) = row[0], completed[0]
        if stored_leaf[:2] != (index, position):
            return result(
                f"leaf {stored_leaf[0]} is stored for position {stored_leaf[1]}, but leaf {index} "
                f"is the event at position {position}"
            )
        if stored_leaf[2] != leaf:
            return result(f"leaf {index} (position {position}) is not the hash of the event stored there")
        for level, node_index, value in completed[1:]:
            first, last = node_index << level, ((node_index + 1) << level) - 1
            if stored_node is None or stored_node[:2] != (level, node_index):
                return result(f"the node over leaves {first} to {last} (level {level}) is missing")
            if stored_node[2] != value:
                return result(
                    f"the node over leaves {first} to {last} (level {level}) is not the hash of those leaves"
                )
            agreed["nodes"] += 1
            stored_node = next(node_iter, None)
        stored_leaf = next(leaf_iter, None)
    if stored_leaf is not None:
        stored_leaf, (index, position, _) = None, stored_leaf
        return result(f"leaf {index} is stored for position {position}, where the log has no event")
    if stored_node is not None:
        level, node_index, _ = stored_node
        return result(f"a node is stored at level {level}, index {node_index}, beyond the tree's leaves")
    return result()


# --- reading the stored tree ------------------------------------------------------------


def check_tree(store: EventStore) -> TreeCheck:
    """The stored tree of an SQLite file or a PostgreSQL store, checked against its events,
    in one read-only snapshot."""
    if not isinstance(store, str | os.PathLike):
        return _check_postgres(store)
    with closing(sqlite_store.open_read_only(store)) as conn:
        conn.execute("BEGIN")
        names = sqlite_store.tables(conn)
        events = conn.execute(
            f"SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {sqlite_store.EVENTS_TABLE} ORDER BY rowid"
        )
        if sqlite_store.LEAVES_TABLE not in names:
            return compare_tree(events, (), ())
        leaves = conn.execute(
            f"SELECT leaf_index, position, hash FROM {sqlite_store.LEAVES_TABLE} ORDER BY leaf_index"
        )
        # A second connection's cursor would see another snapshot; three cursors on one
        # connection share the read transaction.
        nodes = conn.execute(
            f"SELECT level, node_index, hash FROM {sqlite_store.NODES_TABLE} "
            "ORDER BY (node_index + 1) << level, level"
        )
        return compare_tree(events, leaves, nodes)


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
        )
        if leaves_table not in names:
            return compare_tree(((p, i, v, t, bytes(s)) for p, i, v, t, s in events), (), ())
        leaves = _server_cursor(
            conn, "govledger_tree_leaves",
            SQL("SELECT leaf_index, position, hash FROM {} ORDER BY leaf_index").format(
                Identifier(store.schema, leaves_table)
            ),
        )
        nodes = _server_cursor(
            conn, "govledger_tree_nodes",
            SQL("SELECT level, node_index, hash FROM {} ORDER BY (node_index + 1) << level, level").format(
                Identifier(store.schema, nodes_table)
            ),
        )
        return compare_tree(
            ((p, i, v, t, bytes(s)) for p, i, v, t, s in events),
            ((i, p, bytes(h)) for i, p, h in leaves),
            ((lv, i, bytes(h)) for lv, i, h in nodes),
        )


def _server_cursor(conn: psycopg.Connection, name: str, query: object) -> Iterator[tuple]:
    with conn.cursor(name=name) as cursor:
        cursor.itersize = 5_000
        cursor.execute(query)
        yield from cursor
