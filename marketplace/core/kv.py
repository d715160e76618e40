"""The shared Redis connection (sessions throttle counters, Dramatiq's broker has its own)."""

import asyncio
import weakref

from redis.asyncio import Redis

from marketplace.core.settings import get_settings

# One client per event loop: a client's pooled connections belong to the loop that opened
# them. A process has one loop, but a test runs a worker's loop beside its own, and a
# connection used from the wrong loop fails later ("Event loop is closed").
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis]" = weakref.WeakKeyDictionary()


def redis() -> Redis:
    loop = asyncio.get_running_loop()
    if loop not in _clients:
        _clients[loop] = Redis.from_url(get_settings().redis.url, socket_timeout=2, socket_connect_timeout=2)
    return _clients[loop]
