"""The 消息 page: a member's messages newest first; one tap opens a message (marking it
read) and goes where it points; 全部已读 marks all read. Thin handlers."""

from litestar import Request, get, post
from litestar.response import Redirect, Template

from marketplace.identity import guards
from marketplace.inbox import services
from marketplace.web.params import BigId



@get("/messages", guards=[guards.member], include_in_schema=False)
async def inbox(request: Request) -> Template:
    return Template(template_name="inbox/messages.html", context={
        "messages": await services.messages(request.user),
        "done": request.query_params.get("done") == "read"})


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
