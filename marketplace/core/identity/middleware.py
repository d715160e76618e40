"""Finds the principal of every request and puts it in `scope["user"]` (None if anonymous).

The JSON API (`/api/`) accepts only `Authorization: Bearer ...` (a session token or an
evaluator API key) and is exempt from CSRF; the web UI accepts only its cookie, one per
audience, and is CSRF-protected. Guards decide who may do what.
"""

from litestar.types import ASGIApp, Receive, Scope, Send

from marketplace.core.identity import services

# principal kind → (URL prefix of its web area, its session cookie). Each audience has
# its own cookie, so a member's session never reaches the console.
WEB_AREAS = {
    "member": ("", "sid_member"),
    "provider": ("/provider", "sid_provider"),
    "operator": ("/console", "sid_operator"),
    "evaluator": ("/evaluator", "sid_evaluator"),
}


def area_of(path: str) -> str:
    """The kind of user whose web area `path` belongs to (the member site by default)."""
    for kind, (prefix, _) in WEB_AREAS.items():
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            return kind
    return "member"


def cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie_name, _, cookie_value = part.strip().partition("=")
                if cookie_name == name:
                    return cookie_value
    return None


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
    return None


async def _principal(scope: Scope):
    path = scope["path"]
    if path.startswith("/api/"):
        token = _bearer(scope)
        if not token:
            return None
        if token.startswith("ek_"):
            return await services.principal_for_api_key(token)
        return await services.principal_for_token(token, "bearer")
    kind = area_of(path)
    token = cookie(scope, WEB_AREAS[kind][1])
    if not token:
        return None
    principal = await services.principal_for_token(token, "cookie")
    return principal if principal and principal.kind == kind else None


def authentication_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        # Liveness, readiness and static files never need to know who is asking (and
        # /ready must answer 503, not fail on a session look-up, when the database is down).
        if scope["type"] == "http" and not scope["path"].startswith(("/static/", "/health", "/ready")):
            scope["user"] = await _principal(scope)
        else:
            scope["user"] = None
        await app(scope, receive, send)

    return middleware
