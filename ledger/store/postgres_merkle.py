"""The Merkle tree half of the PostgreSQL event store (ledger.store.postgres): its two
tables, growing them in each append's transaction, and what MerkleLog and the backfill
read and write (ledger.store.merkle).

    <events table>_merkle_leaves (leaf_index bigint PRIMARY KEY, position bigint UNIQUE, hash bytea)
    <events table>_merkle_nodes  (level smallint, node_index bigint, hash bytea)

Leaf indices are dense where positions have gaps. Every statement runs inside the
recorder's own transactions; growth and the backfill hold the events table's EXCLUSIVE
lock (the append already holds it), so no append interleaves with either.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from psycopg.sql import SQL, Composed, Identifier

from ledger.store.merkle import EventRow, NodeKey, TreeRows, TreeState, event_leaves, extension

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore
    from psycopg import Cursor
    from psycopg.rows import DictRow


def merkle_table_names(events_table: str) -> tuple[str, str]:
    """The Merkle tree's (leaves, nodes) tables for an events table."""
    return f"{events_table}_merkle_leaves", f"{events_table}_merkle_nodes"


class PostgresMerkleTree:
    """Mixed into the hash-chained PostgreSQL recorder, which calls `_define_merkle_tree`
    from its constructor and `_grow_tree` in each append's transaction."""

    datastore: PostgresDatastore
    events_table_name: str

    if TYPE_CHECKING:  # the recorder's own (a definition here would shadow it)

        def check_identifier_length(self, table_name: str) -> None: ...

    def _define_merkle_tree(self, schema: Identifier) -> list[Composed]:
        """Prepare the tree's statements; return its CREATE TABLE statements."""
        self.leaves_table_name, self.nodes_table_name = merkle_table_names(self.events_table_name)
        self.check_identifier_length(self.leaves_table_name)
        self.check_identifier_length(self.nodes_table_name)
        events = Identifier(self.events_table_name)
        leaves = Identifier(self.leaves_table_name)
        nodes = Identifier(self.nodes_table_name)
        # One statement, so the three figures come from one snapshot.
        self.select_tree_state_statement = SQL(
            "SELECT t.leaf_index, t.position, (SELECT max(notification_id) FROM {schema}.{events}) AS last "
            "FROM (SELECT NULL) AS one LEFT JOIN LATERAL (SELECT leaf_index, position FROM {schema}.{leaves} "
            "ORDER BY leaf_index DESC LIMIT 1) AS t ON true"
        ).format(schema=schema, events=events, leaves=leaves)
        self.select_nodes_statement = SQL(
            "SELECT n.level, n.node_index, n.hash "
            "FROM unnest(%s::smallint[], %s::bigint[]) AS wanted(level, node_index) "
            "JOIN {schema}.{nodes} AS n USING (level, node_index) "
            "UNION ALL SELECT 0::smallint, l.leaf_index, l.hash "
            "FROM unnest(%s::smallint[], %s::bigint[]) AS wanted(level, node_index) "
            "JOIN {schema}.{leaves} AS l ON wanted.level = 0 AND l.leaf_index = wanted.node_index"
        ).format(schema=schema, nodes=nodes, leaves=leaves)
        self.insert_leaves_statement = SQL(
            "INSERT INTO {schema}.{leaves} (leaf_index, position, hash) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[])"
        ).format(schema=schema, leaves=leaves)
        self.insert_nodes_statement = SQL(
            "INSERT INTO {schema}.{nodes} (level, node_index, hash) "
            "SELECT * FROM unnest(%s::smallint[], %s::bigint[], %s::bytea[])"
        ).format(schema=schema, nodes=nodes)
        self.select_position_statement = SQL(
            "SELECT position AS found FROM {schema}.{leaves} WHERE leaf_index = %s"
        ).format(schema=schema, leaves=leaves)
        self.select_index_statement = SQL(
            "SELECT leaf_index AS found FROM {schema}.{leaves} WHERE position = %s"
        ).format(schema=schema, leaves=leaves)
        self.select_event_rows_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {schema}.{events} "
            "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, events=events)
        self.lock_events_statement = SQL("LOCK TABLE {schema}.{events} IN EXCLUSIVE MODE").format(
            schema=schema, events=events
        )
        return [
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{leaves} ("
                "leaf_index bigint PRIMARY KEY, "
                "position bigint NOT NULL UNIQUE, "
                "hash bytea NOT NULL)"
            ).format(schema=schema, leaves=leaves),
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{nodes} ("
                "level smallint NOT NULL, "
                "node_index bigint NOT NULL, "
                "hash bytea NOT NULL, "
                "PRIMARY KEY (level, node_index))"
            ).format(schema=schema, nodes=nodes),
        ]

    def _grow_tree(self, curs: Cursor[DictRow], size: int, leaves: list[tuple[int, bytes]]) -> None:
        """Add the (position, leaf hash) leaves to the tree of `size` leaves."""
        self._insert_tree(curs, extension(size, functools.partial(self._read_nodes, curs), leaves))

    def _insert_tree(self, curs: Cursor[DictRow], rows: TreeRows) -> None:
        for statement, rows_ in (
            (self.insert_leaves_statement, rows.leaves),
            (self.insert_nodes_statement, rows.nodes),
        ):
            if rows_:  # half of single appends complete no interior node
                curs.execute(statement, [list(column) for column in zip(*rows_, strict=True)], prepare=True)

    def _read_nodes(self, curs: Cursor[DictRow], keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        if not keys:
            return {}
        levels, indices = zip(*keys, strict=True)
        curs.execute(self.select_nodes_statement, [list(levels), list(indices)] * 2, prepare=True)
        return {(r["level"], r["node_index"]): bytes(r["hash"]) for r in curs.fetchall()}

    def _tree_state(self, curs: Cursor[DictRow]) -> TreeState:
        curs.execute(self.select_tree_state_statement, prepare=True)
        row = curs.fetchone()
        assert row is not None
        size = 0 if row["leaf_index"] is None else row["leaf_index"] + 1
        return TreeState(size, row["position"], row["last"])

    def merkle_state(self) -> TreeState:
        with self.datastore.transaction(commit=False) as curs:
            return self._tree_state(curs)

    def merkle_read(self, keys: Collection[NodeKey]) -> tuple[TreeState, dict[NodeKey, bytes]]:
        with self.datastore.transaction(commit=False) as curs:
            return self._tree_state(curs), self._read_nodes(curs, list(keys))

    def merkle_position(self, index: int) -> int | None:
        return self._lookup(self.select_position_statement, index)

    def merkle_index(self, position: int) -> int | None:
        return self._lookup(self.select_index_statement, position)

    def _lookup(self, statement: SQL | Any, key: int) -> int | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (key,), prepare=True)
            row = curs.fetchone()
        return None if row is None else row["found"]

    def _event_rows(self, curs: Cursor[DictRow], after: int, limit: int) -> list[EventRow]:
        curs.execute(self.select_event_rows_statement, (after, limit), prepare=True)
        return [
            (r["notification_id"], r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
            for r in curs.fetchall()
        ]

    def event_row(self, position: int) -> EventRow | None:
        with self.datastore.transaction(commit=False) as curs:
            rows = self._event_rows(curs, position - 1, 1)
        return rows[0] if rows and rows[0][0] == position else None

    def merkle_extend(self, limit: int) -> TreeState:
        """Add up to `limit` of the events the tree does not cover yet, in one
        transaction holding the events table's EXCLUSIVE lock (so no append interleaves)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.lock_events_statement)
            state = self._tree_state(curs)
            if state.current:
                return state
            rows = self._event_rows(curs, state.last_leaf_position or 0, limit)
            read = functools.partial(self._read_nodes, curs)
            self._insert_tree(curs, extension(state.leaves, read, event_leaves(rows)))
            return self._tree_state(curs)
