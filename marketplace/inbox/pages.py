"""The 消息 page: a member's messages newest first; one tap opens a message (marking it
read) and goes where it points; 全部已读 marks all read. Thin handlers."""

from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.types import Scope

from marketplace.core.identity import guards
from marketplace.core.web import page_counts
from marketplace.core.web.params import BigId
from marketplace.inbox import services


@get("/messages", guards=[guards.member], include_in_schema=False)
async def inbox(request: Request) -> Template:
    return Template(
        template_name="inbox/messages.html",
        context={"messages": await services.messages(request.user), "done": request.query_params.get("done") == "read"},
    )


@get("/messages/{message_id:int}", guards=[guards.member], include_in_schema=False)
async def open_message(request: Request, message_id: BigId) -> Redirect:
    """Opening is reading (as in 美团/支付宝): the message is marked read, then the member
    lands where it points (a message without a link: back on the list, now read)."""
    link = await services.open_message(request.user, message_id)
    return Redirect(path=link or f"/messages#message-{message_id}")


@post("/messages/read-all", guards=[guards.member], include_in_schema=False)
async def read_all(request: Request) -> Redirect:
    await services.mark_all_read(request.user)
    return Redirect(path="/messages?done=read")


ROUTES = [inbox, open_message, read_all]


# The unread badge of the member layout (消息 tab, `page_count("unread")`): counted only for a
# signed-in member's page (marketplace/core/web/page_counts.py), never for the API, static files,
# the other areas, or an answer that is not a page.
_NOT_MEMBER_PAGES = ("/api/", "/static/", "/media/", "/health", "/ready", "/provider", "/console", "/evaluator")


def _wants_unread(scope: Scope) -> bool:
    return (
        scope.get("method") == "GET"
        and getattr(scope.get("user"), "kind", None) == "member"
        and not scope["path"].startswith(_NOT_MEMBER_PAGES)
    )


async def _unread(scope: Scope) -> int:
    return await services.unread_count(scope["user"].id)


page_counts.register("unread", _wants_unread, _unread)
