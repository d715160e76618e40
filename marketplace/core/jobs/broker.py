"""The Dramatiq broker: Redis, with async actors.

Importing this module sets the global broker, so it must be imported before any
module that declares actors (every `actors.py` imports it first).

A worker killed mid-job (kill -9, a lost machine) leaves the messages it had taken
unacknowledged in Redis. A live worker puts them back in their queue once the dead one
has sent no heartbeat for HEARTBEAT_TIMEOUT_MS; then they run again (every actor is
safe to repeat). Dramatiq's defaults took long to notice: a 60 s timeout, checked on
0.1 % of broker commands, and heartbeats only while a worker fetches (a worker whose
threads were all busy looked dead). Here every command checks, and each worker sends a
heartbeat every HEARTBEAT_SECONDS from a thread of its own (marketplace.core.jobs.worker),
so a killed worker's jobs run again about HEARTBEAT_TIMEOUT_MS after it died.
"""

import dramatiq
import dramatiq.brokers.redis
from dramatiq.middleware.asyncio import AsyncIO

from marketplace.core.settings import get_settings

# An idle worker polls its queue with a backoff up to this many milliseconds (Dramatiq's
# default is a second, which an index sync would wait on top of its own work).
IDLE_POLL_MS = 100
HEARTBEAT_SECONDS = 1.0
HEARTBEAT_TIMEOUT_MS = 10_000


class RedisBroker(dramatiq.brokers.redis.RedisBroker):
    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000):
        return super().consume(queue_name, prefetch, min(timeout, IDLE_POLL_MS))


broker = RedisBroker(
    url=get_settings().redis.url,
    heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
    # Maintenance (requeue a dead worker's messages) on every command: when
    # no worker is dead it is two sorted-set range reads.
    maintenance_chance=dramatiq.brokers.redis.MAINTENANCE_SCALE,
)
broker.add_middleware(AsyncIO())
dramatiq.set_broker(broker)
