"""Every change an operator or a provider makes, in the audit log: who, which route, when
and how it ended. The services that change something sensitive (accounts, nodes,
policies, decisions, reveals) record their own event too, with what was before and after;
this catches everything else, including routes added later. Bodies and query strings
are never recorded: they may carry personal data."""

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from marketplace.core.audit import services as audit
from marketplace.core.db import engine

log = structlog.get_logger(__name__)

CHANGES = ("POST", "PUT", "PATCH", "DELETE")
# A handler that only answered with a preview or a question sets this in its request's scope.
NOTHING_CHANGED = "audit_nothing_changed"
AUDITED = ("operator", "provider")
# Signing in and out is recorded by the session itself; these are not changes.
SKIPPED = ("/console/login", "/console/logout", "/provider/login", "/provider/logout", "/api/v1/auth/token")


def audit_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        # Who is asking is known before the handler runs (authentication is an outer
        # middleware): members' requests, most of them, pass straight through.
        principal = scope.get("user")
        if (
            scope["type"] != ScopeType.HTTP
            or scope["method"] not in CHANGES
            or scope["path"].startswith(SKIPPED)
            or principal is None
            or principal.kind not in AUDITED
        ):
            await app(scope, receive, send)
            return
        status = {"code": 500}

        async def capture(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await app(scope, receive, capture)
        if status["code"] >= 400:
            return  # refused requests changed nothing
        if scope.get(NOTHING_CHANGED):
            return  # a preview or a confirmation step, before anything was done
        route = scope.get("path_template") or scope["path"]
        try:
            async with engine().transaction() as transaction:
                await audit.record(
                    transaction.connection,
                    principal,
                    f"http.{scope['method'].lower()}",
                    "route",
                    None,
                    details={"path": scope["path"], "route": route, "status": status["code"]},
                )
        except Exception as error:  # the change happened; a lost audit line must be loud, not fatal
            log.error("audit_write_failed", path=scope["path"], error=type(error).__name__)

    return middleware


def nothing_changed(request) -> None:
    """Leave this request out of the log: it answered with a preview or a confirmation
    question and changed nothing (the confirmed request that follows is recorded)."""
    request.scope[NOTHING_CHANGED] = True
