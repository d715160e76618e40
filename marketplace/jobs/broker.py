"""The Dramatiq broker: Redis, with async actors.

Importing this module sets the global broker, so it must be imported before any
module that declares actors (every `actors.py` imports it first).
"""

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware.asyncio import AsyncIO

from marketplace.settings import get_settings

broker = RedisBroker(url=get_settings().redis.url)
broker.add_middleware(AsyncIO())
dramatiq.set_broker(broker)
