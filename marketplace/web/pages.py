"""Server-rendered pages of the four web areas: member site (/), provider portal
(/provider), operator console (/console), evaluator desk (/evaluator).

Thin handlers: read the form, call one service, render. Sign-in errors re-render the
form with the message instead of a problem body.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from catalog import services as catalog
from evaluation.complaints import services as complaints
from evaluation.enforcement import policy as quality
from evaluation.evaluators import services as evaluation
from evaluation.scorecards import services as scorecards
from marketplace import dates
from marketplace.errors import DomainError, TooManyRequests
from marketplace.favourites import services as favourites
from marketplace.federation import consent, services as federation
from marketplace.identity import guards, services as identity
from marketplace.identity.controllers import client_address
from marketplace.identity.middleware import WEB_AREAS, area_of
from marketplace.points import services as points
from marketplace.settings import get_settings
from marketplace.vouchers import services as vouchers
from marketplace.web import i18n, large_text
from marketplace.web.params import Id
from providers import services as providers


@dataclass
class LoginForm:
    username: str = ""
    password: str = ""
    otp: str = ""  # operators with two-factor sign-in
    next: str = ""  # where to go after signing in (a path of the same area), e.g. the offer


Form = URLEncodedBody[LoginForm]


# Presentation helpers -------------------------------------------------------------------

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _with_dates(offers: list[dict]) -> list[dict]:
    # Inclusive: "valid until 2027-02-28" is stored as the next midnight (marketplace/dates.py).
    return [{**offer, "valid_until": dates.last_day_text(offer.get("valid_to")) or None} for offer in offers]


def _hour_runs(opening_hours) -> list[tuple[str, str, str, str]]:
    """{"mon": ["09:00", "21:00"], ...} as runs of consecutive days with the same hours:
    [("mon", "fri", "09:00", "21:00"), ("sat", "sat", "09:00", "18:00")]. Closed days are absent."""
    if isinstance(opening_hours, str):
        try:
            opening_hours = json.loads(opening_hours or "{}")
        except ValueError:
            return []
    if not isinstance(opening_hours, dict):
        return []
    runs: list[list[str]] = []
    previous = None
    for day in WEEKDAYS:
        hours = opening_hours.get(day)
        if not (isinstance(hours, (list, tuple)) and len(hours) == 2):
            previous = None
            continue
        if runs and previous == _day_before(day) and runs[-1][2:] == list(hours):
            runs[-1][1] = day
        else:
            runs.append([day, day, str(hours[0]), str(hours[1])])
        previous = day
    return [tuple(run) for run in runs]


def _day_before(day: str) -> str:
    return WEEKDAYS[WEEKDAYS.index(day) - 1]


def _login_error(error: DomainError) -> str:
    if isinstance(error, TooManyRequests):
        return error.translated()
    return error.translated()


def _login_page(kind: str, error: str | None = None, username: str = "", status: int = 200,
                next_path: str | None = None) -> Template:
    return Template(template_name=f"login_{kind}.html", status_code=status,
                    context={"error": error, "username": username, "kind": kind, "next": next_path})


def safe_next(kind: str, text: str | None) -> str | None:
    """A path of this site and of this sign-in's area to return to, or None: never another
    host ("//evil.example", "https://..."), never another area's pages, never a way to
    inject a header."""
    text = (text or "").strip()
    if not text.startswith("/") or text.startswith("//") or "\\" in text or len(text) > 500:
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        return None
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or parts.path.endswith("/login") or parts.path.endswith("/logout"):
        return None
    if area_of(parts.path) != kind or parts.path.startswith("/api/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def _sign_in(request: Request, kind: str, form: LoginForm) -> Response:
    prefix, cookie = WEB_AREAS[kind]
    try:
        secret = form.password if kind != "evaluator" else form.password.strip()
        token, expires_at = await identity.sign_in(
            kind, form.username, secret, client_address(request), "cookie", otp=form.otp or None)
    except DomainError as error:
        return _login_page(kind, _login_error(error), form.username, error.status, safe_next(kind, form.next))
    response = Redirect(path=safe_next(kind, form.next) or prefix + "/")
    # Staff sessions slide with activity on the server (30 idle minutes, 12 hours at most),
    # so their cookie lives as long as the browser; a member's lasts as long as the session.
    lifetime = int((expires_at - datetime.now(UTC)).total_seconds())
    response.set_cookie(
        cookie, token, path=prefix or "/", httponly=True, samesite="lax",
        secure=get_settings().security.secure_cookies,
        max_age=None if identity.sliding(kind) else lifetime,
    )
    return response


async def _sign_out(request: Request, kind: str) -> Response:
    prefix, cookie = WEB_AREAS[kind]
    if request.user is not None:
        await identity.sign_out(request.user)
    response = Redirect(path=prefix + "/login")
    response.delete_cookie(cookie, path=prefix or "/")
    return response


def _sign_in_routes(kind: str) -> list:
    """The sign-in page, its form and sign-out of one area; every area works the same."""
    prefix, _ = WEB_AREAS[kind]

    @get(f"{prefix}/login", name=f"{kind}_login_page", include_in_schema=False)
    async def login_page(request: Request) -> Template:
        return _login_page(kind, next_path=safe_next(kind, request.query_params.get("next")))

    @post(f"{prefix}/login", name=f"{kind}_login", include_in_schema=False)
    async def login(request: Request, data: Form) -> Response:
        return await _sign_in(request, kind, data)

    @post(f"{prefix}/logout", name=f"{kind}_logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        return await _sign_out(request, kind)

    return [login_page, login, logout]


def _same_site_path(referer: str | None, host: str | None) -> str:
    """The path and query of a Referer on this host, else "/": never a way off-site."""
    if not referer:
        return "/"
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != host:
        return "/"
    path = parts.path if parts.path.startswith("/") and not parts.path.startswith("//") else "/"
    return path + (f"?{parts.query}" if parts.query else "")


@get("/lang/{locale:str}", include_in_schema=False)
async def switch_language(request: Request, locale: FromPath[str]) -> Redirect:
    response = Redirect(path=_same_site_path(request.headers.get("referer"), request.headers.get("host")))
    if locale in i18n.LOCALES:
        response.set_cookie(i18n.LANG_COOKIE, locale, path="/", max_age=365 * 86400, samesite="lax")
    return response


# Member site ---------------------------------------------------------------------------

@get("/me", guards=[guards.member], include_in_schema=False)
async def member_account(request: Request) -> Template:
    node = await federation.get_node(request.user.node_id)
    return Template(template_name="member/account.html",
                    context={"name": request.user.display_name, "node": node, "groups": request.user.groups,
                             "evaluator_contact": await consent.evaluator_contact(request.user),
                             "points_balance": await points.balance_of(request.user.id),
                             "favourite_counts": await favourites.counts(request.user)})


@post("/me/evaluator-contact", guards=[guards.member], include_in_schema=False)
async def member_evaluator_contact(request: Request) -> Redirect:
    """The member allows (allow=1) or withdraws (allow=0) contact by third-party evaluators."""
    allow = ((await request.form()).get("allow") or "") == "1"
    await consent.set_evaluator_contact(request.user, allow)
    return Redirect(path="/me#evaluator-contact")


# Provider portal -----------------------------------------------------------------------

@get("/provider/", guards=[guards.provider_user], include_in_schema=False)
async def provider_dashboard(request: Request) -> Response:
    if request.user.role == "staff":  # front-desk staff work at the counter: they land there
        return Redirect(path="/provider/counter")
    provider_id = request.user.provider_id
    locations = await providers.list_locations(provider_id)
    offers = _with_dates(await catalog.provider_offers(provider_id))
    staff = [user for user in await providers.list_users(provider_id) if user.role == "staff" and user.active]
    scorecard = await scorecards.scorecard_of(provider_id)
    return Template(template_name="provider/dashboard.html", context={
        "provider": await providers.get_provider(provider_id),
        "locations": [{**location, "hours": _hour_runs(location.get("opening_hours"))} for location in locations],
        "offers": offers, "activity": await vouchers.provider_activity(provider_id),
        "open_complaints": await complaints.count_open(provider_id),
        "scorecard": scorecard, "standing": await quality.standing(provider_id),
        "alerts": _alerts(offers), "checklist": _checklist(locations, offers, staff),
        "month": datetime.now(dates.zone()).strftime("%Y-%m"),
    })


LOW_STOCK = 5
EXPIRING_DAYS = 14


def _alerts(offers: list[dict]) -> list[dict]:
    """What an owner should act on soon: published offers running out or ending."""
    now = datetime.now(UTC)
    alerts = []
    for offer in offers:
        if offer["status"] != "published":
            continue
        if offer["stock_left"] <= LOW_STOCK:
            alerts.append({"kind": "stock", "offer": offer})
        if offer.get("valid_to") and (offer["valid_to"] - now).days < EXPIRING_DAYS:
            alerts.append({"kind": "ending", "offer": offer})
    return alerts


def _checklist(locations: list, offers: list[dict], staff: list) -> list[dict] | None:
    """A new owner's first steps, until all are done (then None: the overview shows none)."""
    steps = [
        {"key": "location", "done": bool(locations), "href": "/provider/locations"},
        {"key": "offer", "done": bool(offers), "href": "/provider/offers/new"},
        {"key": "picture", "done": any(offer.get("cover_image") for offer in offers), "href": "/provider/offers"},
        {"key": "publish", "done": any(offer["status"] == "published" for offer in offers), "href": "/provider/offers"},
        {"key": "staff", "done": bool(staff), "href": "/provider/staff"},
    ]
    return None if all(step["done"] for step in steps) else steps


