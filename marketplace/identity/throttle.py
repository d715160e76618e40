"""Login throttling: fixed-window failure counters in Redis, per account and per address.

Identifiers are hashed before they become keys, so a phone number never sits in Redis.
"""

import hashlib

from redis.exceptions import RedisError

from marketplace.errors import TooManyRequests, Unavailable
from marketplace.kv import redis
from marketplace.settings import get_settings

ADDRESS_LIMIT_FACTOR = 10  # one address may fail for ten accounts (an office behind NAT)


def keys(kind: str, identifier: str, address: str) -> tuple[str, str]:
    digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()[:32]
    return f"login:fail:{kind}:{digest}", f"login:fail:addr:{address}"


async def ensure_allowed(account_key: str, address_key: str) -> None:
    settings = get_settings().security
    try:
        account, address = await redis().mget(account_key, address_key)
        ttl = await redis().ttl(account_key if account else address_key)
    except RedisError as error:
        raise Unavailable("Sign-in is temporarily unavailable.") from error
    if int(account or 0) >= settings.login_max_failures or (
        int(address or 0) >= settings.login_max_failures * ADDRESS_LIMIT_FACTOR
    ):
        retry_after = max(ttl, 1)
        raise TooManyRequests(
            f"Too many failed sign-ins; try again in {retry_after} seconds.",
            code="login_throttled", retry_after=retry_after,
        )


async def record_failure(account_key: str, address_key: str) -> None:
    window = get_settings().security.login_window_seconds
    async with redis().pipeline(transaction=True) as pipe:
        for key in (account_key, address_key):
            # SET NX EX opens the window on the first failure (EXPIRE NX needs Redis 7).
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
        await pipe.execute()


async def reset(account_key: str) -> None:
    await redis().delete(account_key)
