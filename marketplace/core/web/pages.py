"""The pages every web area shares: sign-in and sign-out of the member site (/), provider
portal (/provider), operator console (/console) and evaluator desk (/evaluator), the
language switch and large text. Each area's home page is the shell's (marketplace/dashboards.py).

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

from marketplace.core.errors import DomainError, TooManyRequests
from marketplace.core.identity import services as identity
from marketplace.core.identity.controllers import client_address
from marketplace.core.identity.middleware import WEB_AREAS, area_of
from marketplace.core.settings import get_settings
from marketplace.core.web import i18n, large_text


@dataclass
class LoginForm:
    username: str = ""
    password: str = ""
    otp: str = ""  # operators with two-factor sign-in
    next: str = ""  # where to go after signing in (a path of the same area), e.g. the offer


Form = URLEncodedBody[LoginForm]


# Presentation helpers -------------------------------------------------------------------

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


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


def _login_page(
    kind: str, error: str | None = None, username: str = "", status: int = 200, next_path: str | None = None
) -> Template:
    return Template(
        template_name=f"login_{kind}.html",
        status_code=status,
        context={"error": error, "username": username, "kind": kind, "next": next_path},
    )


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
    try:
        secret = form.password if kind != "evaluator" else form.password.strip()
        token, expires_at = await identity.sign_in(
            kind, form.username, secret, client_address(request), "cookie", otp=form.otp or None
        )
    except DomainError as error:
        return _login_page(kind, _login_error(error), form.username, error.status, safe_next(kind, form.next))
    return signed_in(kind, token, expires_at, safe_next(kind, form.next) or WEB_AREAS[kind][0] + "/")


def signed_in(kind: str, token: str, expires_at: datetime, path: str) -> Response:
    """A redirect to `path` that carries a new session cookie of `kind`'s area."""
    prefix, cookie = WEB_AREAS[kind]
    response = Redirect(path=path)
    # Staff sessions slide with activity on the server (30 idle minutes, 12 hours at most),
    # so their cookie lives as long as the browser; a member's lasts as long as the session.
    lifetime = int((expires_at - datetime.now(UTC)).total_seconds())
    response.set_cookie(
        cookie,
        token,
        path=prefix or "/",
        httponly=True,
        samesite="lax",
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


ROUTES = [
    switch_language,
    *large_text.ROUTES,
    *(route for kind in WEB_AREAS for route in _sign_in_routes(kind)),
]
