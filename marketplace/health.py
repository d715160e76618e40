"""Liveness (`/health`: the process answers) and readiness (`/ready`: every dependency
answers, each with its latency; 503 naming the one that does not)."""

import asyncio
import time

import httpx
from litestar import Response, get

from marketplace.db import engine
from marketplace.kv import redis
from marketplace.settings import get_settings

CHECK_TIMEOUT = 2.0


async def _postgres() -> None:
    await engine().run_ddl("SELECT 1")


async def _redis() -> None:
    await redis().ping()


async def _meilisearch() -> None:
    settings = get_settings().search
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as client:
        (await client.get(settings.url.rstrip("/") + "/health")).raise_for_status()


async def _stripe() -> None:
    settings = get_settings().stripe
    base = (settings.api_base or "https://api.stripe.com").rstrip("/")
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as client:
        response = await client.get(base + "/v1/customers", params={"limit": 1}, auth=(settings.api_key, ""))
        if response.status_code >= 500 or response.status_code == 401:
            response.raise_for_status()


CHECKS = {"postgres": _postgres, "redis": _redis, "meilisearch": _meilisearch, "stripe": _stripe}


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


@get("/health", tags=["operations"], summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", tags=["operations"], summary="Readiness: every dependency answers")
async def ready() -> Response[dict]:
    results = await asyncio.gather(*(_timed(check) for check in CHECKS.values()))
    components = dict(zip(CHECKS, results, strict=True))
    down = [name for name, result in components.items() if result["status"] != "up"]
    body = {"status": "ready" if not down else "unavailable", "down": down, "components": components}
    return Response(body, status_code=503 if down else 200)
