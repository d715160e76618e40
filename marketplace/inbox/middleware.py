"""The unread badge of the member site: before a member's page renders, how many of their
messages are unread goes into `scope["unread"]` (the member layout shows it on the 消息 tab).
Only for signed-in members' page views: never for the API, static files or other areas."""

from litestar.types import ASGIApp, Receive, Scope, Send

from marketplace.inbox import services

_SKIP = ("/api/", "/static/", "/media/", "/health", "/ready", "/provider", "/console", "/evaluator")


def badge_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET" and not scope["path"].startswith(_SKIP):
            user = scope.get("user")
            if user is not None and user.kind == "member":
                scope["unread"] = await services.unread_count(user.id)  # type: ignore[typeddict-unknown-key]
        await app(scope, receive, send)

    return middleware
