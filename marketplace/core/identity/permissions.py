"""The one permission table: which role may call which route, checked in one place.

Operators have one role on top of their node scope (administrator, reviewer, finance,
analyst); provider users are the owner or staff. Every route of the app is declared
here, by method and path template, with one permission; each permission names the roles
that hold it. `enforce` (for every route: guards.check_route) refuses a role without the
route's permission before the handler runs; services still check scope (which node, which provider) and the
four-eyes rules (a second operator approves what the first proposed).

Permissions of the other audiences name their kind only (members, evaluators have no
roles): "public" (anyone, signed in or not), "signed_in" (any principal), "member",
"evaluator". tests/test_permissions.py walks the app's route table against this one; a
route missing here fails it, and at run time an undeclared route is open to
administrators and owners only.

docs/permissions.md shows the same table for people.
"""

import re

from marketplace.core.errors import Forbidden

OPERATOR_ROLES = ("administrator", "reviewer", "finance", "analyst")
PROVIDER_ROLES = ("owner", "staff")

ALL_OPERATORS = frozenset(OPERATOR_ROLES)
ADMIN = frozenset({"administrator"})

# permission → (audience, roles holding it, what it allows)
PERMISSIONS: dict[str, tuple[str, frozenset[str], str]] = {
    "public": ("anyone", frozenset(), "pages and calls that need no account"),
    "signed_in": ("anyone", frozenset(), "any signed-in account (its own session)"),
    "member": ("member", frozenset(), "a member's own vouchers, points, payments and data"),
    "evaluator": ("evaluator", frozenset(), "an evaluator's samples and result batches"),
    # Operators
    "console.self": ("operator", ALL_OPERATORS, "sign out, own password and two-factor settings"),
    "console.read": ("operator", ALL_OPERATORS, "read figures, lists, scorecards, settlements, cases"),
    "members.read": ("operator", frozenset({"administrator", "reviewer"}), "members of the scope, masked"),
    "members.reveal": ("operator", frozenset({"administrator", "reviewer"}), "reveal a member's phone or ID, audited"),
    "members.manage": ("operator", ADMIN, "add, transfer, retire members; roster imports"),
    "team.manage": ("operator", ADMIN, "union nodes and operator accounts"),
    "audit.read": ("operator", ADMIN, "the audit log"),
    "evaluators.manage": ("operator", ADMIN, "issue, rotate and revoke evaluator API keys"),
    "providers.review": (
        "operator",
        frozenset({"administrator", "reviewer"}),
        "admit, suspend providers; approve listings",
    ),
    "quality.decide": (
        "operator",
        frozenset({"administrator", "reviewer"}),
        "close and forward complaints, held ratings, enforcement and appeal decisions",
    ),
    "policy.manage": ("operator", ADMIN, "the enforcement policy"),
    "campaigns.manage": (
        "operator",
        frozenset({"administrator", "finance"}),
        "create, fund (shares and budgets), pause, resume, end campaigns; create and run fair draws",
    ),
    "points.grant": (
        "operator",
        frozenset({"administrator", "finance"}),
        "points grants and adjustments; approving another operator's large ones",
    ),
    "settlements.manage": (
        "operator",
        frozenset({"administrator", "finance"}),
        "draft and approve statements; resolve refunds the escrow could not cover",
    ),
    "settlements.pay": (
        "operator",
        frozenset({"administrator", "finance"}),
        "pay a statement another operator approved",
    ),
    "approvals.decide": (
        "operator",
        frozenset({"administrator", "finance"}),
        "approve or reject a money change another operator proposed",
    ),
    "payouts.account": (
        "operator",
        frozenset({"administrator", "finance"}),
        "propose a provider's payout account; approving another operator's proposal",
    ),
    # Provider users
    "provider.self": ("provider", frozenset(PROVIDER_ROLES), "sign out, own password"),
    "provider.read": ("provider", frozenset(PROVIDER_ROLES), "the provider's profile and offers"),
    "provider.counter": ("provider", frozenset(PROVIDER_ROLES), "check and redeem vouchers at the counter"),
    "provider.manage": ("provider", frozenset({"owner"}), "offers, locations, staff, resubmission"),
    "provider.quality": (
        "provider",
        frozenset({"owner"}),
        "complaints and answers, scorecard, standing, cases and appeals",
    ),
    "provider.settlements": ("provider", frozenset({"owner"}), "the provider's settlement statements"),
}

