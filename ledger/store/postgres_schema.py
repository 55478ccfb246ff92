"""The PostgreSQL store's schema: the library's tables, the chain and the Merkle tree,
created under an advisory lock, and the triggers that refuse UPDATE, DELETE and TRUNCATE
on all four tables (see ledger.store.postgres)."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Any

from psycopg.errors import DuplicateObject
from psycopg.sql import SQL, Identifier, Literal

if TYPE_CHECKING:
    from psycopg import Cursor
    from psycopg.rows import DictRow

REFUSE_FUNCTION = "govledger_refuse_change"
ROW_TRIGGER = "govledger_append_only"
TRUNCATE_TRIGGER = "govledger_no_truncate"
SCHEMA_LOCK = "govledger.schema"  # the advisory lock key the schema is created under


class AppendOnlySchema:
    """Mixed into the hash-chained recorder, before the Merkle tree and the library's
    recorder, whose statements and tables it creates."""

    datastore: Any
    sql_create_statements: list[Any]
    events_table_name: str
    chain_table_name: str
    leaves_table_name: str
    nodes_table_name: str

    def create_table(self) -> None:
        # The library's, in one transaction under a lock: nodes starting together would race
        # to create the same catalogue rows ("tuple concurrently updated", or pg_type's
        # unique index for the composite type, which it creates in a transaction of its own).
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("SELECT pg_advisory_xact_lock(hashtext({}))").format(Literal(SCHEMA_LOCK)))
            for statement in self.sql_create_statements:
                if "CREATE TYPE" in statement.as_string():  # no IF NOT EXISTS for types
                    with suppress(DuplicateObject), curs.connection.transaction():
                        curs.execute(statement, prepare=False)
            self._create_table(curs)
        self.datastore.register_type_adapters()

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        super()._create_table(curs)
        # Created only when missing: CREATE OR REPLACE would take a lock on the events
        # table at every application start, queueing behind (and blocking) writers.
        schema = self.datastore.schema
        if not self._function_exists(curs, schema, REFUSE_FUNCTION):
            curs.execute(
                SQL(
                    "CREATE FUNCTION {schema}.{function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
                    "USING ERRCODE = 'integrity_constraint_violation'; END $$"
                ).format(schema=Identifier(schema), function=Identifier(REFUSE_FUNCTION))
            )
        for table in (
            self.events_table_name,
            self.chain_table_name,
            self.leaves_table_name,
            self.nodes_table_name,
        ):
            for trigger, when in (
                (ROW_TRIGGER, "BEFORE UPDATE OR DELETE ON {schema}.{table} FOR EACH ROW"),
                (TRUNCATE_TRIGGER, "BEFORE TRUNCATE ON {schema}.{table} FOR EACH STATEMENT"),
            ):
                if self._trigger_exists(curs, schema, table, trigger):
                    continue
                curs.execute(
                    SQL(
                        "CREATE TRIGGER {trigger} " + when + " EXECUTE FUNCTION {schema}.{function}()"
                    ).format(
                        trigger=Identifier(trigger),
                        schema=Identifier(schema),
                        table=Identifier(table),
                        function=Identifier(REFUSE_FUNCTION),
                    )
                )

    @staticmethod
    def _function_exists(curs: Cursor[DictRow], schema: str, function: str) -> bool:
        curs.execute(
            SQL(
                "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = {} AND p.proname = {}"
            ).format(Literal(schema), Literal(function))
        )
        return curs.fetchone() is not None

    @staticmethod
    def _trigger_exists(curs: Cursor[DictRow], schema: str, table: str, trigger: str) -> bool:
        curs.execute(
            SQL(
                "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = {} AND c.relname = {} AND t.tgname = {}"
            ).format(Literal(schema), Literal(table), Literal(trigger))
        )
        return curs.fetchone() is not None
