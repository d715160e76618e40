"""Member pages that find offers: home, search, offer detail, provider page.

Templates live in catalog/search/templates/catalog/search/. Thin handlers: parse the
query, call one service, render. A bad query re-renders the search page with the
message; an offer or provider out of reach is a 404 page.
"""

import json
from urllib.parse import quote, urlencode

from litestar import Request, get
from litestar.response import Template

from catalog.search import service
from catalog.search.schemas import SearchQuery
from marketplace.core import dates, pii
from marketplace.core.errors import Invalid
from marketplace.core.web import i18n, page_parts
from marketplace.core.web.params import Id

FEATURED = 6


def _coordinates(request: Request) -> tuple[float | None, float | None]:
    """Optional lat/lng of the viewer (from the browser's geolocation), ignored when bad."""
    try:
        lat, lng = float(request.query_params["lat"]), float(request.query_params["lng"])
    except (KeyError, ValueError):
        return None, None
    return (lat, lng) if -90 <= lat <= 90 and -180 <= lng <= 180 else (None, None)


def _link(params: dict[str, str]):
    """`link(sort="price", page=None)`: this search's URL with some parameters changed."""

    def link(**changes) -> str:
        merged = {**params, **{key: value for key, value in changes.items()}}
        kept = {key: str(value) for key, value in merged.items() if value not in (None, "")}
        return "/search" + (f"?{urlencode(kept)}" if kept else "")

    return link


def map_links(location: dict) -> dict[str, str]:
    """Navigation links for a location: 高德 (Amap) and 百度 map pages with a marker at its
    coordinates (stored in GCJ-02, as the provider picked them on a Chinese map), which open
    the map app on a phone when it is installed."""
    lat, lng = location["latitude"], location["longitude"]
    name = quote(location.get("name") or "")
    address = quote(location.get("address") or "")
    return {
        "amap": f"https://uri.amap.com/marker?position={lng:.6f},{lat:.6f}&name={name}&coordinate=gaode&callnative=1",
        "baidu": (
            f"https://api.map.baidu.com/marker?location={lat:.6f},{lng:.6f}&title={name}&content={address}"
            "&output=html&coord_type=gcj02&src=webapp.union.benefits"
        ),
    }


def _located(locations: list[dict]) -> list[dict]:
    """Locations as the member pages show them: hours as runs of days, a tel: number, map links."""
    from marketplace.core.web.pages import _hour_runs  # the shell's page kit (the portal shows hours the same way)

    shown = []
    for location in locations:
        hours = location.get("opening_hours")
        if isinstance(hours, str):
            try:
                hours = json.loads(hours or "{}")
            except ValueError:
                hours = {}
        phone = (location.get("phone") or "").strip()
        shown.append({**location, "hours": _hour_runs(hours), "phone": phone, "maps": map_links(location)})
    return shown


async def _category_names() -> dict[str, str]:
    english = i18n.current_locale.get() == "en"
    return {row["code"]: row["name_en"] if english else row["name_zh"] for row in await service.categories()}


@get("/", include_in_schema=False)
async def member_home(request: Request) -> Template:
    user = request.user
    featured = await service.search(user, SearchQuery(sort="newest", page_size=FEATURED), record_miss=False)
    districts = sorted(featured.facets.district)
    return Template(
        template_name="catalog/search/home.html",
        context={
            "greeting": pii.mask_name(user.display_name) if user and user.kind == "member" else None,
            "categories": await service.categories(),
            "featured": featured,
            "districts": districts,
            "popular": await service.popular_searches(user),
            **await page_parts.fill("home_member", request),  # the member's points balance
        },
    )


