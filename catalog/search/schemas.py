"""Search request and response bodies."""

from typing import Annotated, Literal

import msgspec

Sort = Literal["relevance", "distance", "price", "price_desc", "discount", "rating", "newest"]
Kind = Literal["voucher", "paid", "points", "slot"]
# "points": paid in points, never counted as free.
PriceBand = Literal["free", "under_50", "50_200", "200_500", "over_500", "points"]


class SearchQuery(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    q: Annotated[str, msgspec.Meta(max_length=100)] = ""
    category: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    kind: Kind | None = None
    provider_id: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)] | None = None
    district: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    price_band: PriceBand | None = None
    min_price: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] | None = None
    max_price: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] | None = None
    open_now: bool = False
    has_stock: bool = False
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    radius_m: Annotated[int, msgspec.Meta(ge=100, le=200_000)] | None = None
    sort: Sort = "relevance"
    page: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1
    page_size: Annotated[int, msgspec.Meta(ge=1, le=50)] = 20
    # Search these words as typed, without correcting them ("search instead for ...").
    exact: bool = False


class SearchHit(msgspec.Struct, kw_only=True):
    offer_id: int
    title_zh: str
    title_en: str
    # HTML: the title escaped, with <mark> around the matched words.
    title_zh_highlighted: str
    title_en_highlighted: str
    kind: str
    category: str
    category_zh: str
    category_en: str
    provider_id: int
    provider_name: str
    district: str | None
    list_price_fen: int
    member_price_fen: int
    subsidy_fen: int
    discount_ratio: float
    price_band: str
    stock_left: int
    tags: list[str]
    groups: list[str]
    distance_m: int | None = None
    rating: float | None = None
    cover_image: str | None = None
    points_price: int | None = None  # points offers: what they cost (catalog/pricing.py)
    # Prepaid packages: N sessions (None: a period membership) valid N months.
    package_sessions: int | None = None
    package_months: int | None = None


class Facets(msgspec.Struct):
    category: dict[str, int]
    kind: dict[str, int]
    district: dict[str, int]
    price_band: dict[str, int]


class SearchResult(msgspec.Struct, kw_only=True):
    hits: list[SearchHit]
    total: int
    page: int
    page_size: int
    facets: Facets
    degraded: bool
    took_ms: float
    # The words searched (normalised: simplified, lower case), and what was typed when
    # they are a correction of it (游永 → 游泳).
    query: str = ""
    corrected_from: str | None = None


class Suggestions(msgspec.Struct, kw_only=True):
    """What to offer while a member types."""

    query: str
    titles: list[str]
    categories: list[dict]
    popular: list[str]
    # The engine was up but did not answer in time: the page asks again in a moment.
    busy: bool = False