# permission → the routes ("METHOD /path/{param}") that need it.
ROUTES_BY_PERMISSION: dict[str, tuple[str, ...]] = {
    "public": (
        "GET /login/sms",
        "POST /login/sms",
        "POST /login/sms/send",
        "GET /reset",
        "POST /reset",
        "POST /reset/send",
        "POST /activate/send",
        "GET /dev/sms",
        "POST /api/v1/auth/sms-code",
        "POST /api/v1/auth/sms-token",
        "GET /",
        "GET /activate",
        "POST /activate",
        "GET /health",
        "GET /ready",
        "GET /lang/{locale}",
        "GET /login",
        "POST /login",
        "GET /search",
        "GET /search/suggest",
        "GET /offers/{offer_id}",
        "GET /draws/{draw_id}",
        "GET /draws/{draw_id}/result.json",
        "GET /api/v1/draws/{draw_id}",
        "GET /api/v1/draws/{draw_id}/result",
        "GET /providers/{provider_id}",
        "GET /media/{file_path}",
        "GET /static/{file_path}",
        "GET /api/docs",
        "GET /api/docs/oauth2-redirect.html",
        "GET /api/docs/openapi.json",
        "GET /api/docs/{path}",
        "POST /api/v1/auth/token",
        "GET /api/v1/search",
        "GET /api/v1/search/suggest",
        "POST /api/v1/stripe/webhook",
        "POST /api/v1/providers/applications",
        "GET /console/login",
        "POST /console/login",
        "GET /provider/login",
        "POST /provider/login",
        "GET /provider/apply",
        "POST /provider/apply",
        "GET /evaluator/login",
        "POST /evaluator/login",
        "POST /large-text",
    ),
    "signed_in": ("DELETE /api/v1/auth/token", "GET /api/v1/me"),
    "member": (
        "GET /me/password",
        "POST /me/password",
        "POST /logout",
        "GET /me",
        "GET /me/data.json",
        "POST /me/deletion",
        "POST /me/evaluator-contact",
        "POST /offers/{offer_id}/claim",
        "POST /offers/{offer_id}/pay",
        "POST /offers/{offer_id}/restock-alert",
        "GET /payments/{payment_id}",
        "POST /payments/{payment_id}/cancel",
        "GET /payments/{payment_id}/return",
        "GET /points",
        "GET /vouchers",
        "GET /vouchers/{voucher_id}",
        "POST /vouchers/{voucher_id}/cancel",
        "POST /vouchers/{voucher_id}/complaints",
        "POST /vouchers/{voucher_id}/honoured",
        "GET /vouchers/{voucher_id}/payment",
        "POST /vouchers/{voucher_id}/rating",
        "GET /api/v1/me/data",
        "POST /api/v1/me/deletion",
        "POST /api/v1/offers/{offer_id}/claims",
        "POST /api/v1/offers/{offer_id}/payments",
        "GET /api/v1/payments/{payment_id}",
        "POST /api/v1/payments/{payment_id}/cancel",
        "GET /api/v1/points",
        "GET /api/v1/vouchers",
        "GET /api/v1/vouchers/{voucher_id}",
        "POST /api/v1/vouchers/{voucher_id}/cancel",
        "GET /api/v1/vouchers/{voucher_id}/complaints",
        "POST /api/v1/vouchers/{voucher_id}/complaints",
        "POST /api/v1/vouchers/{voucher_id}/honoured",
        "GET /api/v1/vouchers/{voucher_id}/rating",
        "PUT /api/v1/vouchers/{voucher_id}/rating",
        "GET /me/data",
        "GET /me/favourites",
        "GET /messages",
        "GET /messages/{message_id}",
        "POST /messages/read-all",
        "POST /favourites/offers/{offer_id}",
        "POST /favourites/providers/{provider_id}",
        "POST /draws/{draw_id}/enter",
        "POST /draws/{draw_id}/claim",
        "POST /draws/{draw_id}/decline",
        "POST /offers/{offer_id}/prepaid",
        "GET /packages",
        "POST /packages/{package_id}/take-back",
        "POST /draws/{draw_id}/withdraw",
        "GET /api/v1/draws",
        "GET /api/v1/draws/{draw_id}/entry",
        "POST /api/v1/draws/{draw_id}/entry",
        "POST /api/v1/draws/{draw_id}/entry/withdraw",
        "POST /api/v1/draws/{draw_id}/place/claim",
        "POST /api/v1/draws/{draw_id}/place/decline",
    ),
    "evaluator": (
        "GET /evaluator",
        "POST /evaluator/logout",
        "GET /evaluator/batches",
        "POST /evaluator/batches",
        "GET /evaluator/batches/{batch_id}",
        "GET /evaluator/samples",
        "POST /evaluator/samples/export",
        "GET /api/v1/evaluator/batches",
        "POST /api/v1/evaluator/batches",
        "POST /api/v1/evaluator/batches/csv",
        "GET /api/v1/evaluator/batches/{batch_ref}",
        "GET /api/v1/evaluator/me",
        "GET /api/v1/evaluator/samples",
        "GET /api/v1/evaluator/samples/export",
    ),
    "console.self": (
        "GET /console/password",
        "POST /console/password",
        "POST /console/security/recovery-codes",
        "POST /console/logout",
        "GET /console/security",
        "POST /console/security/totp",
        "POST /console/security/totp/disable",
    ),
    "console.read": (
        "GET /console/policy",
        "GET /console",
        "GET /console/campaigns",
        "GET /console/campaigns/{campaign_id}",
        "GET /console/draws",
        "GET /console/draws/{draw_id}",
        "GET /console/cases",
        "GET /console/prepaid-freezes",
        "GET /console/cases/{case_id}",
        "GET /console/complaints",
        "GET /console/complaints/{complaint_id}",
        "GET /console/listings",
        "GET /console/listings/{offer_id}",
        "GET /console/points",
        "GET /console/points/grants/{grant_id}/progress",
        "GET /console/prepaid",
        "GET /console/providers",
        "GET /console/providers/{provider_id}",
        "GET /console/reports",
        "GET /console/reports/export/{section}",
        "GET /console/scorecards",
        "GET /console/scorecards.csv",
        "GET /console/scorecards/{provider_id}",
        "GET /console/settlements",
        "GET /console/settlements/{statement_id}",
        "GET /console/disputes",
        "GET /console/disputes/{payment_id}",
        "GET /console/settlements/{statement_id}/statement.csv",
        "GET /console/approvals",
        "GET /api/v1/console/campaigns",
        "GET /api/v1/console/campaigns/{campaign_id}",
        "GET /api/v1/console/draws",
        "GET /api/v1/console/draws/{draw_id}",
        "GET /api/v1/console/cases",
        "GET /api/v1/console/cases/{case_id}",
        "GET /api/v1/console/complaints",
        "GET /api/v1/console/complaints/{complaint_id}/history",
        "GET /api/v1/console/held-ratings",
        "GET /api/v1/console/listings",
        "GET /api/v1/console/listings/{offer_id}",
        "GET /api/v1/console/points/grants",
        "GET /api/v1/console/points/grants/{grant_id}",
        "GET /api/v1/console/providers",
        "GET /api/v1/console/providers/{provider_id}",
        "GET /api/v1/console/settlements",
        "GET /api/v1/console/settlements/{statement_id}",
        "GET /api/v1/console/approvals",
        "GET /api/v1/console/approvals/{approval_id}",
        "GET /api/v1/federation/nodes/{node_id}",
    ),
    "members.read": (
        "GET /console/members/{member_id}",
        "GET /console/nodes/{node_id}",
        "GET /console/nodes/{node_id}/members",
        "GET /api/v1/console/members/{member_id}",
        "GET /api/v1/federation/nodes/{node_id}/members",
    ),
    "members.reveal": ("POST /console/members/{member_id}/reveal", "POST /api/v1/console/members/{member_id}/reveal"),
    "members.manage": (
        "GET /console/roster/template.csv",
        "POST /console/members/{member_id}/leave",
        "POST /console/members/{member_id}/transfer",
        "GET /console/roster",
        "POST /console/roster",
        "GET /console/roster/{import_id}",
        "GET /console/roster/{import_id}/progress",
        "POST /api/v1/federation/members",
        "POST /api/v1/federation/members/{member_id}/leave",
        "POST /api/v1/federation/members/{member_id}/transfer",
        "POST /api/v1/federation/roster-imports",
        "GET /api/v1/federation/roster-imports/{import_id}",
    ),
    "team.manage": (
        "POST /console/team/operators/{operator_id}/password-reset",
        "POST /console/team/operators/{operator_id}/two-factor-reset",
        "GET /console/team",
        "POST /console/team/nodes",
        "POST /console/team/operators",
        "POST /console/team/operators/{operator_id}",
        "POST /api/v1/console/nodes",
        "GET /api/v1/console/operators",
        "POST /api/v1/console/operators",
        "POST /api/v1/console/operators/{operator_id}",
    ),
    "audit.read": ("GET /console/audit", "GET /api/v1/console/audit"),
    "evaluators.manage": (
        "GET /console/evaluators",
        "POST /console/evaluators/{org_id}/keys",
        "POST /console/evaluators/keys/{key_id}/revoke",
        "GET /api/v1/console/evaluators",
        "POST /api/v1/console/evaluators/{org_id}/keys",
        "POST /api/v1/console/evaluators/keys/{key_id}/revoke",
    ),
    "providers.review": (
        "POST /console/listings/bulk",
        "POST /console/providers/bulk",
        "POST /console/providers/{provider_id}/decide",
        "POST /console/listings/{offer_id}/approve",
        "POST /console/listings/{offer_id}/reject",
        "POST /api/v1/console/providers/{provider_id}/decisions",
        "POST /api/v1/console/listings/{offer_id}/approve",
        "POST /api/v1/console/listings/{offer_id}/reject",
    ),
    "quality.decide": (
        "POST /console/cases/new",
        "POST /console/prepaid-freezes",
        "POST /console/prepaid-freezes/{freeze_id}/lift",
        "POST /console/cases/{case_id}/appeal-decision",
        "POST /console/cases/{case_id}/decision",
        "POST /console/complaints/{complaint_id}/close",
        "POST /console/complaints/{complaint_id}/forward",
        "POST /console/held-ratings/{rating_id}",
        "POST /console/complaints/bulk",
        "POST /console/held-ratings/bulk",
        "POST /api/v1/console/cases/{case_id}/appeal-decision",
        "POST /api/v1/console/cases/{case_id}/decision",
        "POST /api/v1/console/complaints/{complaint_id}/close",
        "POST /api/v1/console/complaints/{complaint_id}/forward",
        "POST /api/v1/console/held-ratings/{rating_id}",
    ),
    "policy.manage": ("POST /console/policy", "POST /api/v1/console/policies"),
    "campaigns.manage": (
        "GET /console/offers/picker",
        "POST /console/campaigns",
        "POST /console/draws",
        "POST /console/draws/{draw_id}/run",
        "POST /console/campaigns/{campaign_id}/{action}",
        "POST /api/v1/console/campaigns",
        "POST /api/v1/console/campaigns/{campaign_id}/end",
        "POST /api/v1/console/campaigns/{campaign_id}/funding",
        "POST /api/v1/console/campaigns/{campaign_id}/pause",
        "POST /api/v1/console/campaigns/{campaign_id}/resume",
        "POST /api/v1/console/draws",
        "POST /api/v1/console/draws/{draw_id}/run",
    ),
    "points.grant": (
        "POST /console/points/adjustments",
        "POST /console/points/grants",
        "POST /api/v1/console/points/grants",
        "POST /api/v1/console/points/members/{member_id}/adjustments",
    ),
    "settlements.manage": (
        "POST /console/settlements/draft",
        "POST /console/settlements/{statement_id}/approve",
        "POST /console/settlements/bulk",
        "POST /console/settlements/{statement_id}/close",
        "POST /console/prepaid/outside/{outside_id}/resolve",
        "POST /api/v1/console/settlements/drafts",
        "POST /api/v1/console/settlements/{statement_id}/approve",
        "POST /api/v1/console/settlements/{statement_id}/close",
    ),
    "settlements.pay": (
        "POST /console/settlements/{statement_id}/pay",
        "POST /api/v1/console/settlements/{statement_id}/pay",
    ),
    "approvals.decide": (
        "POST /console/approvals/{approval_id}/approve",
        "POST /console/approvals/{approval_id}/reject",
        "POST /api/v1/console/approvals/{approval_id}/approve",
        "POST /api/v1/console/approvals/{approval_id}/reject",
    ),
    "payouts.account": (
        "POST /console/settlements/{statement_id}/payout-account",
        "PUT /api/v1/console/providers/{provider_id}/payout-account",
    ),
    "provider.self": (
        "GET /provider/password",
        "POST /provider/password",
        "POST /provider/logout",
    ),
    "provider.read": (
        "GET /provider",
        "GET /provider/profile",
        "GET /provider/offers",
        "GET /provider/offers/{offer_id}",
        "GET /provider/locations",
        "GET /api/v1/provider/me",
        "GET /api/v1/provider/me/profile",
        "GET /api/v1/provider/offers",
        "GET /api/v1/provider/offers/{offer_id}",
    ),
    "provider.counter": (
        "GET /provider/counter",
        "POST /provider/counter/check",
        "POST /provider/counter/redeem",
        "POST /api/v1/counter/check",
        "POST /api/v1/counter/redemptions",
    ),
    "provider.manage": (
        "POST /provider/staff/{user_id}/password-reset",
        "POST /provider/locations",
        "POST /provider/locations/{location_id}",
        "POST /provider/locations/{location_id}/remove",
        "GET /provider/offers/new",
        "POST /provider/offers/new",
        "POST /provider/offers/{offer_id}",
        "POST /provider/offers/{offer_id}/image",
        "POST /provider/offers/{offer_id}/pause",
        "POST /provider/offers/{offer_id}/resume",
        "POST /provider/offers/{offer_id}/submit",
        "POST /provider/profile/resubmit",
        "GET /provider/staff",
        "POST /provider/staff",
        "POST /provider/staff/{user_id}/deactivate",
        "POST /api/v1/provider/me/locations",
        "DELETE /api/v1/provider/me/locations/{location_id}",
        "PUT /api/v1/provider/me/locations/{location_id}",
        "POST /api/v1/provider/me/resubmit",
        "GET /api/v1/provider/me/users",
        "POST /api/v1/provider/me/users",
        "POST /api/v1/provider/me/users/{user_id}/deactivate",
        "POST /api/v1/provider/offers",
        "DELETE /api/v1/provider/offers/{offer_id}",
        "PUT /api/v1/provider/offers/{offer_id}",
        "POST /api/v1/provider/offers/{offer_id}/image",
        "POST /api/v1/provider/offers/{offer_id}/pause",
        "POST /api/v1/provider/offers/{offer_id}/resume",
        "POST /api/v1/provider/offers/{offer_id}/submit",
    ),
    "provider.quality": (
        "GET /provider/reviews",
        "POST /provider/reviews/{rating_id}/reply",
        "GET /provider/complaints",
        "POST /provider/complaints/{complaint_id}/answer",
        "GET /provider/scorecard",
        "GET /provider/standing",
        "POST /provider/cases/{case_id}/appeal",
        "POST /provider/lease",
        "GET /api/v1/provider/cases",
        "POST /api/v1/provider/cases/{case_id}/appeal",
        "GET /api/v1/provider/complaints",
        "POST /api/v1/provider/complaints/{complaint_id}/answer",
        "GET /api/v1/provider/standing",
    ),
    "provider.settlements": (
        "GET /provider/settlements",
        "GET /provider/settlements/{statement_id}",
        "GET /provider/settlements/{statement_id}/statement.csv",
        "GET /api/v1/provider/me/settlements",
        "GET /api/v1/provider/me/settlements/{statement_id}",
        "GET /provider/prepaid",
    ),
}

