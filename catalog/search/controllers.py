"""The search API: public; eligibility comes from the bearer token when one is sent."""

from litestar import Controller, Request, get

from catalog.search import service
from catalog.search.schemas import SearchResult, Suggestions


class SearchController(Controller):
    path = "/api/v1/search"
    tags = ["search"]

    @get(
        "",
        summary="Search the offers the caller may claim (text, filters, facets, near me)",
        description="Query parameters: q, category, kind, district, price_band, min_price, max_price "
        "(fen), open_now, has_stock, lat, lng, radius_m, sort (relevance, distance, price, "
        "price_desc, discount, rating, newest), page, page_size, exact (no correction). "
        "`degraded` is true when the answer came from the PostgreSQL fallback (the engine is "
        "down); HTTP 503 `search_busy` when the engine is up but overloaded. `corrected_from` "
        "is what was typed when the hits are for a correction of it (`query`).",
    )
    async def search(self, request: Request) -> SearchResult:
        query = service.parse_query(dict(request.query_params))
        return await service.search(request.user, query)

    @get(
        "/suggest",
        summary="Suggestions while typing: offer titles, categories and popular searches",
        description="Query parameter: q (what has been typed so far).",
    )
    async def suggest(self, request: Request) -> Suggestions:
        return await service.suggest(request.user, request.query_params.get("q", "")[:100])


ROUTES: list = [SearchController]
