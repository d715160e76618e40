"""The Dramatiq broker: Redis, with async actors.

Importing this module sets the global broker, so it must be imported before any
module that declares actors (every `actors.py` imports it first).
"""

import dramatiq
import dramatiq.brokers.redis
from dramatiq.middleware.asyncio import AsyncIO

from marketplace.settings import get_settings

# An idle worker polls its queue with a backoff up to this many milliseconds (Dramatiq's
# default is a second, which an index sync would wait on top of its own work).
IDLE_POLL_MS = 100


class RedisBroker(dramatiq.brokers.redis.RedisBroker):
    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000):
        return super().consume(queue_name, prefetch, min(timeout, IDLE_POLL_MS))


broker = RedisBroker(url=get_settings().redis.url)
broker.add_middleware(AsyncIO())
dramatiq.set_broker(broker)
