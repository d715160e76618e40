"""长辈模式: the large-text mode of the member site, after MIIT's 适老化 rules.

A member (signed in or not) turns it on with a switch on the home page or in 我的; the
choice is a cookie, and every member page renders `<html class="large-text">` from it,
so it works without JavaScript and from the first paint. What it changes is in app.css
("长辈模式"): body text ≥ 18 px, line spacing ≥ 1.3, tap targets ≥ 48 px, no
promotional blocks, errors said in words as well as colour.
"""

from typing import Any

from litestar import Request, post
from litestar.response import Redirect

from marketplace.core.identity.middleware import area_of

COOKIE = "large_text"
ON = "1"


def enabled(request: Any = None) -> bool:
    """Whether the page being rendered for `request` uses the large-text mode: member
    pages only (the provider portal, console and evaluator desk keep their size)."""
    cookies = getattr(request, "cookies", None)
    if not cookies or cookies.get(COOKIE) != ON:
        return False
    return area_of(request.url.path) == "member" and not request.url.path.startswith("/api/")


@post("/large-text", include_in_schema=False)
async def switch_large_text(request: Request) -> Redirect:
    """A form POST from the switch: on=1 turns the mode on, on=0 off; back to `next`."""
    from marketplace.core.web.pages import safe_next  # pages imports the web config, which imports this

    form = await request.form()
    turn_on = (form.get("on") or "") == ON
    response = Redirect(path=safe_next("member", form.get("next")) or "/")
    if turn_on:
        response.set_cookie(COOKIE, ON, path="/", max_age=5 * 365 * 86400, samesite="lax", httponly=True)
    else:
        response.delete_cookie(COOKIE, path="/")
    return response


ROUTES = [switch_large_text]
