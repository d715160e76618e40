"""Structured logs: one JSON object per line (or a readable console line in development).

Never pass personal data (names, phones, ID numbers, request bodies) to a logger.
"""

import datetime
import json as stdlib_json
import logging
import sys
import threading
import time
from json.encoder import encode_basestring

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

# One encoder for every line: `json.dumps(..., ensure_ascii=False)`, which structlog's
# renderer calls by default, builds a new encoder for each (a fifth of a request's log line).
# The same text: what JSON cannot say is written as its repr, as structlog does.
_encode = stdlib_json.JSONEncoder(ensure_ascii=False, default=repr).encode


def _serialize(event: object, **_: object) -> str:
    return _encode(event)


# The request line as `_encode` writes its event dict (`ensure_ascii=False`: a string's
# characters as they are, quotes, backslashes and control characters escaped).
_REQUEST_LINE = (
    '{"method": %s, "path": %s, "status": %d, "ms": %r, "event": "request", "level": "info", "timestamp": "%s"}'
)
_encode_text = encode_basestring


class LineWriter:
    """structlog's logger here: each line and its newline in one write to the current
    standard output, as `print` would find it (a test's capture, a benchmark's
    /dev/null). structlog's PrintLogger writes them apart when Python's output is
    unbuffered, as in the image (PYTHONUNBUFFERED): two system calls a line. One lock for
    every line, so that lines written from threads never interleave."""

    _lock = threading.Lock()

    def msg(self, message: str) -> None:
        with self._lock:
            out = sys.stdout
            out.write(message + "\n")
            out.flush()

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


_lines = LineWriter()
# What `configure` chose, for the request log line, which is written without structlog.
_json_lines = True
_info = True


def configure(json: bool = True, level: int = logging.INFO) -> None:
    global _json_lines, _info
    _json_lines, _info = json, level <= logging.INFO
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
        logger_factory=lambda *_: _lines,
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(levelname)s %(name)s %(message)s")


def _utc_now() -> str:
    """The time stamp as structlog's `TimeStamper(fmt="iso", utc=True)` writes it."""
    return datetime.datetime.now(tz=datetime.UTC).isoformat().replace("+00:00", "Z")


def request_line_writer():
    """A function writing the request log line, `(method, path, status, ms)`.

    As JSON, the line is the text structlog's processors above make of
    `log.info("request", method=..., path=..., status=..., ms=...)`, key for key (the
    keyword arguments, `event`, `level`, `timestamp`; no context variables are bound
    anywhere), made here without the processor chain and its event dict copies, and
    written by the same `LineWriter` (docs/benchmarks.md, claims, part 5;
    tests/test_logs.py compares the two). As a readable console line (development),
    it goes through structlog.
    """
    if not _json_lines:
        log = structlog.get_logger("http").bind()

        def through_structlog(method: str, path: str, status: int, ms: float) -> None:
            log.info("request", method=method, path=path, status=status, ms=ms)

        return through_structlog
    info = _info

    def write(method: str, path: str, status: int, ms: float) -> None:
        # The encoder's own text for each value (a string's escapes, an int, a float's
        # repr), put in a template instead of encoding a dict: half the time.
        if info:
            _lines.msg(_REQUEST_LINE % (_encode_text(method), _encode_text(path), status, ms, _utc_now()))

    return write


def request_log_middleware(app: ASGIApp) -> ASGIApp:
    """Log method, route path, status and duration of every request; never the query
    string or the body, which may carry personal data."""
    # Made once, when the app is made (after `configure`).
    write = request_line_writer()

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
            write(scope["method"], scope["path"], status["code"], round((time.perf_counter() - started) * 1000, 1))

    return middleware
