"""The search API: public; eligibility comes from the bearer token when one is sent."""

from litestar import Controller, Request, get

from catalog.search import service
from catalog.search.schemas import SearchResult


class SearchController(Controller):
    path = "/api/v1/search"
    tags = ["search"]

    @get("", summary="Search the offers the caller may claim (text, filters, facets, near me)",
         description="Query parameters: q, category, kind, district, price_band, min_price, max_price "
                     "(fen), open_now, has_stock, lat, lng, radius_m, sort (relevance, distance, price, "
                     "price_desc, discount, rating, newest), page, page_size. `degraded` is true when "
                     "the answer came from the PostgreSQL fallback.")
    async def search(self, request: Request) -> SearchResult:
        query = service.parse_query(dict(request.query_params))
        return await service.search(request.user, query)


CONTROLLERS: list = [SearchController]
