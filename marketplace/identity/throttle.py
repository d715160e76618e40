"""Login throttling: fixed-window attempt counters in Redis, per account and per address.

An attempt is counted before the password is checked, so parallel guesses cannot slip
past the limit; a successful sign-in gives its attempt back. Identifiers are hashed
before they become keys, so a phone number never sits in Redis.
"""

import hashlib

from redis.exceptions import RedisError

from marketplace.errors import TooManyRequests, Unavailable
from marketplace.kv import redis
from marketplace.settings import get_settings

ADDRESS_LIMIT_FACTOR = 10  # one address may fail for ten accounts (an office behind NAT)


def keys(kind: str, identifier: str, address: str) -> tuple[str, str]:
    digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()[:32]
    return f"login:attempts:{kind}:{digest}", f"login:attempts:addr:{address}"


async def count_attempt(account_key: str, address_key: str) -> None:
    """Count one attempt; TooManyRequests when the account or the address is over its limit."""
    settings = get_settings().security
    try:
        async with redis().pipeline(transaction=True) as pipe:
            for key in (account_key, address_key):
                # SET NX EX opens the window on the first attempt (EXPIRE NX needs Redis 7).
                pipe.set(key, 0, ex=settings.login_window_seconds, nx=True)
                pipe.incr(key)
            _, account, _, address = await pipe.execute()
        if account > settings.login_max_failures:
            over = account_key
        elif address > settings.login_max_failures * ADDRESS_LIMIT_FACTOR:
            over = address_key
        else:
            return
        retry_after = max(await redis().ttl(over), 1)
    except RedisError as error:
        raise Unavailable("Sign-in is temporarily unavailable.") from error
    raise TooManyRequests(f"Too many failed sign-ins; try again in {retry_after} seconds.",
                          code="login_throttled", retry_after=retry_after)


async def forgive(account_key: str, address_key: str) -> None:
    """A successful sign-in: clear the account's failures and give the attempt back."""
    async with redis().pipeline(transaction=True) as pipe:
        pipe.delete(account_key)
        pipe.decr(address_key)
        await pipe.execute()
