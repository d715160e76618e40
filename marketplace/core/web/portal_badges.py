"""Badges in the provider portal's menu (new complaints, ...), counted for the signed-in
provider on each portal page (see marketplace.core.web.page_counts: only pages count).

Domains register a counter for a nav key when their pages module is imported, as with
marketplace.core.web.nav, so the portal layout never names a domain:

    portal_badges.register("complaints", complaints.count_open)

`count(provider_id)` answers how many items wait; the layout reads `portal_badges()`.
"""

from collections.abc import Awaitable, Callable

from litestar.types import Scope

from marketplace.core.web import page_counts

Counter = Callable[[int], Awaitable[int]]

_counters: dict[str, Counter] = {}


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
    return page_counts.page_count("portal_badges") or {}


def _wants_page(scope: Scope) -> bool:
    if scope.get("method") != "GET":
        return False
    path = scope["path"]
    user = scope.get("user")
    if getattr(user, "kind", None) != "provider" or not getattr(user, "provider_id", None):
        return False
    headers = dict(scope.get("headers") or [])
    # Litestar hands "/provider/" over as "/provider".
    return (
        (path == "/provider" or path.startswith("/provider/"))
        and not path.startswith(("/provider/login", "/provider/logout", "/provider/apply"))
        and b"hx-request" not in headers
        and not path.endswith(".csv")
    )


async def _count(scope: Scope) -> dict[str, int]:
    return await counts(scope["user"].provider_id)


page_counts.register("portal_badges", _wants_page, _count)
