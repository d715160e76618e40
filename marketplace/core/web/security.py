"""Security headers on every response, and the per-request CSP nonce.

Every response, errors and unmatched routes included (Litestar's `before_send` hook sees
them all), carries:
- `Content-Security-Policy`: scripts only from this site (and Stripe.js where the payment
  page loads it) or with this request's nonce (`csp_nonce()` in templates); no plugins;
  `frame-ancestors 'none'` (no site may frame a page: clickjacking); the OpenAPI page keeps
  its own policy because Swagger UI starts with an inline script;
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: strict-origin-when-cross-origin`,
  `X-Frame-Options: DENY` (for browsers without frame-ancestors);
- `Strict-Transport-Security` when the request came over https (behind a trusted proxy,
  see marketplace/core/web/proxy.py) or cookies are marked secure, unless `HSTS_MAX_AGE=0`;
- `Cache-Control: no-store` on every response to a signed-in person (their pages and API
  answers hold personal data); static files and pictures keep their own caching.
"""

import secrets
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, cast
from urllib.parse import urlsplit

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from marketplace.core.settings import get_settings

_NONCE_KEY = "benefits.csp_nonce"
_nonce: ContextVar[str] = ContextVar("csp_nonce", default="")
_STRIPE_JS = "https://js.stripe.com"
_STRIPE_ORIGINS = ("https://js.stripe.com", "https://hooks.stripe.com", "https://api.stripe.com")


def _extras(scope: Scope) -> dict[str, Any]:
    """The scope as the dict it is, for the nonce key that is none of Litestar's typed ones."""
    return cast("dict[str, Any]", scope)


def csp_nonce() -> str:
    """This request's nonce, for the rare inline `<script nonce="{{ csp_nonce() }}">`."""
    return _nonce.get()


def _stripe_sources(api_base: str | None) -> tuple[str, ...]:
    if api_base:
        parts = urlsplit(api_base)
        return (f"{parts.scheme}://{parts.netloc}",)
    return _STRIPE_ORIGINS


def content_security_policy(nonce: str, path: str = "/") -> str:
    policy = _policy(get_settings().stripe.api_base, path.startswith("/api/docs"))
    return policy.replace("{nonce}", nonce)


@lru_cache
def _policy(stripe_api_base: str | None, api_docs: bool) -> str:
    """The policy with `{nonce}` where the request's nonce goes: made once, not for every
    answer (docs/benchmarks.md, claims)."""
    stripe = " ".join(_stripe_sources(stripe_api_base))
    # Swagger UI's start-up script is inline.
    script = "'self' 'unsafe-inline'" if api_docs else f"'self' 'nonce-{{nonce}}' {stripe}"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script}",
            # Style attributes (a bar's width) stay allowed; style sheets come from this site.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src 'self' {stripe}",
            f"frame-src 'self' {stripe}",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action 'self' {stripe}",
            "frame-ancestors 'none'",
        ]
    )


def nonce_middleware(app: ASGIApp) -> ASGIApp:
    """Draws the request's nonce before any template renders."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        nonce = _extras(scope)[_NONCE_KEY] = secrets.token_urlsafe(18)
        token = _nonce.set(nonce)
        try:
            await app(scope, receive, send)
        finally:
            _nonce.reset(token)

    return middleware


def _signed_in(scope: Scope) -> bool:
    if scope.get("user") is not None:
        return True
    return any(key in (b"authorization",) for key, _ in scope.get("headers", []))


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Litestar `before_send`: runs for every response the app sends. The raw header list
    is edited in one pass (a MutableScopeHeaders scans and re-encodes it once per header:
    9.5 µs against 3 µs per answer, docs/benchmarks.md)."""
    if message["type"] != "http.response.start" or scope["type"] != "http":
        return
    settings = get_settings()
    # Litestar's responses send their headers as a list, which is edited in place.
    raw = cast("list[tuple[bytes, bytes]]", message.setdefault("headers", []))
    path = scope.get("path", "")
    wanted = {
        b"x-content-type-options": b"nosniff",
        b"referrer-policy": b"strict-origin-when-cross-origin",
        b"x-frame-options": b"DENY",
    }
    if not any(name.lower() == b"content-security-policy" for name, _ in raw):
        # Drawn by nonce_middleware; responses that never passed it (unmatched routes) draw here.
        extras = _extras(scope)
        nonce: str = extras.get(_NONCE_KEY) or extras.setdefault(_NONCE_KEY, secrets.token_urlsafe(18))
        wanted[b"content-security-policy"] = content_security_policy(nonce, path).encode("latin-1")
    max_age = settings.security.hsts_max_age
    if max_age and (scope.get("scheme") == "https" or settings.security.secure_cookies):
        wanted[b"strict-transport-security"] = f"max-age={max_age}; includeSubDomains".encode("latin-1")
    if _signed_in(scope) and not path.startswith(("/static/", "/media/")):
        wanted[b"cache-control"] = b"no-store"
        wanted[b"pragma"] = b"no-cache"
    # Set, not added: a header of the same name the response already had is replaced.
    raw[:] = [(name, value) for name, value in raw if name.lower() not in wanted]
    raw.extend(wanted.items())
