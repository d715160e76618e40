"""Liveness (`/health`: the process answers) and readiness (`/ready`: every dependency
answers, each with its latency; 503 naming the one that does not).

Both paths are public, so neither uses nor shows a secret: Stripe is asked without the
API key (any answer from its API, a 401 included, means it is reachable), and at most
once a STRIPE_CHECK_SECONDS per process while it answers (once a STRIPE_RECHECK_SECONDS
while it does not) whatever the traffic, so an anonymous caller cannot make this server
hammer Stripe. The other checks are cheap and local.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
from litestar import Response, get

from marketplace.core.db import engine
from marketplace.core.kv import redis
from marketplace.core.settings import get_settings

CHECK_TIMEOUT = 2.0
STRIPE_CHECK_SECONDS = 60.0
# A failed check is not kept for a minute: one slow answer while the machine is busy (a
# deploy, a start under load) would hold the process unready long after Stripe is back.
STRIPE_RECHECK_SECONDS = 5.0


async def _postgres() -> None:
    await engine().run_ddl("SELECT 1")


async def _redis() -> None:
    await redis().ping()


async def _meilisearch() -> None:
    settings = get_settings().search
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as client:
        (await client.get(settings.url.rstrip("/") + "/health")).raise_for_status()


async def _stripe() -> None:
    base = (get_settings().stripe.api_base or "https://api.stripe.com").rstrip("/")
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as client:
        response = await client.get(base + "/v1/customers", params={"limit": 1})
        if response.status_code >= 500:
            response.raise_for_status()


async def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT)
        status, error = "up", None
    except Exception as exc:  # any failure means "down"; the type is enough to diagnose
        status, error = "down", type(exc).__name__
    result = {"status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    if error:
        result["error"] = error
    return result


class _Cached:
    """The last result of a check, reused until it is `seconds` old (`down_seconds` when
    it failed); concurrent callers share one check instead of each starting their own."""

    def __init__(self, check, seconds: float, down_seconds: float) -> None:
        self.check, self.seconds, self.down_seconds = check, seconds, down_seconds
        self.result: dict | None = None
        self.checked_at = 0.0
        self.lock = asyncio.Lock()

    async def __call__(self) -> dict:
        async with self.lock:
            kept_for = self.seconds if self.result and self.result["status"] == "up" else self.down_seconds
            if self.result is None or time.monotonic() - self.checked_at >= kept_for:
                self.result = await _timed(self.check)
                self.checked_at = time.monotonic()
                return self.result
            return {**self.result, "cached_s": round(time.monotonic() - self.checked_at, 1)}

    def forget(self) -> None:
        self.result = None


_stripe_cached = _Cached(_stripe, STRIPE_CHECK_SECONDS, STRIPE_RECHECK_SECONDS)

CHECKS: dict[str, Callable[[], Awaitable[dict]]] = {
    "postgres": lambda: _timed(_postgres),
    "redis": lambda: _timed(_redis),
    "meilisearch": lambda: _timed(_meilisearch),
    "stripe": _stripe_cached,
}


@get("/health", tags=["operations"], summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", tags=["operations"], summary="Readiness: every dependency answers (Stripe: at most once a minute)")
async def ready() -> Response[dict]:
    results = await asyncio.gather(*(check() for check in CHECKS.values()))
    components = dict(zip(CHECKS, results, strict=True))
    down = [name for name, result in components.items() if result["status"] != "up"]
    body = {"status": "ready" if not down else "unavailable", "down": down, "components": components}
    return Response(body, status_code=503 if down else 200)