@get("/search", include_in_schema=False)
async def search_page(request: Request) -> Template:
    params = dict(request.query_params)
    # 离我最近 without the browser's position (location refused, or no JavaScript): say why and
    # offer the districts instead of refusing the search.
    near_me_fallback = (params.get("sort") == "distance" or bool(params.get("radius_m"))) and not (
        params.get("lat") and params.get("lng")
    )
    if near_me_fallback:
        params = {key: value for key, value in params.items() if key not in ("sort", "radius_m", "lat", "lng")}
    error, result, query = None, None, None
    try:
        query = service.parse_query(params)
        result = await service.search(request.user, query)
    except Invalid as invalid:
        error = invalid.translated()
    context = {
        "query": query or SearchQuery(q=params.get("q", "")[:100]),
        "params": params,
        "result": result,
        "error": error,
        "link": _link(params),
        "category_names": await _category_names(),
        "popular": await service.popular_searches(request.user),
        "near_me_fallback": near_me_fallback,
    }
    if result is not None and result.total == 0:
        # Never a dead end: categories, and the newest offers this member may claim.
        context["categories"] = await service.categories()
        context["latest"] = await service.search(
            request.user, SearchQuery(sort="newest", page_size=3), record_miss=False
        )
    if request.headers.get("hx-request") and result is not None and query is not None and query.page > 1:
        return Template(template_name="catalog/search/_hits.html", context=context)
    return Template(template_name="catalog/search/search.html", context=context, status_code=422 if error else 200)


@get("/offers/{offer_id:int}", include_in_schema=False)
async def offer_page(request: Request, offer_id: Id) -> Template:
    lat, lng = _coordinates(request)
    detail = await service.offer_detail(request.user, offer_id, lat, lng)
    detail["locations"] = _located(detail["locations"])
    return Template(
        template_name="catalog/search/offer.html",
        context={
            **detail,
            "valid_from": dates.day_text(detail["offer"]["valid_from"]),
            "cover": service.cover_of(detail["offer"].get("cover_image")),
            # Ratings and reviews (evaluation), the 收藏 button (marketplace.favourites).
            **await page_parts.fill("offer_reviews", request, detail),
            **await page_parts.fill("offer_favourite", request, detail),
            # Inclusive: an offer "valid until 2027-02-28" ends at the next midnight.
            "valid_until": dates.last_day_text(detail["offer"]["valid_to"]),
            **await page_parts.fill("offer_actions", request, detail),
            # An offer given by draw: its draw instead of the claim (marketplace.draws).
            **await page_parts.fill("offer_draw", request, detail),
        },
    )


@get("/providers/{provider_id:int}", include_in_schema=False)
async def provider_page(request: Request, provider_id: Id) -> Template:
    detail = await service.provider_detail(request.user, provider_id)
    detail["provider"] = {**detail["provider"], "locations": _located(detail["provider"]["locations"])}
    # The shop's picture: the cover of its newest offer with one (providers upload covers per offer).
    cover = next((hit.cover_image for hit in detail["result"].hits if hit.cover_image), None)
    return Template(
        template_name="catalog/search/provider.html",
        context={
            **detail,
            "cover": service.cover_of(cover),
            **await page_parts.fill("provider_reviews", request, detail),
            **await page_parts.fill("provider_favourite", request, detail),
        },
    )


# How often the fragment asks again, a second apart, when the engine was too busy to
# suggest titles in time: a member on a busy evening still sees suggestions a moment late.
SUGGEST_ASKS = 3


@get("/search/suggest", include_in_schema=False)
async def suggestions(request: Request) -> Template:
    """Suggestions while typing (an HTMX fragment; empty when the box is)."""
    found = await service.suggest(request.user, request.query_params.get("q", "")[:100])
    try:
        asked = min(int(request.query_params.get("asked", "1")), SUGGEST_ASKS)
    except ValueError:
        asked = 1
    again = asked + 1 if found.busy and asked < SUGGEST_ASKS else None
    return Template(template_name="catalog/search/_suggestions.html", context={"suggestions": found, "again": again})


ROUTES: list = [member_home, search_page, suggestions, offer_page, provider_page]
