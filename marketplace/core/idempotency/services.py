"""Idempotency keys with Stripe's semantics, for endpoints a client may retry.

The same key with the same request gets the saved answer and nothing runs twice; the
same key with another request is refused (422). The key row is written in the
transaction of the operation itself: a concurrent retry waits on the row's unique
index until the first attempt commits (then it gets the saved answer) or rolls back
(then it runs the operation itself). Failed attempts leave no key, so a retry after an
error runs again. Keys are kept for KEEP_HOURS.
"""

import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec

from marketplace.core import personal_data
from marketplace.core.db import engine
from marketplace.core.errors import Invalid
from marketplace.core.identity.principal import Principal

KEEP_HOURS = 48  # at least the 24 hours clients are promised
MAX_KEY_LENGTH = 255

T = TypeVar("T", bound=msgspec.Struct)


@personal_data.forgets("idempotency_key")
async def forget_member(connection, member_id: int) -> None:
    """The saved answers of the member's requests may show their data: they go."""
    await connection.execute("DELETE FROM idempotency_key WHERE principal = $1", f"member:{member_id}")


def fingerprint(operation: str, body: object) -> bytes:
    return hashlib.sha256(operation.encode() + b"\0" + msgspec.json.encode(body)).digest()


async def run_once(
    principal: Principal,
    key: str | None,
    operation: str,
    body: object,
    perform: Callable[[], Awaitable[T]],
    result_type: type[T],
) -> T:
    """`perform()` once per (caller, key); without a key it simply runs."""
    if key is None:
        return await perform()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Invalid(
            "Idempotency-Key must have 1 to %(max)s characters.",
            field="Idempotency-Key",
            params={"max": MAX_KEY_LENGTH},
        )
    who, digest = f"{principal.kind}:{principal.id}", fingerprint(operation, body)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        mine = await connection.fetchval(
            "INSERT INTO idempotency_key (principal, key, fingerprint, response, created_at) "
            "VALUES ($1, $2, $3, 'null', now()) ON CONFLICT (principal, key) DO NOTHING RETURNING id",
            who,
            key,
            digest,
        )
        if mine is None:
            saved = await connection.fetchrow(
                "SELECT fingerprint, response FROM idempotency_key WHERE principal = $1 AND key = $2", who, key
            )
            if bytes(saved["fingerprint"]) != digest:
                raise Invalid(
                    "This Idempotency-Key was used for a different request.",
                    code="idempotency_key_reused",
                    field="Idempotency-Key",
                )
            return msgspec.json.decode(saved["response"], type=result_type)
        result = await perform()
        await connection.execute(
            "UPDATE idempotency_key SET response = $2 WHERE id = $1", mine, msgspec.json.encode(result).decode()
        )
        return result


async def purge_expired() -> int:
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "DELETE FROM idempotency_key WHERE created_at < now() - make_interval(hours => $1) RETURNING id", KEEP_HOURS
        )
    return len(rows)
