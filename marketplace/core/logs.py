"""Structured logs: one JSON object per line (or a readable console line in development).

Never pass personal data (names, phones, ID numbers, request bodies) to a logger.
"""

import json as stdlib_json
import logging
import sys
import time

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

# One encoder for every line: `json.dumps(..., ensure_ascii=False)`, which structlog's
# renderer calls by default, builds a new encoder for each (a fifth of a request's log line).
# The same text: what JSON cannot say is written as its repr, as structlog does.
_encode = stdlib_json.JSONEncoder(ensure_ascii=False, default=repr).encode


def _serialize(event: object, **_: object) -> str:
    return _encode(event)


def configure(json: bool = True, level: int = logging.INFO) -> None:
    renderer = structlog.processors.JSONRenderer(serializer=_serialize) if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(levelname)s %(name)s %(message)s")


def request_log_middleware(app: ASGIApp) -> ASGIApp:
    """Log method, route path, status and duration of every request; never the query
    string or the body, which may carry personal data."""
    # Bound once, when the app is made (after `configure`): structlog's lazy logger binds a
    # new one, and makes a new PrintLogger, for every line it writes.
    log = structlog.get_logger("http").bind()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def capture(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status["code"],
                ms=round((time.perf_counter() - started) * 1000, 1),
            )

    return middleware