ROUTES: dict[str, str] = {}
for _permission, _routes in ROUTES_BY_PERMISSION.items():
    for _route in _routes:
        assert _route not in ROUTES, f"{_route} is declared twice"
        ROUTES[_route] = _permission

_PARAM = re.compile(r"{(\w+):[^}]+}")


def route_key(method: str, path: str) -> str:
    """ "POST", "/x/{id:int}" (or Litestar's path format "/x/{id}") → "POST /x/{id}"."""
    return method.upper() + " " + _PARAM.sub(r"{\1}", path)


def permission_of(method: str, path: str) -> str | None:
    return ROUTES.get(route_key(method, path))


# A route template's permission, by method and Litestar's template: `enforce` asks on every
# request, and the template's regular-expression rewrite cost more than the check itself.
_TEMPLATE_PERMISSIONS: dict[tuple[str, str], str | None] = {}


def _template_permission(method: str, template: str) -> str | None:
    key = (method, template)
    try:
        return _TEMPLATE_PERMISSIONS[key]
    except KeyError:
        permission = _TEMPLATE_PERMISSIONS[key] = permission_of(method, template)
        return permission


def audience_of(method: str, template: str) -> str | None:
    """Who a route is for (its permission's audience: "member", "operator", ...), None when
    the table does not know it."""
    permission = _template_permission(method, template)
    return PERMISSIONS[permission][0] if permission else None


