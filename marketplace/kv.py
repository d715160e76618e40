"""The shared Redis connection (sessions throttle counters, Dramatiq's broker has its own)."""

from functools import lru_cache

from redis.asyncio import Redis

from marketplace.settings import get_settings


@lru_cache
def redis() -> Redis:
    return Redis.from_url(get_settings().redis.url, socket_timeout=2, socket_connect_timeout=2)
