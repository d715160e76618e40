"""Counts that page layouts show (the member's unread badge, the console's to-do list and
menu badges, the provider portal's menu badges), counted only for an answer that is a page.

Each kind is registered by its module:

    page_counts.register("unread", wants, count)

`wants(scope)` says, without I/O, whether this request may be a page that shows the count
to the signed-in principal (right area, right kind of user, a GET and not an htmx
fragment...). `count(scope)` awaits the number. The middleware notes the kinds a request
wants; the app's `after_request` hook counts them only when the handler answered with a
Template, so redirects after a form, downloads, fragments and the whole API never count.
Templates read the result with `page_count(key)`.
"""

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from litestar import Response
from litestar.response import Template
from litestar.types import ASGIApp, Receive, Scope, Send

Wants = Callable[[Scope], bool]
Count = Callable[[Scope], Awaitable[Any]]

_kinds: dict[str, tuple[Wants, Count]] = {}


class _Page:
    __slots__ = ("scope", "values", "wanted")

    def __init__(self, scope: Scope, wanted: list[str]):
        self.scope = scope
        self.wanted = wanted
        self.values: dict[str, Any] = {}


# This request's page, set (and reset) by the middleware, filled by `after_request`.
_page: ContextVar[_Page | None] = ContextVar("page_counts", default=None)


def register(key: str, wants: Wants, count: Count) -> None:
    _kinds[key] = (wants, count)


def middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("user") is not None:
            wanted = [key for key, (wants, _) in _kinds.items() if wants(scope)]
            if wanted:
                token = _page.set(_Page(scope, wanted))
                try:
                    await app(scope, receive, send)
                finally:
                    _page.reset(token)
                return
        await app(scope, receive, send)

    return middleware


async def after_request(response: Response) -> Response:
    """Litestar `after_request` (app-wide): count what the page shows, before it renders."""
    page = _page.get()
    if page is not None and isinstance(response, Template):
        for key in page.wanted:
            page.values[key] = await _kinds[key][1](page.scope)
    return response


def page_count(key: str, default: Any = None) -> Any:
    """For templates: this page's count of `key` (`default` outside such a page)."""
    page = _page.get()
    return page.values.get(key, default) if page is not None else default
