"""Badges in the provider portal's menu (new complaints, ...), counted for the signed-in
provider on each portal page.

Domains register a counter for a nav key when their pages module is imported, as with
marketplace.web.nav, so the portal layout never names a domain:

    portal_badges.register("complaints", complaints.count_open)

`count(provider_id)` answers how many items wait; the layout reads `portal_badges()`.
"""

from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from litestar.types import ASGIApp, Receive, Scope, Send

Counter = Callable[[int], Awaitable[int]]

_counters: dict[str, Counter] = {}
_current: ContextVar[dict[str, int] | None] = ContextVar("portal_badges", default=None)


def register(nav_key: str, count: Counter) -> None:
    _counters[nav_key] = count


async def counts(provider_id: int) -> dict[str, int]:
    result = {}
    for key, count in _counters.items():
        n = int(await count(provider_id) or 0)
        if n:
            result[key] = n
    return result


def current() -> dict[str, int]:
    """This page's badges (empty outside a signed-in provider's portal page)."""
    return _current.get() or {}


def _wants_page(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    path = scope["path"]
    headers = dict(scope.get("headers") or [])
    # Litestar hands "/provider/" over as "/provider".
    return (path == "/provider" or path.startswith("/provider/")) \
        and not path.startswith(("/provider/login", "/provider/logout", "/provider/apply")) \
        and b"hx-request" not in headers and not path.endswith(".csv")


def badge_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if _wants_page(scope) and user is not None and getattr(user, "kind", None) == "provider" \
                and getattr(user, "provider_id", None):
            token = _current.set(await counts(user.provider_id))
            try:
                await app(scope, receive, send)
            finally:
                _current.reset(token)
            return
        await app(scope, receive, send)

    return middleware
