"""Who forgets what when a member is erased.

Each domain that keeps something about members in its tables says so when its services
module is imported, as pages do with `nav.register` and actors with `outbox.subscribe`:

    @personal_data.forgets("favourite")
    async def forget_member(connection, member_id: int) -> None: ...

    personal_data.keeps("voucher", why="accounting: claims and redemptions of an anonymous member")

Privacy's erasure (marketplace/privacy) calls `forget_member`, which runs every domain's
hook in the caller's transaction, so it never writes another domain's tables and the
erasure is all or nothing. `undeclared` finds the tables of the database that name
members (a foreign key to `member`, a `principal` column, an audit subject) and are in
neither list: the erasure refuses to run while there is one, and tests/test_privacy.py
fails, so a new table with members' data cannot be forgotten by accident.
"""

from collections.abc import Awaitable, Callable

import asyncpg

Forget = Callable[[asyncpg.Connection, int], Awaitable[None]]

_forgetting: dict[str, Forget] = {}  # table -> its domain's hook (one hook may cover several tables)
_kept: dict[str, str] = {}  # table -> why it stays as it is


def forgets(*tables: str) -> Callable[[Forget], Forget]:
    """Register the decorated `hook(connection, member_id)` as what forgets a member in `tables`."""

    def register(hook: Forget) -> Forget:
        for table in tables:
            _forgetting[table] = hook
        return hook

    return register


def keeps(*tables: str, why: str) -> None:
    """Declare `tables` as kept when a member is erased, and why (they stay tied to the
    anonymised member row)."""
    for table in tables:
        _kept[table] = why


def declared() -> dict[str, str]:
    """Every declared table: "forgotten" or the reason it is kept."""
    return {**{table: f"kept: {why}" for table, why in _kept.items()}, **{table: "forgotten" for table in _forgetting}}


# Tables that name members: by a foreign key, by principal ("member:12", or kind + id), or
# as the subject of an audit event.
_NAMING_MEMBERS = """
SELECT DISTINCT c.relname AS name FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE k.contype = 'f' AND k.confrelid = 'member'::regclass
UNION SELECT 'member'
UNION SELECT table_name FROM information_schema.columns
WHERE table_schema = current_schema() AND column_name IN ('principal', 'principal_id', 'subject_kind')
"""


async def undeclared(connection: asyncpg.Connection) -> list[str]:
    """Tables that name members but were neither declared forgotten nor kept."""
    names = {row["name"] for row in await connection.fetch(_NAMING_MEMBERS)}
    return sorted(names - set(_forgetting) - set(_kept))


async def forget_member(connection: asyncpg.Connection, member_id: int) -> None:
    """Every domain forgets the member, inside the caller's transaction."""
    missing = await undeclared(connection)
    if missing:
        # A deployment bug, not the member's: refuse rather than erase only part of them.
        raise RuntimeError(f"no domain says how to forget a member in {', '.join(missing)}")
    for hook in dict.fromkeys(_forgetting.values()):  # a hook covering several tables runs once
        await hook(connection, member_id)
