"""Database access shared by every domain: the engine, its pool, raw SQL scripts."""

from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine


def engine() -> PostgresEngine:
    return engine_finder()


async def open_pool() -> None:
    from marketplace.settings import get_settings

    await engine().start_connection_pool(min_size=1, max_size=get_settings().database.pool_max)


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
