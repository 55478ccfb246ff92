"""The tamper-evident event store on PostgreSQL: eventsourcing's recorder plus the chain.

The same hash chain as the SQLite store (ledger.store.chain, one definition for
both), so a log has the same leaves and heads whichever backend holds it. Every stored
event gets a row in the chain table, written in the same transaction as the event:

    <events table>_chain (position bigint PRIMARY KEY, leaf bytea, head bytea)

The position is eventsourcing's notification id. The chain table is named after the
events table (for the ledger, governanceledger_events -> governanceledger_events_chain)
because one PostgreSQL database can hold several applications' event tables (the
library prefixes each with its application's name) and each needs its own chain.

Ordering. eventsourcing locks the events table IN EXCLUSIVE MODE before it inserts, so
notification ids are handed out in commit order and no other writer can append until
this transaction ends. The chain rows are computed and inserted while that lock is
held, so the head read here is always the true predecessor.

Unlike SQLite's rowids, notification ids can have gaps: a transaction that rolls back
(an optimistic-concurrency conflict, say) has already drawn its ids from the sequence.
So verification on PostgreSQL treats gaps as normal and relies on the chain to expose
deletions (ledger.store.verification).

The same transaction adds the events' leaves to the Merkle tree, in two more tables
named after the events table (ledger.store.postgres_merkle). A log older than the tree
gets it from `govledger merkle-backfill`; until then appends leave the tree alone.

Triggers refuse UPDATE, DELETE and TRUNCATE on all four tables. As with SQLite they guard
against mistakes, not against a superuser or the tables' owner (who can disable them):
that is what the chain and checkpoints are for.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import resolve_topic, retry
from psycopg.sql import SQL, Identifier

from ledger.store.chain import (
    GENESIS_HEAD,
    ChainLink,
    Row,
    StoreUnavailable,
    chain_link,
    hashed_originator_id,
    leaf_input,
    pages,
)
from ledger.store.merkle import leaf_hash
from ledger.store.postgres_merkle import PostgresMerkleTree
from ledger.store.postgres_schema import AppendOnlySchema

if TYPE_CHECKING:
    import psycopg
    from psycopg import Cursor
    from psycopg.rows import DictRow

# eventsourcing names an application's events table "<application name>_events"; the
# ledger application is named GovernanceLedger (tests/test_store_postgres.py checks).
LEDGER_EVENTS_TABLE = "governanceledger_events"


def chain_table_name(events_table: str) -> str:
    return f"{events_table}_chain"


class HashChainedPostgresApplicationRecorder(
    AppendOnlySchema, PostgresMerkleTree, PostgresApplicationRecorder
):
    """PostgresApplicationRecorder that appends a hash-chain row and a Merkle tree leaf
    (ledger.store.postgres_merkle) for every event."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        if datastore.enable_db_functions:
            # The library's insert function writes events inside the server, where the
            # chain (computed in Python, shared with SQLite) cannot follow.
            raise ProgrammingError(
                "POSTGRES_ENABLE_DB_FUNCTIONS cannot be used with the hash-chained recorder"
            )
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain_table_name = chain_table_name(events_table_name)
        self.check_identifier_length(self.chain_table_name)
        schema = Identifier(self.datastore.schema)
        chain = Identifier(self.chain_table_name)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} ("
                "position bigint PRIMARY KEY, "
                "leaf bytea NOT NULL, "
                "head bytea NOT NULL)"
            ).format(schema=schema, chain=chain)
        )
        self.sql_create_statements += self._define_merkle_tree(schema)
        # The chain's head, and the tree's leaf for the same event if the tree reaches it.
        self.select_head_statement = SQL(
            "SELECT c.position, c.head, l.leaf_index FROM {schema}.{chain} AS c "
            "LEFT JOIN {schema}.{leaves} AS l ON l.position = c.position "
            "ORDER BY c.position DESC LIMIT 1"
        ).format(schema=schema, chain=chain, leaves=Identifier(self.leaves_table_name))
        self.select_chain_statement = SQL(
            "SELECT position, leaf, head FROM {schema}.{chain} "
            "WHERE position > %s AND position <= %s ORDER BY position"
        ).format(schema=schema, chain=chain)
        self.insert_chain_statement = SQL(
            "INSERT INTO {schema}.{chain} (position, leaf, head) "
            "SELECT * FROM unnest(%s::bigint[], %s::bytea[], %s::bytea[])"
        ).format(schema=schema, chain=chain)

    # --- writing -----------------------------------------------------------------------

    def existing_ids(self, ids: Collection[UUID]) -> set[UUID]:
        """Which of `ids` have any event, in one query (see the SQLite recorder's)."""
        statement = SQL("SELECT DISTINCT originator_id FROM {}.{} WHERE originator_id = ANY(%s)").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name)
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(ids),))
            return {UUID(str(row["originator_id"])) for row in curs.fetchall()}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return None
        return self._insert_chunks([stored_events], **kwargs)

    def insert_event_chunks(self, chunks: Iterable[Sequence[StoredEvent]]) -> int | None:
        """Insert every chunk's events in ONE transaction, each chunk chained and added to
        the tree after the one before (a big import's spilled batch, ledger.application.
        spill: never all in memory at once); the last position, or None if none. Not
        retried: the chunks are read once."""
        positions = self._insert_chunks(chunks)
        return positions[-1] if positions else None

    def _insert_chunks(self, chunks: Iterable[Sequence[StoredEvent]], **kwargs: Any) -> Sequence[int] | None:
        # The base class's insert_events, restructured for one reason: it catches errors
        # inside its transaction block, so an error after the events were inserted would
        # still COMMIT them. Here the transaction encloses the pipeline and the error is
        # re-raised inside it: events and chain rows commit together or not at all.
        # Returns the last non-empty chunk's positions.
        error: Exception | None = None
        positions: Sequence[int] | None = None
        with self.datastore.get_connection() as conn, conn.transaction():
            with conn.pipeline() as pipeline, conn.cursor() as curs:
                try:
                    for stored_events in chunks:
                        if not stored_events:
                            continue
                        self._insert_events(curs, stored_events, **kwargs)
                        # Takes the EXCLUSIVE table lock, then inserts: ids in commit order.
                        self._insert_stored_events(curs, stored_events, **kwargs)
                        pipeline.sync()
                        positions = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
                        self._insert_chain_rows(curs, positions, stored_events)
                        pipeline.sync()  # surface a failed chain insert here, not at COMMIT
                except Exception as e:  # re-raised outside the pipeline, as the base class does
                    error = e
            if error is not None:
                raise error
        return positions

    def _insert_chain_rows(
        self,
        curs: Cursor[DictRow],
        positions: Sequence[int] | None,
        stored_events: Sequence[StoredEvent],
    ) -> None:
        if not positions:
            return
        # Still under the table lock: the last committed chain row is our predecessor.
        curs.execute(self.select_head_statement, prepare=True)
        row = curs.fetchone()
        head: bytes = bytes(row["head"]) if row is not None else GENESIS_HEAD
        # The tree's size if it reaches the event before these, else None (backfill first).
        size = 0 if row is None else None if row["leaf_index"] is None else row["leaf_index"] + 1
        leaves: list[bytes] = []
        heads: list[bytes] = []
        tree_leaves: list[tuple[int, bytes]] = []
        for position, s in zip(positions, stored_events, strict=True):
            fields = (hashed_originator_id(s.originator_id), s.originator_version, s.topic, s.state)
            leaf, head = chain_link(head, position, *fields)
            leaves.append(leaf)
            heads.append(head)
            tree_leaves.append((position, leaf_hash(leaf_input(position, *fields))))
        curs.execute(self.insert_chain_statement, (list(positions), leaves, heads), prepare=True)
        if size is not None:
            self._grow_tree(curs, size, tree_leaves)

    # --- reading the chain -------------------------------------------------------------

    def read_chain(self, after: int, last: int) -> list[ChainLink]:
        """The stored chain links with after < position <= last, in position order."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.select_chain_statement, (after, last))
            return [
                ChainLink(row["position"], bytes(row["leaf"]), bytes(row["head"])) for row in curs.fetchall()
            ]


# --- Where a PostgreSQL event store is, for verification ------------------------------


@dataclass(frozen=True)
class PostgresEventStore:
    """Connection settings and table names of a PostgreSQL event store.

    Read from the same POSTGRES_* settings eventsourcing reads. The password is never
    part of repr() or describe(), so it cannot reach logs, errors or checkpoints.
    """

    dbname: str
    host: str
    port: str
    user: str
    password: str = field(default="", repr=False)
    get_password_topic: str = ""
    schema: str = "public"
    events_table: str = LEDGER_EVENTS_TABLE
    connect_timeout: int = 30

    @property
    def chain_table(self) -> str:
        return chain_table_name(self.events_table)

    @classmethod
    def from_env(cls, env: Mapping[str, str], events_table: str = LEDGER_EVENTS_TABLE) -> PostgresEventStore:
        """Settings from eventsourcing's POSTGRES_* environment keys.

        Raises ValueError naming (never showing) any required setting that is missing.
        """
        required = ["POSTGRES_DBNAME", "POSTGRES_HOST", "POSTGRES_USER"]
        if not env.get("POSTGRES_GET_PASSWORD_TOPIC"):
            required.append("POSTGRES_PASSWORD")
        missing = [key for key in required if env.get(key) is None]
        if missing:
            raise ValueError(f"the PostgreSQL event store needs {', '.join(missing)} set in the environment")
        return cls(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env.get("POSTGRES_PORT") or "5432",
            user=env["POSTGRES_USER"],
            password=env.get("POSTGRES_PASSWORD") or "",
            get_password_topic=env.get("POSTGRES_GET_PASSWORD_TOPIC") or "",
            schema=(env.get("POSTGRES_SCHEMA") or "").strip() or "public",
            events_table=events_table,
            connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT") or 30),
        )

    def describe(self) -> str:
        """Where the store is, for messages and checkpoints: no password."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}#{self.schema}.{self.events_table}"

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        import psycopg

        password = self.password
        if self.get_password_topic:
            password = resolve_topic(self.get_password_topic)()
        return psycopg.connect(
            dbname=self.dbname,
            host=self.host,
            port=self.port,
            user=self.user,
            password=password,
            connect_timeout=self.connect_timeout,
            **kwargs,
        )


