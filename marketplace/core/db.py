"""Database access shared by every domain: the engine, its pool, raw SQL scripts."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, cast

import asyncpg
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

if TYPE_CHECKING:
    # For the type checker only. Piccolo annotates a transaction's `__aexit__` as returning
    # bool, so mypy believes it may swallow an exception and reports every `return` inside
    # `async with engine().transaction()` as missing. It never does: it returns False
    # whenever an exception is raised (piccolo/engine/postgres.py).
    class Transaction(PostgresTransaction):
        async def __aexit__(self, *exc_info: object) -> None: ...  # type: ignore[override]

    class Engine(PostgresEngine):
        def transaction(self, allow_nested: bool = True) -> Transaction: ...  # type: ignore[override]


def engine() -> "Engine":
    return cast("Engine", engine_finder())


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What a connection needs on its way back to the pool: nothing. asyncpg's default
    reset is a round trip per release (RESET ALL, UNLISTEN *, ...) undoing session state
    this code never sets; open transactions are still ended by asyncpg itself."""


async def open_pool() -> None:
    from marketplace.core.settings import get_settings

    await engine().start_connection_pool(min_size=1, max_size=get_settings().database.pool_max, reset=_keep_session)


@asynccontextmanager
async def connection() -> AsyncIterator[asyncpg.Connection]:
    """A connection for statements that need no transaction of their own (each one is
    atomic): the current transaction's, a pooled one, or a new one where there is no pool."""
    transaction = engine().current_transaction.get()
    pool = engine().pool
    if transaction is not None:
        yield transaction.connection
    elif pool is not None:
        async with pool.acquire() as pooled:
            yield pooled
    else:
        single = await engine().get_new_connection()
        try:
            yield single
        finally:
            await single.close()


async def fetch(sql: str, *args) -> list[dict]:
    """The rows of one statement (asyncpg's `$n` parameters) as dicts, on the connection
    `connection()` gives."""
    async with connection() as current:
        return [dict(row) for row in await current.fetch(sql, *args)]


async def close_pool() -> None:
    await engine().close_connection_pool()


async def execute_script(sql: str) -> None:
    """Run several SQL statements at once, inside the current transaction if any
    (migrations run in one)."""
    transaction = engine().current_transaction.get()
    if transaction is not None:
        await transaction.connection.execute(sql)
        return
    connection = await engine().get_new_connection()
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def sql_migration(
    app_name: str, migration_id: str, description: str, sql: str
) -> Callable[[], Awaitable[MigrationManager]]:
    """The `forwards` of a Piccolo migration written as SQL, run in its transaction.

    Migrations are SQL rather than auto-generated, so that checks, partial indexes and
    operator classes are explicit; tests/test_schema.py keeps tables.py in step.
    """

    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name=app_name, description=description)

        async def run() -> None:
            await execute_script(sql)

        manager.add_raw(run)
        return manager

    return forwards


def search_text(typed: str) -> str:
    """What was typed in a search box, for `ILIKE '%' || $n || '%'`: trimmed, and LIKE's own
    characters (% _ and the escape \\) dropped, so that they never act as wildcards."""
    return typed.strip().replace("\\", "").replace("%", "").replace("_", "")
