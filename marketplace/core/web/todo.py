"""The operator's to-do list: what is waiting in each queue, counted within their scope.

Each domain registers its queues when its pages module is imported (as with
marketplace.core.web.nav), so the console home and the menu badges never name a domain:

    todo.register("listings", N_("Listings to review"), "/console/listings", services.review_count,
                  position=20)

`count(principal)` answers how many items wait for an operator of that principal's
federation scope. The key is also the nav key whose menu item shows the badge.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar.types import Scope

from marketplace.core.web import page_counts

# Counts for the signed-in principal (each domain's own Principal type: Any, not object).
Counter = Callable[[Any], Awaitable[int]]


@dataclass(frozen=True)
class TodoItem:
    key: str
    label: str
    href: str
    count: Counter
    position: int
    nav_key: str


_items: dict[str, TodoItem] = {}


def register(key: str, label: str, href: str, count: Counter, *, position: int, nav_key: str | None = None) -> None:
    _items[key] = TodoItem(key, label, href, count, position, nav_key or key)


def items() -> list[TodoItem]:
    return sorted(_items.values(), key=lambda item: item.position)


async def counts(principal) -> list[tuple[TodoItem, int]]:
    """Every registered queue with how many items wait in it for this operator."""
    return [(item, int(await item.count(principal) or 0)) for item in items()]


def badges(todo: list[tuple[TodoItem, int]]) -> dict[str, int]:
    """Menu badges: the waiting items summed per nav key (0 left out)."""
    result: dict[str, int] = {}
    for item, n in todo:
        if n:
            result[item.nav_key] = result.get(item.nav_key, 0) + n
    return result


def current() -> list[tuple[TodoItem, int]]:
    """This page's to-do counts (empty outside a signed-in operator's console page)."""
    return page_counts.page_count("todo") or []


def current_badges() -> dict[str, int]:
    return badges(current())


def _wants_page(scope: Scope) -> bool:
    """A signed-in operator's console page (a form that answers with a page, a confirmation
    or a refused form, shows the menu too); page_counts counts only if it is one."""
    if scope.get("method") not in ("GET", "POST"):
        return False
    path = scope["path"]
    if not (path == "/console" or path.startswith("/console/")) or path.startswith(
        ("/console/login", "/console/logout")
    ):
        return False
    user = scope.get("user")
    if getattr(user, "kind", None) != "operator" or not getattr(user, "node_path", None):
        return False
    headers = dict(scope.get("headers") or [])
    # htmx fragments (progress polling) and downloads have no menu.
    return b"hx-request" not in headers and not path.endswith((".csv", "/progress"))


async def _count(scope: Scope) -> list[tuple[TodoItem, int]]:
    return await counts(scope["user"])


page_counts.register("todo", _wants_page, _count)