@contextmanager
def postgres_snapshot(store: PostgresEventStore) -> Iterator[psycopg.Connection[Any]]:
    """A read-only, repeatable-read transaction on a PostgreSQL event store.

    Every query in it sees the same log however much is appended meanwhile, and none
    of them can write. Raises StoreUnavailable if the server cannot be reached, or
    refuses a query (a missing privilege, say).
    """
    import psycopg

    try:
        conn = store.connect(autocommit=False)
    except psycopg.Error as e:
        raise StoreUnavailable(f"Cannot connect to the event store at {store.describe()}: {e}") from e
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            yield conn
    except psycopg.Error as e:
        raise StoreUnavailable(f"Cannot read the event store at {store.describe()}: {e}") from e
    finally:
        conn.close()


def table_names(conn: psycopg.Connection[Any], schema: str) -> set[str]:
    rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))
    return {name for (name,) in rows}


def last_position(conn: psycopg.Connection[Any], store: PostgresEventStore) -> int:
    events = Identifier(store.schema, store.events_table)
    row = conn.execute(SQL("SELECT max(notification_id) FROM {}").format(events)).fetchone()
    return (row[0] if row else 0) or 0


def log_pages(
    conn: psycopg.Connection[Any], store: PostgresEventStore, page_size: int
) -> Iterator[list[Row]]:
    """Every position in the events or the chain table, in pages, for verification."""
    events = Identifier(store.schema, store.events_table)
    chain = Identifier(store.schema, store.chain_table)
    # Two ordered server-side cursors merged here, rather than a FULL JOIN that the
    # server would sort (whole rows, state included) before the first row.
    with (
        conn.cursor(name="govledger_verify_events") as event_cursor,
        conn.cursor(name="govledger_verify_chain") as chain_cursor,
    ):
        event_cursor.itersize = chain_cursor.itersize = page_size
        event_cursor.execute(
            SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {} ORDER BY notification_id"
            ).format(events)
        )
        chain_cursor.execute(SQL("SELECT position, leaf, head FROM {} ORDER BY position").format(chain))
        yield from pages(_merge_by_position(event_cursor, chain_cursor), page_size)


def _merge_by_position(events: Iterable[tuple[Any, ...]], chain: Iterable[tuple[Any, ...]]) -> Iterator[Row]:
    """Rows for every position in either table, in order (both inputs are ordered)."""
    event_iter, chain_iter = iter(events), iter(chain)
    e = next(event_iter, None)
    c = next(chain_iter, None)
    while e is not None or c is not None:
        if c is None or (e is not None and e[0] < c[0]):
            assert e is not None
            yield (e[0], True, e[1], e[2], e[3], e[4], None, None)
            e = next(event_iter, None)
        elif e is None or c[0] < e[0]:
            yield (c[0], False, None, None, None, None, c[1], c[2])
            c = next(chain_iter, None)
        else:
            yield (e[0], True, e[1], e[2], e[3], e[4], c[1], c[2])
            e = next(event_iter, None)
            c = next(chain_iter, None)
