"""Fixed-window counters in Redis: how often something happened lately, per key.

The first event of a key opens its window (`window_seconds` long); the count restarts
when the window ends. Callers decide what a count means (refuse, alert, give an
attempt back), so SMS sends per address, unknown codes at a counter and provider
applications per network share this one implementation. Sign-in attempts wait
exponentially instead (marketplace/core/identity/throttle.py).

Redis errors reach the caller: some limits are guards a flow may go on without, others
must stop it.
"""

from marketplace.core.kv import redis


async def hit(*keys: str, window_seconds: int) -> list[int]:
    """Count one event under each key; the counts, in the order of `keys`. Counted
    before the action it guards runs, so parallel attempts cannot slip past a limit."""
    async with redis().pipeline(transaction=True) as pipe:
        for key in keys:
            # SET NX EX opens the window on the first event (EXPIRE NX needs Redis 7).
            pipe.set(key, 0, ex=window_seconds, nx=True)
            pipe.incr(key)
        results = await pipe.execute()
    return [int(count) for count in results[1::2]]


async def count(key: str) -> int:
    """Events in `key`'s current window (0 when none is open)."""
    return int(await redis().get(key) or 0)


async def seconds_left(key: str) -> int:
    """Until `key`'s window ends, at least 1 (a Retry-After)."""
    return max(1, int(await redis().ttl(key)))


async def give_back(*keys: str) -> None:
    """Uncount one event under each key (it turned out not to count: a code that was found)."""
    async with redis().pipeline(transaction=True) as pipe:
        for key in keys:
            pipe.decr(key)
        await pipe.execute()