# Operator console ----------------------------------------------------------------------

@get("/console/", guards=[guards.operator], include_in_schema=False)
async def console_dashboard(request: Request) -> Template:
    return await _console_page(request, request.user.node_id, home=True)


@get("/console/nodes/{node_id:int}", guards=[guards.operator], include_in_schema=False)
async def console_node(request: Request, node_id: Id) -> Template:
    return await _console_page(request, node_id)


async def _console_page(request: Request, node_id: int, home: bool = False) -> Template:
    summary = await federation.node_summary(request.user, node_id)
    return Template(template_name="console/dashboard.html", context={
        "summary": summary, "home": home,
        "counts": await federation.child_member_counts(node_id),
        # The breadcrumb; the template links only the nodes inside the operator's scope.
        "ancestors": await federation.ancestors(summary.node),
    })


# Evaluator desk ------------------------------------------------------------------------

@get("/evaluator/", guards=[guards.evaluator], include_in_schema=False)
async def evaluator_dashboard(request: Request) -> Template:
    org = await evaluation.get_org(request.user.id)
    node = await federation.get_node(request.user.node_id)
    return Template(template_name="evaluator/dashboard.html", context={"org": org, "node": node})


ROUTES = [
    switch_language, *large_text.ROUTES,
    member_account, member_evaluator_contact, provider_dashboard, console_dashboard, console_node, evaluator_dashboard,
    *(route for kind in WEB_AREAS for route in _sign_in_routes(kind)),
]
