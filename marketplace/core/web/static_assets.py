"""Static files that stay light on a phone: versioned URLs cached for a year, compression.

Pages name a static file through `static("app.css")`, which answers
`/static/app.css?v=<first 10 hex of its SHA-256>`. A changed file gets a new URL, so the
browser may keep every versioned file for a year without asking again
(`Cache-Control: public, max-age=31536000, immutable`). A URL without `?v=` (a file a
template names directly, the API docs' Swagger files) is served with `no-cache`: the
browser keeps it but revalidates, so a deploy never leaves a stale script behind.

Compression (gzip) of HTML, CSS, JS and JSON is Litestar's CompressionConfig, set in
marketplace/app.py with `SameOriginCompression` below: a request another site started
(`Sec-Fetch-Site: cross-site` or `same-site`) is answered uncompressed. Pages carry the
CSRF token and may echo what the request asked (a search); compressing both together
for requests an attacker's page can fire lets the response sizes leak the token
(BREACH). Members' own navigation (same-origin, or typed: none) stays compressed.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

from litestar.enums import CompressionEncoding
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).parent / "static"
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"
PRIVATE_IMMUTABLE = b"private, max-age=31536000, immutable"


@lru_cache(maxsize=256)
def _version(path: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]


def static(path: str) -> str:
    """The versioned URL of a file under marketplace/core/web/static (e.g. "vendor/htmx.min.js")."""
    file = STATIC_DIR / path
    try:
        return f"/static/{path}?v={_version(path, file.stat().st_mtime_ns)}"
    except OSError:  # a vendored file not installed yet: the page still names it
        return f"/static/{path}"


def _versioned(scope: Scope) -> bool:
    query = scope.get("query_string", b"")
    return any(part.startswith(b"v=") for part in query.split(b"&"))


def cache_headers_middleware(app: ASGIApp) -> ASGIApp:
    """Long-lived caching for versioned static URLs, revalidation for the others."""
    return _cache_control(app, lambda scope: IMMUTABLE if _versioned(scope) else REVALIDATE)


def media_cache_middleware(app: ASGIApp) -> ASGIApp:
    """Pictures under /media never change under their name (each upload gets a new,
    unguessable one): the member's browser keeps them, shared caches do not."""
    return _cache_control(app, lambda scope: PRIVATE_IMMUTABLE)


def _cache_control(app: ASGIApp, choose) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        value = choose(scope)

        async def send_with_cache(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 200:
                headers = [(name, v) for name, v in message.get("headers", []) if name.lower() != b"cache-control"]
                headers.append((b"cache-control", value))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_cache)

    return middleware


class SameOriginCompression(CompressionMiddleware):
    """Litestar's compression, except for requests started by another site (see above)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Litestar's own __call__ is not called: it builds a Headers mapping of the request for
        # its one header, and passes its path exclusions a second time (docs/benchmarks.md, claims).
        accepted = b""
        for name, value in scope.get("headers", []):
            if name == b"sec-fetch-site" and value in (b"cross-site", b"same-site"):
                await self.app(scope, receive, send)
                return
            if name == b"accept-encoding":
                accepted = value
        if b"gzip" in accepted:  # the one encoding configured (marketplace/app.py)
            send = self.create_compression_send_wrapper(send, CompressionEncoding.GZIP, scope)
        await self.app(scope, receive, send)

    def create_compression_send_wrapper(self, send: Send, compression_encoding, scope: Scope) -> Send:
        """Litestar opens a gzip stream for every response it may compress, even for the many
        (problem answers, small JSON) under `minimum_size` that go out as they are: here the
        stream is opened only for a body that may be compressed."""
        start: Message | None = None
        compressing: Send | None = None
        passing = False

        async def send_wrapper(message: Message) -> None:
            nonlocal start, compressing, passing
            if passing:
                await send(message)
            elif compressing is not None:
                await compressing(message)
            elif message["type"] == "http.response.start":
                start = message
            elif (
                start is not None
                and message["type"] == "http.response.body"
                and not message.get("more_body")
                and len(message.get("body", b"")) < self.config.minimum_size
            ):
                passing = True
                await send(start)
                await send(message)
            else:
                compressing = super(SameOriginCompression, self).create_compression_send_wrapper(
                    send, compression_encoding, scope
                )
                if start is not None:
                    await compressing(start)
                await compressing(message)

        return send_wrapper
