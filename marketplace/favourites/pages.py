"""收藏 pages: the toggle on offer and provider pages (HTMX swaps the button; without
JavaScript the same form posts and comes back to the page), and the list in 我的
(/me/favourites) with both kinds. Signed-out visitors get a sign-in link that returns to
the page they were on."""

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from marketplace.core.identity import guards
from marketplace.core.web import page_parts
from marketplace.core.web.params import BigId, Id
from marketplace.favourites import services


def _button(kind: str, target_id: int, kept: bool, signed_in: bool = True) -> dict:
    back = f"/{kind}s/{target_id}"
    return {
        "favourite": {
            "kind": kind,
            "id": target_id,
            "kept": kept,
            "signed_in": signed_in,
            "back": back,
            "action": f"/favourites/{kind}s/{target_id}",
        }
    }


async def _part(request: Request, kind: services.Kind, target_id: int) -> dict:
    user = request.user
    signed_in = user is not None and user.kind == "member"
    return _button(kind, target_id, await services.is_kept(user, kind, target_id), signed_in)


async def offer_part(request: Request, detail: dict) -> dict:
    return await _part(request, "offer", detail["offer"]["id"])


async def provider_part(request: Request, detail: dict) -> dict:
    return await _part(request, "provider", detail["provider"]["id"])


page_parts.register("offer_favourite", offer_part)
page_parts.register("provider_favourite", provider_part)


async def _toggle(request: Request, kind: services.Kind, target_id: int) -> Response:
    keep = (await request.form()).get("keep")
    kept = (
        await services.set_kept(request.user, kind, target_id, keep == "1")
        if keep in ("0", "1")
        else await services.toggle(request.user, kind, target_id)
    )
    if request.headers.get("hx-request"):
        return Template(template_name="favourites/_toggle.html", context=_button(kind, target_id, kept))
    return Redirect(path=f"/{kind}s/{target_id}?kept={int(kept)}")


@post("/favourites/offers/{offer_id:int}", guards=[guards.member], include_in_schema=False)
async def toggle_offer(request: Request, offer_id: BigId) -> Response:
    return await _toggle(request, "offer", offer_id)


@post("/favourites/providers/{provider_id:int}", guards=[guards.member], include_in_schema=False)
async def toggle_provider(request: Request, provider_id: Id) -> Response:
    return await _toggle(request, "provider", provider_id)


@get("/me/favourites", guards=[guards.member], include_in_schema=False)
async def my_favourites(request: Request) -> Template:
    shown = request.query_params.get("tab")
    kept = await services.mine(request.user)
    return Template(
        template_name="favourites/list.html",
        context={**kept, "shown": "providers" if shown == "providers" else "offers"},
    )


ROUTES: list = [toggle_offer, toggle_provider, my_favourites]