def holds(principal, permission: str) -> bool:
    """True when the principal's kind and role hold `permission`."""
    audience, roles, _ = PERMISSIONS[permission]
    if audience == "anyone":
        return permission == "public" or principal is not None
    if principal is None or principal.kind != audience:
        return False
    return not roles or principal.role in roles


def may_open(principal, href: str) -> bool:
    """For navigation: False when the principal may not open the page at `href` (a link
    the table does not know stays shown)."""
    permission = permission_of("GET", href.split("?")[0])
    return permission is None or holds(principal, permission)


def require(principal, permission: str) -> None:
    """For services: refuse a principal without `permission` (a 403 naming the role)."""
    if not holds(principal, permission):
        raise Forbidden("Your role does not allow this.", code="role_required", permission=permission)


def enforce(principal, method: str, template: str) -> None:
    """For every route (guards.check_route): the route's permission, from the table, for
    operators and provider users.

    Who is not signed in, or is of another kind, is left to the route's own guards
    (401 not_signed_in, 403 wrong_role); this decides between the roles of one kind."""
    if principal is None or principal.kind not in ("operator", "provider"):
        return
    permission = _template_permission(method, template)
    if permission is None:
        # Not in the table (tests/test_permissions.py fails until it is): only the top role.
        if principal.role in ("administrator", "owner"):
            return
        raise Forbidden("Your role does not allow this.", code="role_required")
    audience, roles, _ = PERMISSIONS[permission]
    if audience == principal.kind and roles and principal.role not in roles:
        if roles == {"owner"}:
            raise Forbidden("Only the provider's owner may do this.", code="owner_only", permission=permission)
        raise Forbidden("Your role does not allow this.", code="role_required", permission=permission)


def table_markdown() -> str:
    """The table for docs/permissions.md: permission, roles, what it allows, routes."""
    roles = (*OPERATOR_ROLES, *PROVIDER_ROLES)
    lines = ["| permission | " + " | ".join(roles) + " | allows |", "|---" * (len(roles) + 2) + "|"]
    for name, (audience, holders, text) in PERMISSIONS.items():
        if audience not in ("operator", "provider"):
            continue
        marks = ["✓" if role in holders else "" for role in roles]
        lines.append(f"| `{name}` | " + " | ".join(marks) + f" | {text} |")
    return "\n".join(lines) + "\n"
