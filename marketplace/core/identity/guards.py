"""Route guards: who may call a handler. Scope (which node, which provider) is checked
by the services, which know what the request touches.

Guards are `async def` although they never await: Litestar runs a plain function guard
in a worker thread (`sync_to_thread`), which cost a claim more than its own queries."""

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from marketplace.core import errors
from marketplace.core.errors import DomainError, Forbidden, Unauthorized
from marketplace.core.identity import permissions
from marketplace.core.identity.principal import Principal


def _require(kind: str, connection: ASGIConnection) -> None:
    principal = connection.user
    if principal is None:
        raise Unauthorized("Sign in first.", code="not_signed_in")
    if principal.kind != kind:
        raise Forbidden("This account may not do this.", code="wrong_role", required_kind=kind)


def require_member(principal: Principal | None) -> int:
    """The signed-in member's id, for a service only members may use; 403 `wrong_role` for
    anyone else, whatever the request names (the policy of marketplace/core/federation/scope.py:
    a role that may not use an action at all is refused with 403, before any object is read)."""
    if principal is None or principal.kind != "member":
        raise Forbidden("Only members may do this.", code="wrong_role")
    return principal.id


def require_operator(principal: Principal | None) -> Principal:
    """The signed-in operator, for a service only operators may use; 403 `wrong_role` for
    anyone else, before any object is read (the same policy as `require_member`). On the
    web, the routes' `guards.operator` refuse other kinds first; this keeps the services
    safe for every other caller (the CLI, actors, the tests)."""
    if principal is None or principal.kind != "operator":
        raise Forbidden("Only operators may do this.", code="wrong_role")
    return principal


def require_administrator(principal: Principal | None) -> Principal:
    """The signed-in administrator (an operator of that role), for managing nodes and
    accounts; 403 `role_required` for anyone else."""
    if principal is None or principal.kind != "operator" or principal.role != "administrator":
        raise Forbidden("Only administrators manage nodes and accounts.", code="role_required")
    return principal


def require_provider(principal: Principal | None) -> int:
    """The provider id of a signed-in provider user (owner or staff), for a service of the
    provider portal; 403 `wrong_role` for anyone else (as `require_member`)."""
    if principal is None or principal.kind != "provider" or principal.provider_id is None:
        raise Forbidden("Only a provider's users may do this.", code="wrong_role")
    return principal.provider_id


def require_owner(principal: Principal | None) -> int:
    """The provider id of the signed-in provider's owner, for what staff may not do (listings,
    settlements, replies, appeals); 403 `owner_only` for anyone else, as the routes'
    `guards.provider_owner` says it."""
    if principal is None or principal.kind != "provider" or principal.role != "owner" or principal.provider_id is None:
        raise Forbidden("Only the provider's owner may do this.", code="owner_only")
    return principal.provider_id


def require_evaluator(principal: Principal | None) -> Principal:
    """The signed-in evaluator organisation, for the evaluator desk's services; 403
    `wrong_role` for anyone else."""
    if principal is None or principal.kind != "evaluator":
        raise Forbidden("Only evaluator organisations may do this.", code="wrong_role")
    return principal


async def member(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    _require("member", connection)


async def provider_user(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    _require("provider", connection)


async def provider_owner(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    _require("provider", connection)
    if connection.user.role != "owner":
        raise Forbidden("Only the provider's owner may do this.", code="owner_only")


async def operator(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    _require("operator", connection)


async def evaluator(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    _require("evaluator", connection)


async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user is None:
        raise Unauthorized("Sign in first.", code="not_signed_in")


def operator_role(*roles: str):
    """A guard for operators with one of `roles` (on top of their node scope)."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        _require("operator", connection)
        if connection.user.role not in roles:
            raise Forbidden("Your role may not do this.", code="role_required", roles=list(roles))

    return guard


administrator = operator_role("administrator")

# Which role may call which route (analysts read only, staff keep to the counter, ...) is
# the permission table's job: marketplace/core/identity/permissions.py, checked for every
# route by `middleware` below.


# Where a signed-in operator or provider user with something pending may still go.
SETUP_PAGES = {
    "password": {"operator": "/console/password", "provider": "/provider/password"},
    "two_factor": {"operator": "/console/security"},
}
SETUP_ALLOWED = (
    "/console/password",
    "/console/security",
    "/console/logout",
    "/provider/password",
    "/provider/logout",
    "/api/v1/auth/token",
    "/api/v1/me",
    "/lang/",
)


def check_route(scope: HTTPScope) -> None:
    """What every route requires of its caller, before its own guards: the permission table's
    role check, the account's pending set-up, and the kind of account an API route of the
    table's "member" permission needs (401 not_signed_in, 403 wrong_role, as `member` says
    them; a member API route needs no guard of its own, pages keep theirs: the member site's
    sign-out is open to all). Run by `middleware`, not as a guard: Litestar hands every guard
    a `copy()` of the route handler on every request (docs/benchmarks.md, claims)."""
    principal = scope.get("user")
    method, template = scope["method"], scope.get("path_template", "")
    permissions.enforce(principal, method, template)
    account_setup(principal, scope["path"])
    if scope["path"].startswith("/api/") and permissions.audience_of(method, template) == "member":
        if principal is None:
            raise Unauthorized("Sign in first.", code="not_signed_in")
        if principal.kind != "member":
            raise Forbidden("This account may not do this.", code="wrong_role", required_kind="member")


def account_setup(principal: Principal | None, path: str) -> None:
    """App-wide: staff whose password was reset choose a new one, and operators whose role
    requires two-factor sign-in set it up, before anything else (pages redirect there)."""
    if principal is None or principal.pending is None or path.startswith(SETUP_ALLOWED):
        return
    page = SETUP_PAGES[principal.pending].get(principal.kind)
    if principal.pending == "password":
        raise Forbidden("Choose a new password first.", code="password_change_required", setup=page)
    raise Forbidden(
        "Turn on two-factor sign-in first: your role shows members' personal data.",
        code="two_factor_required",
        setup=page,
    )


def middleware(app: ASGIApp) -> ASGIApp:
    """`check_route` for every HTTP request the router matched, innermost of the app's
    middleware (after the CSRF check, where guards ran before it). A refusal is answered here
    by the app's exception handlers, through the outer middleware (the log line, compression),
    as a guard's was."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            try:
                check_route(scope)
            except DomainError as error:
                await errors.answer(scope, receive, send, error)
                return
        await app(scope, receive, send)

    return middleware
