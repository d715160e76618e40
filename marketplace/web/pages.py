"""Server-rendered pages of the four web areas: member site (/), provider portal
(/provider), operator console (/console), evaluator desk (/evaluator).

Thin handlers: read the form, call one service, render. Sign-in errors re-render the
form with the message instead of a problem body.
"""

from dataclasses import dataclass
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from catalog import services as catalog
from evaluation import services as evaluation
from marketplace import pii
from marketplace.errors import DomainError
from marketplace.federation import services as federation
from marketplace.identity import guards, services as identity
from marketplace.identity.controllers import client_address
from marketplace.identity.middleware import AUDIENCE_COOKIES, MEMBER_COOKIE
from marketplace.settings import get_settings
from marketplace.web import i18n
from providers import services as providers

# kind → (area prefix, cookie name, login template)
AREAS = {
    "member": ("", MEMBER_COOKIE[1]),
    **{kind: (prefix, cookie) for prefix, (kind, cookie) in AUDIENCE_COOKIES.items()},
}


@dataclass
class LoginForm:
    username: str = ""
    password: str = ""


Form = Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


def _login_page(kind: str, error: str | None = None, username: str = "", status: int = 200) -> Template:
    return Template(template_name=f"login_{kind}.html",
                    context={"error": error, "username": username, "kind": kind}, status_code=status)


async def _sign_in(request: Request, kind: str, form: LoginForm) -> Response:
    prefix, cookie = AREAS[kind]
    try:
        secret = form.password if kind != "evaluator" else form.password.strip()
        token, expires_at = await identity.sign_in(
            kind, form.username, secret, client_address(request), "cookie")
    except DomainError as error:
        return _login_page(kind, i18n.gettext(error.detail), form.username, error.status)
    response = Redirect(path=prefix + "/")
    response.set_cookie(
        cookie, token, path=prefix or "/", httponly=True, samesite="lax",
        secure=get_settings().security.secure_cookies, expires=int(expires_at.timestamp()),
    )
    return response


async def _sign_out(request: Request, kind: str) -> Response:
    prefix, cookie = AREAS[kind]
    if request.user is not None:
        await identity.sign_out(request.user)
    response = Redirect(path=prefix + "/login")
    response.delete_cookie(cookie, path=prefix or "/")
    return response


@get("/lang/{locale:str}", include_in_schema=False)
async def switch_language(request: Request, locale: str) -> Redirect:
    target = request.headers.get("referer") or "/"
    response = Redirect(path=target if target.startswith(("/", str(request.base_url))) else "/")
    if locale in i18n.LOCALES:
        response.set_cookie(i18n.LANG_COOKIE, locale, path="/", max_age=365 * 86400, samesite="lax")
    return response


# Member site ---------------------------------------------------------------------------

@get("/", include_in_schema=False)
async def member_home(request: Request) -> Template:
    user = request.user
    offers = await catalog.visible_offers(user.node_path if user else None, user.groups if user else ())
    greeting = pii.mask_name(user.display_name) if user else None
    return Template(template_name="member/home.html", context={"offers": offers, "greeting": greeting})


@get("/login", include_in_schema=False)
async def member_login_page() -> Template:
    return _login_page("member")


@post("/login", include_in_schema=False)
async def member_login(request: Request, data: Form) -> Response:
    return await _sign_in(request, "member", data)


@post("/logout", include_in_schema=False)
async def member_logout(request: Request) -> Response:
    return await _sign_out(request, "member")


@get("/me", guards=[guards.member], include_in_schema=False)
async def member_account(request: Request) -> Template:
    node = await federation.get_node(request.user.node_id)
    return Template(template_name="member/account.html",
                    context={"name": request.user.display_name, "node": node, "groups": request.user.groups})


# Provider portal -----------------------------------------------------------------------

@get("/provider/login", include_in_schema=False)
async def provider_login_page() -> Template:
    return _login_page("provider")


@post("/provider/login", include_in_schema=False)
async def provider_login(request: Request, data: Form) -> Response:
    return await _sign_in(request, "provider", data)


@post("/provider/logout", include_in_schema=False)
async def provider_logout(request: Request) -> Response:
    return await _sign_out(request, "provider")


@get("/provider/", guards=[guards.provider_user], include_in_schema=False)
async def provider_dashboard(request: Request) -> Template:
    provider_id = request.user.provider_id
    return Template(template_name="provider/dashboard.html", context={
        "provider": await providers.get_provider(provider_id),
        "locations": await providers.list_locations(provider_id),
        "offers": await catalog.provider_offers(provider_id),
    })


# Operator console ----------------------------------------------------------------------

@get("/console/login", include_in_schema=False)
async def console_login_page() -> Template:
    return _login_page("operator")


@post("/console/login", include_in_schema=False)
async def console_login(request: Request, data: Form) -> Response:
    return await _sign_in(request, "operator", data)


@post("/console/logout", include_in_schema=False)
async def console_logout(request: Request) -> Response:
    return await _sign_out(request, "operator")


@get(["/console/", "/console/nodes/{node_id:int}"], guards=[guards.operator], include_in_schema=False)
async def console_dashboard(request: Request, node_id: int | None = None) -> Template:
    summary = await federation.node_summary(request.user, node_id or request.user.node_id)
    counts = {child.id: await federation.count_members(child.path) for child in summary.children}
    return Template(template_name="console/dashboard.html", context={"summary": summary, "counts": counts})


# Evaluator desk ------------------------------------------------------------------------

@get("/evaluator/login", include_in_schema=False)
async def evaluator_login_page() -> Template:
    return _login_page("evaluator")


@post("/evaluator/login", include_in_schema=False)
async def evaluator_login(request: Request, data: Form) -> Response:
    return await _sign_in(request, "evaluator", data)


@post("/evaluator/logout", include_in_schema=False)
async def evaluator_logout(request: Request) -> Response:
    return await _sign_out(request, "evaluator")


@get("/evaluator/", guards=[guards.evaluator], include_in_schema=False)
async def evaluator_dashboard(request: Request) -> Template:
    org = await evaluation.get_org(request.user.id)
    node = await federation.get_node(request.user.node_id)
    return Template(template_name="evaluator/dashboard.html", context={"org": org, "node": node})


ROUTES = [
    switch_language,
    member_home, member_login_page, member_login, member_logout, member_account,
    provider_login_page, provider_login, provider_logout, provider_dashboard,
    console_login_page, console_login, console_logout, console_dashboard,
    evaluator_login_page, evaluator_login, evaluator_logout, evaluator_dashboard,
]
