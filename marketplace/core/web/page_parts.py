"""Parts of one domain's page that another domain fills.

The offer page belongs to catalog (search), but what a member can do on it (claim, book,
buy, exchange points; 已领取, 到货提醒, 即将开始) belongs to marketplace.vouchers, which
catalog may not import. The owner of a part registers an async function when its pages
module is imported; the page awaits `fill` and hands the result to its template:

    page_parts.register("offer_actions", claim_context)          # marketplace/vouchers/pages.py
    context["actions"] = await page_parts.fill("offer_actions", request, offer)   # catalog

A part nobody registered fills nothing (an empty dict).
"""

from collections.abc import Awaitable, Callable
from typing import Any

_parts: dict[str, Callable[..., Awaitable[dict]]] = {}


def register(name: str, function: Callable[..., Awaitable[dict]]) -> None:
    _parts[name] = function


async def fill(name: str, *args: Any, **kwargs: Any) -> dict:
    function = _parts.get(name)
    return await function(*args, **kwargs) if function else {}
