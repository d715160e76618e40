"""Search of the offers a visitor may claim: Meilisearch first, PostgreSQL when it is down.

Eligibility is built here from the Principal, never from the client: a member sees
offers scoped to their node or its ancestors, for everyone or for a group they belong
to; anonymous visitors see only offers scoped at the top of the tree and open to all.

The query is normalised as the documents were (traditional → simplified, half-width,
lower case; see text.py). A Chinese query made of no known word but sounding like one
(游永) is searched as that word (游泳), and the answer says so (`corrected_from`); a
query that finds nothing is retried by its pinyin. Hits show the stock PostgreSQL holds
now, not what the index last heard. A search that finds nothing is recorded in
`search_miss`, one that finds offers is counted for the popular searches (no personal
data in either). The engine is asked through the breaker (breaker.py): PostgreSQL
answers only while the engine is down, never because it is slow.
"""

import asyncio
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import structlog
from markupsafe import escape

from catalog import pricing, services as offers
from catalog.search import breaker, index, overlay, terms, text
from catalog.search.schemas import Facets, SearchHit, SearchQuery, SearchResult, Suggestions
from catalog.tables import Category, Offer, SearchMiss
from marketplace.core import dates, db
from marketplace.core.db import engine
from marketplace.core.errors import Invalid, NotFound, Unavailable
from marketplace.core.identity.principal import Principal
from providers import services as providers

log = structlog.get_logger(__name__)

# Past this the engine counts as busy (HTTP 503, try again), not down: see breaker.py.
SEARCH_TIMEOUT_SECONDS = 3.0
# Facet of the answer → the attribute the engine counts for it.
FACETS = {"category": "category", "kind": "kind", "district": "districts", "price_band": "price_band"}
SORTS = {
    "price": "pays_fen:asc",
    "price_desc": "pays_fen:desc",
    "discount": "discount_ratio:desc",
    "rating": "rating:desc",
    "newest": "published_ts:desc",
}


@dataclass(frozen=True)
class Eligibility:
    node_ids: tuple[int, ...] | None  # None: anonymous (top of the tree only)
    groups: tuple[str, ...]

    @classmethod
    def of(cls, principal: Principal | None) -> "Eligibility":
        if principal is None or principal.kind != "member" or not principal.node_path:
            return cls(None, ())
        ids = tuple(int(part) for part in principal.node_path.strip("/").split("/") if part)
        return cls(ids, tuple(principal.groups))


def normalise(query: str | None) -> str:
    return text.normalise(query or "")[:100]


def area_of(who: "Eligibility") -> int:
    """The area popular searches are counted in: the searcher's node at depth 1 (a city such
    as Beijing, or a province), 0 for anonymous visitors."""
    return who.node_ids[1] if who.node_ids and len(who.node_ids) > 1 else 0


def _shanghai_now(now: datetime | None) -> tuple[str, int]:
    local = (now or datetime.now(dates.zone())).astimezone(dates.zone())
    return index.DAYS[local.weekday()], local.hour * 60 + local.minute


def meili_filter(
    query: SearchQuery, who: Eligibility, now: datetime | None = None, openings: Sequence[str] = ()
) -> list[str]:
    """The engine's filter for this query and visitor; `openings` are the weeks documents
    carry (`index.opening_keys`), read only for "open now"."""
    now_ts = int(now.timestamp() if now else time.time())
    parts = [f"valid_from_ts <= {now_ts}", f"valid_to_ts > {now_ts}"]
    if who.node_ids is None:
        parts += ["scope_depth <= 1", "groups IS EMPTY"]
    else:
        parts.append(f"scope_node_id IN [{', '.join(map(str, who.node_ids))}]")
        groups = ", ".join(index.quote(group) for group in who.groups)
        parts.append(f"(groups IS EMPTY OR groups IN [{groups}])" if who.groups else "groups IS EMPTY")
    if query.category:
        parts.append(f"category = {index.quote(query.category)}")
    if query.kind:
        parts.append(f"kind = {index.quote(query.kind)}")
    if query.provider_id:
        parts.append(f"provider_id = {query.provider_id}")
    if query.district:
        parts.append(f"districts = {index.quote(query.district)}")
    if query.price_band:
        parts.append(f"price_band = {index.quote(query.price_band)}")
    if query.min_price is not None:
        parts.append(f"pays_fen >= {query.min_price}")
    if query.max_price is not None:
        parts.append(f"pays_fen <= {query.max_price}")
    if query.has_stock:
        parts.append("has_stock = true")
    if query.open_now:
        day, minute = _shanghai_now(now)
        open_now = ", ".join(index.quote(key) for key in openings if index.open_at(key, day, minute))
        parts.append(f"opening IN [{open_now}]")
    if query.lat is not None and query.radius_m:
        parts.append(f"_geoRadius({query.lat}, {query.lng}, {query.radius_m})")
    return parts


def check(query: SearchQuery) -> None:
    if (query.lat is None) != (query.lng is None):
        raise Invalid("Give both latitude and longitude.", field="lng" if query.lng is None else "lat")
    if query.radius_m is not None and query.lat is None:
        raise Invalid("A distance needs your location.", field="radius_m")
    if query.sort == "distance" and query.lat is None:
        raise Invalid("Sorting by distance needs your location.", field="sort")
    if query.min_price is not None and query.max_price is not None and query.min_price > query.max_price:
        raise Invalid("The lowest price cannot be above the highest.", field="min_price")


def _sort(query: SearchQuery) -> list[str] | None:
    if query.sort == "distance" or (query.sort == "relevance" and query.lat is not None and not query.q):
        return [f"_geoPoint({query.lat}, {query.lng}):asc"]
    if query.sort in SORTS:
        return [SORTS[query.sort]]
    return None


# What a hit shows (`_hit`); the rest of a document stays in the engine.
HIT_ATTRIBUTES = [
    "offer_id",
    "title_zh",
    "title_en",
    "kind",
    "category",
    "category_zh",
    "category_en",
    "provider_id",
    "provider_name",
    "district",
    "list_price_fen",
    "member_price_fen",
    "subsidy_fen",
    "points_price",
    "package_sessions",
    "package_months",
    "discount_ratio",
    "price_band",
    "stock_left",
    "tags",
    "groups",
    "rating",
    "cover_image",
    "_geo",
]


def _safe_marks(text: str) -> str:
    """Highlighted text as HTML: everything escaped except the engine's <mark> tags."""
    return str(escape(text)).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")


def _hit(document: dict, query: SearchQuery) -> SearchHit:
    formatted = document.get("_formatted") or {}
    distance = document.get("_geoDistance")
    if distance is None and query.lat is not None and query.lng is not None and document.get("_geo"):
        distance = round(haversine_m(query.lat, query.lng, document["_geo"]["lat"], document["_geo"]["lng"]))
    return SearchHit(
        offer_id=document["offer_id"],
        title_zh=document["title_zh"],
        title_en=document.get("title_en") or "",
        title_zh_highlighted=_safe_marks(formatted.get("title_zh", document["title_zh"])),
        title_en_highlighted=_safe_marks(formatted.get("title_en", document.get("title_en") or "")),
        kind=document["kind"],
        category=document["category"],
        category_zh=document["category_zh"],
        category_en=document["category_en"],
        provider_id=document["provider_id"],
        provider_name=document["provider_name"],
        district=document.get("district"),
        list_price_fen=document["list_price_fen"],
        member_price_fen=document["member_price_fen"],
        subsidy_fen=document["subsidy_fen"],
        discount_ratio=document["discount_ratio"],
        price_band=document["price_band"],
        stock_left=document["stock_left"],
        tags=document.get("tags") or [],
        groups=document.get("groups") or [],
        distance_m=distance,
        rating=document.get("rating"),
        cover_image=document.get("cover_image"),
        points_price=document.get("points_price"),
        package_sessions=document.get("package_sessions"),
        package_months=document.get("package_months"),
    )


class _Geo(msgspec.Struct):
    lat: float
    lng: float


class _Formatted(msgspec.Struct):
    title_zh: str | None = None
    title_en: str | None = None


class _EngineHit(msgspec.Struct, kw_only=True):
    """A hit as the engine answers it (HIT_ATTRIBUTES and the engine's own fields),
    decoded once from its bytes (no dict per hit in between)."""

    offer_id: int
    title_zh: str
    title_en: str | None = None
    kind: str
    category: str
    category_zh: str
    category_en: str
    provider_id: int
    provider_name: str
    district: str | None = None
    list_price_fen: int
    member_price_fen: int
    subsidy_fen: int
    points_price: int | None = None
    discount_ratio: float
    price_band: str
    stock_left: int
    tags: list[str] | None = None
    groups: list[str] | None = None
    rating: float | None = None
    cover_image: str | None = None
    geo: _Geo | None = msgspec.field(default=None, name="_geo")
    geo_distance: int | None = msgspec.field(default=None, name="_geoDistance")
    formatted: _Formatted | None = msgspec.field(default=None, name="_formatted")


class _EngineAnswer(msgspec.Struct):
    hits: list[_EngineHit]
    facetDistribution: dict[str, dict[str, int]] | None = None  # the engine's names
    totalHits: int | None = None
    estimatedTotalHits: int | None = None


_ENGINE_ANSWER = msgspec.json.Decoder(_EngineAnswer)


def _engine_hit(document: _EngineHit, query: SearchQuery) -> SearchHit:
    """`_hit` for a typed engine hit: the same SearchHit."""
    formatted = document.formatted
    title_en = document.title_en or ""
    distance = document.geo_distance
    if distance is None and query.lat is not None and query.lng is not None and document.geo:
        distance = round(haversine_m(query.lat, query.lng, document.geo.lat, document.geo.lng))
    return SearchHit(
        offer_id=document.offer_id,
        title_zh=document.title_zh,
        title_en=title_en,
        title_zh_highlighted=_safe_marks(
            formatted.title_zh if formatted and formatted.title_zh is not None else document.title_zh
        ),
        title_en_highlighted=_safe_marks(
            formatted.title_en if formatted and formatted.title_en is not None else title_en
        ),
        kind=document.kind,
        category=document.category,
        category_zh=document.category_zh,
        category_en=document.category_en,
        provider_id=document.provider_id,
        provider_name=document.provider_name,
        district=document.district,
        list_price_fen=document.list_price_fen,
        member_price_fen=document.member_price_fen,
        subsidy_fen=document.subsidy_fen,
        discount_ratio=document.discount_ratio,
        price_band=document.price_band,
        stock_left=document.stock_left,
        tags=document.tags or [],
        groups=document.groups or [],
        distance_m=distance,
        rating=document.rating,
        cover_image=document.cover_image,
        points_price=document.points_price,
    )


def engine_request(
    query: SearchQuery,
    who: Eligibility,
    now: datetime | None = None,
    visible: overlay.Overlay | None = None,
    q: str | None = None,
    openings: Sequence[str] = (),
) -> dict:
    """The body of the Meilisearch search request for this query and visitor; `q` is the
    text to search (the normalised or corrected query; the query's own text otherwise).

    A search by place (geo) or by opening hours looks at every location of an offer and
    keeps its best one; any other search looks only at each offer's primary document.
    Every search keeps one hit per `group` (one provider's offer of one title, listed
    for many shops), so one provider cannot fill the page; counting every hit exactly
    under `distinct` would more than double the engine's cost, so searches page by
    offset and report the engine's estimate of the total.
    Among hits that match equally well, nearer ones come first when the place is known,
    then better rated ones (the rating evaluation announced, see actors.py).
    """
    q = normalise(query.q) if q is None else q
    by_location = query.lat is not None or query.open_now
    filters = [*meili_filter(query, who, now, openings), (visible or overlay.Overlay()).filter()]
    body: dict[str, Any] = {
        "q": q or None,
        "filter": filters + ([] if by_location else ["primary = true"]),
        "facets": list(FACETS.values()),
        "attributesToRetrieve": HIT_ATTRIBUTES,
        "attributesToHighlight": ["title_zh", "title_en"],
        "highlightPreTag": "<mark>",
        "highlightPostTag": "</mark>",
    }
    body.update(distinct="group", offset=(query.page - 1) * query.page_size, limit=query.page_size)
    sort = _sort(query)
    if sort is None and q and query.lat is not None:
        sort = [f"_geoPoint({query.lat}, {query.lng}):asc", "rating:desc"]
    elif sort is None and q:
        sort = ["rating:desc"]  # among hits that match equally well, the better rated first
    if sort:
        body["sort"] = sort
    return body


async def _meili(query: SearchQuery, who: Eligibility, q: str) -> SearchResult:
    """Ask the engine through the gate and the breaker; EngineBusy or EngineUnavailable otherwise."""
    started = time.perf_counter()
    # Read before the breaker and the gate: it is not the engine's work, and its fallback
    # (a query of the locations) must not hold one of the engine's places.
    openings = await index.opening_keys() if query.open_now else []
    if not breaker.breaker.allow():
        raise index.EngineUnavailable("breaker open")
    semaphore = breaker.gate.semaphore()
    if semaphore.locked():  # all places taken: wait for one, but not for long
        try:
            await asyncio.wait_for(semaphore.acquire(), breaker.QUEUE_SECONDS)
        except TimeoutError:
            breaker.breaker.released()
            raise index.EngineBusy("queue full") from None
    else:  # a free place: taken at once, without the task `wait_for` starts on every call
        await semaphore.acquire()
    try:
        body = engine_request(query, who, visible=await overlay.current(), q=q, openings=openings)
        results: _EngineAnswer = await index.search(body, SEARCH_TIMEOUT_SECONDS, decoder=_ENGINE_ANSWER)
    except index.EngineBusy:
        breaker.breaker.released()
        breaker.check_health_after_timeout(index.healthy)
        raise
    except index.EngineUnavailable:
        breaker.breaker.failed()
        raise
    except BaseException:
        # Neither answer (the request was cancelled: the client went away): a probe that
        # ends so must let the next search probe, or the breaker would stay open for good.
        breaker.breaker.released()
        raise
    finally:
        semaphore.release()
    breaker.breaker.succeeded()
    facets = results.facetDistribution or {}
    total = results.totalHits if results.totalHits is not None else results.estimatedTotalHits
    return SearchResult(
        hits=[_engine_hit(document, query) for document in results.hits],
        total=total or 0,
        page=query.page,
        page_size=query.page_size,
        facets=Facets(**{name: facets.get(attribute, {}) for name, attribute in FACETS.items()}),
        degraded=False,
        took_ms=round((time.perf_counter() - started) * 1000, 1),
        query=q,
    )


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    radius = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


# The text condition of the fallback, by the script of the query. Latin text is matched
# in English titles by trigram similarity too (typos), and as a substring of Chinese
# titles (brands such as "KFC"); Chinese text as a substring of titles and tags
# (trigrams do not split Chinese words).
_TEXT_MATCH = {
    "none": "true",
    "latin": "(o.title_en ILIKE '%' || $1 || '%' OR o.title_en % $1 OR o.title_zh ILIKE '%' || $1 || '%' "
    "OR o.tags @> ARRAY[$1]::varchar[])",
    "other": "(o.title_zh ILIKE '%' || $1 || '%' OR array_to_string(o.tags, ' ') ILIKE '%' || $1 || '%')",
}

# $1 the words, $2 anonymous, $3 node ids, $4 groups, $5 category, $6 kind, $7 provider,
# $8 district, $9 and $10 the price range, $11 in stock only.
_FALLBACK_SQL = """
SELECT o.id, o.kind, o.title_zh, o.title_en, o.tags, o.groups, o.list_price_fen, o.member_price_fen, o.points_price,
       o.package_sessions, o.package_months, o.subsidy_fen, o.stock_left, o.cover_image, o.published_at, o.created_at,
       c.code AS category, c.name_zh AS category_zh, c.name_en AS category_en,
       p.id AS provider_id, p.name AS provider_name,
       l.district, l.latitude, l.longitude, l.opening_hours,
       greatest(similarity(o.title_zh, $1::text), similarity(coalesce(o.title_en, ''), $1),
                similarity(array_to_string(o.tags, ' '), $1)) AS score
FROM offer o
JOIN category c ON c.id = o.category
JOIN provider p ON p.id = o.provider
JOIN union_node scope ON scope.id = o.node_scope
LEFT JOIN LATERAL (
    SELECT loc.* FROM location loc
    WHERE loc.provider = o.provider
      AND (NOT EXISTS (SELECT 1 FROM offer_location x WHERE x.offer = o.id)
           OR loc.id IN (SELECT x.location FROM offer_location x WHERE x.offer = o.id))
    ORDER BY loc.id LIMIT 1
) l ON true
WHERE o.status = 'published' AND p.status = 'active' AND o.valid_from <= now() AND o.valid_to > now()
  AND ($2 AND scope.depth <= 1 AND cardinality(o.groups) = 0
       OR NOT $2 AND scope.id = ANY($3::int[])
          AND (cardinality(o.groups) = 0 OR o.groups && $4::varchar[]))
  AND TEXT_MATCH
  AND ($5::text IS NULL OR c.code = $5)
  AND ($6::text IS NULL OR o.kind = $6)
  AND ($7::int IS NULL OR o.provider = $7)
  AND ($8::text IS NULL OR EXISTS (
      SELECT 1 FROM location dl WHERE dl.provider = o.provider AND dl.district = $8
        AND (NOT EXISTS (SELECT 1 FROM offer_location x WHERE x.offer = o.id)
             OR dl.id IN (SELECT x.location FROM offer_location x WHERE x.offer = o.id))))
  AND ($9::int IS NULL OR GREATEST(o.member_price_fen - o.subsidy_fen, 0) >= $9)
  AND ($10::int IS NULL OR GREATEST(o.member_price_fen - o.subsidy_fen, 0) <= $10)
  AND (NOT $11 OR o.stock_left > 0)
"""


async def _postgres(query: SearchQuery, who: Eligibility, q: str) -> SearchResult:
    """The same eligibility and filters on PostgreSQL (trigram similarity and ILIKE on
    titles and tags); facets only for what the page of candidates holds."""
    started = time.perf_counter()
    arguments = (  # $1 to $11 of _FALLBACK_SQL
        q,
        who.node_ids is None,
        list(who.node_ids or ()),
        list(who.groups),
        query.category,
        query.kind,
        query.provider_id,
        query.district,
        query.min_price,
        query.max_price,
        bool(query.has_stock),
    )
    script = "none" if not q else "latin" if q.isascii() else "other"
    sql = _FALLBACK_SQL.replace("TEXT_MATCH", _TEXT_MATCH[script])
    async with engine().transaction() as transaction:
        # Many visitors search at once when the engine is down: a parallel scan per query
        # would only multiply the CPU each one takes.
        await transaction.connection.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        rows = await transaction.connection.fetch(
            sql + " ORDER BY score DESC, o.created_at DESC, o.id DESC LIMIT 500", *arguments
        )
    candidates = []
    day, minute = _shanghai_now(None)
    for row in rows:
        document = {
            "offer_id": row["id"],
            **{
                key: row[key]
                for key in (
                    "kind",
                    "title_zh",
                    "title_en",
                    "tags",
                    "groups",
                    "list_price_fen",
                    "member_price_fen",
                    "subsidy_fen",
                    "points_price",
                    "package_sessions",
                    "package_months",
                    "stock_left",
                    "cover_image",
                    "category",
                    "category_zh",
                    "category_en",
                    "provider_id",
                    "provider_name",
                    "district",
                )
            },
            "pays_fen": pricing.member_pays_fen(row["member_price_fen"], row["subsidy_fen"]),
            "_geo": {"lat": row["latitude"], "lng": row["longitude"]} if row["latitude"] is not None else None,
            "published_ts": dates.timestamp(row["published_at"] or row["created_at"]),
        }
        document["price_band"] = index.price_band(document["pays_fen"], row["points_price"])
        document["discount_ratio"] = index.discount_ratio(row["list_price_fen"], document["pays_fen"])
        if query.price_band and document["price_band"] != query.price_band:
            continue
        if query.open_now and not index.open_at(index.opening_key(row["opening_hours"]), day, minute):
            continue
        if query.lat is not None and query.lng is not None and document["_geo"]:
            document["_geoDistance"] = round(
                haversine_m(query.lat, query.lng, document["_geo"]["lat"], document["_geo"]["lng"])
            )
            if query.radius_m and document["_geoDistance"] > query.radius_m:
                continue
        elif query.lat is not None and query.radius_m:
            continue
        candidates.append(document)
    sort = query.sort
    if sort == "distance" or (sort == "relevance" and query.lat is not None and not query.q):
        candidates.sort(key=lambda d: d.get("_geoDistance", math.inf))
    elif sort in ("price", "price_desc"):
        candidates.sort(key=lambda d: d["pays_fen"], reverse=sort == "price_desc")
    elif sort == "discount":
        candidates.sort(key=lambda d: d["discount_ratio"], reverse=True)
    elif sort == "newest":
        candidates.sort(key=lambda d: d["published_ts"], reverse=True)
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for document in candidates:
        for name in FACETS:
            if document.get(name) is not None:
                facets[name][document[name]] = facets[name].get(document[name], 0) + 1
    start = (query.page - 1) * query.page_size
    return SearchResult(
        hits=[_hit(document, query) for document in candidates[start : start + query.page_size]],
        total=len(candidates),
        page=query.page,
        page_size=query.page_size,
        facets=Facets(**facets),
        degraded=True,
        took_ms=round((time.perf_counter() - started) * 1000, 1),
        query=q,
    )


async def _answer(query: SearchQuery, who: Eligibility, q: str) -> SearchResult:
    """The engine's answer, or PostgreSQL's while the engine is down (Unavailable when busy)."""
    try:
        return await _meili(query, who, q)
    except index.EngineBusy as error:
        log.warning("search_busy", error=str(error))
        raise Unavailable("Search is busy right now. Try again in a moment.", code="search_busy") from None
    except index.EngineUnavailable as error:
        # The engine is down, failing or has no index yet: answer from PostgreSQL.
        log.warning("search_degraded", error=str(error)[:100])
        return await _postgres(query, who, q)


async def search(principal: Principal | None, query: SearchQuery, record_miss: bool = True) -> SearchResult:
    check(query)
    who = Eligibility.of(principal)
    typed = normalise(query.q)
    corrected = (await terms.vocabulary()).correct(typed) if typed and not query.exact else None
    result = await _answer(query, who, corrected or typed)
    if corrected and result.total == 0:
        corrected, result = None, await _answer(query, who, typed)
    if typed and not corrected and result.total == 0 and not query.exact:
        # Written wrong: Chinese that sounds right is searched by its pinyin; a Latin word
        # by the nearest known word (the engine's typo tolerance does not reach synonyms).
        # Chinese made of the catalogue's own words was not written wrong: it found nothing
        # because of the filters or who is asking, and a second search would only double
        # the answer's time (measured: filtered searches, API p95 1.23 times the engine's).
        vocabulary = await terms.vocabulary()
        if text.has_han(typed):
            retry_with = None if vocabulary.knows(typed) else text.query_pinyin(typed)
        else:
            retry_with = vocabulary.correct_latin(typed)
        if retry_with:
            retry = await _answer(query, who, retry_with)
            if retry.total:
                corrected, result = retry_with, retry
    if corrected:
        result.corrected_from = typed
    if not result.degraded:
        await _current_stock(result.hits)
    if record_miss and query.page == 1 and typed:
        if result.total == 0:
            await _record_miss(query, who, result.degraded)
        else:
            terms.count(area_of(who), corrected or typed)
    return result


async def _current_stock(hits: list[SearchHit]) -> None:
    """The stock PostgreSQL holds now for the hits shown (the index hears of stock only
    when an offer sells out or comes back)."""
    if not hits:
        return
    # Straight asyncpg: on every search, the ORM's query building cost more than the query.
    rows = await db.fetch(
        "SELECT id, stock_left FROM offer WHERE id = ANY($1::bigint[])", [hit.offer_id for hit in hits]
    )
    left = {row["id"]: row["stock_left"] for row in rows}
    for hit in hits:
        hit.stock_left = left.get(hit.offer_id, hit.stock_left)


SUGGESTIONS = 6


async def popular_searches(principal: Principal | None, limit: int = 8) -> list[str]:
    """What members of this visitor's area searched most (and found) lately."""
    try:
        return await terms.popular(area_of(Eligibility.of(principal)), limit)
    except Exception as error:  # a convenience on the page: never fail it
        log.warning("popular_searches_unavailable", error=type(error).__name__)
        return []


async def suggest(principal: Principal | None, prefix: str) -> Suggestions:
    """What to offer while a member types: offer titles that match (one per title), the
    categories whose names or pinyin start with it, and the area's popular searches
    that contain it. Quietly empty when the engine cannot answer."""
    who = Eligibility.of(principal)
    typed = normalise(prefix)[:40]
    if not typed:
        return Suggestions(query="", titles=[], categories=[], popular=[])
    query = SearchQuery(q=typed, page_size=SUGGESTIONS)
    body = engine_request(query, who, visible=await overlay.current(), q=typed)
    body.update(facets=[], attributesToRetrieve=["title_zh", "title_en"], attributesToHighlight=[])
    titles: list[str] = []
    busy = False
    if breaker.breaker.state == "closed":
        try:
            results = await index.search(body, 1.0)
            titles = list(dict.fromkeys(hit["title_zh"] for hit in results["hits"]))
        except index.EngineBusy:
            busy = True
        except index.EngineUnavailable:
            pass
    categories = [row for row in await categories_cached() if _category_matches(row, typed)][:3]
    popular = [term for term in await popular_searches(principal, 20) if typed in term and term != typed][:3]
    return Suggestions(query=typed, titles=titles[:SUGGESTIONS], categories=categories, popular=popular, busy=busy)


def _category_matches(row: dict, typed: str) -> bool:
    names = (row["name_zh"], row["name_en"].lower())
    if any(typed in name for name in names):
        return True
    return typed.isascii() and len(typed) > 1 and text.query_pinyin(row["name_zh"]).startswith(typed)


async def _record_miss(query: SearchQuery, who: Eligibility, degraded: bool) -> None:
    await SearchMiss.insert(
        SearchMiss(
            query=normalise(query.q),
            district=query.district[:100] if query.district else None,
            groups=list(who.groups),
            degraded=degraded,
            created_at=datetime.now(dates.zone()),
        )
    )


def parse_query(params: dict[str, str]) -> SearchQuery:
    """A SearchQuery from query-string parameters (empty values mean "not given")."""
    values = {key: value for key, value in params.items() if value not in ("", None)}
    try:
        return msgspec.convert(values, SearchQuery, strict=False)
    except msgspec.ValidationError as error:
        found = re.search(r"`\$\.(\w+)", str(error))
        field = found.group(1) if found else None
        raise Invalid(
            "Check the search: %(field)s is not valid.",
            field=field,
            params={"field": field or "q"},
            problem=str(error).split(" - at ")[0],
        ) from None


_ELIGIBLE_SQL = """
SELECT o.*, c.code AS category_code, c.name_zh AS category_zh, c.name_en AS category_en
FROM offer o
JOIN category c ON c.id = o.category
JOIN provider p ON p.id = o.provider
JOIN union_node scope ON scope.id = o.node_scope
WHERE o.id = {} AND o.status = 'published' AND p.status = 'active'
  AND o.valid_to > now()
  AND ({} AND scope.depth <= 1 AND cardinality(o.groups) = 0
       OR NOT {} AND scope.id = ANY({}::int[]) AND (cardinality(o.groups) = 0 OR o.groups && {}::varchar[]))
"""


async def offer_detail(
    principal: Principal | None, offer_id: int, lat: float | None = None, lng: float | None = None
) -> dict:
    """An offer this visitor may see, with its provider and the locations where it can be
    used (nearest first when lat/lng are known); NotFound otherwise, so that an offer
    out of reach looks the same as one that does not exist. A published offer whose
    window has not started yet is shown too (its page says 即将开始 and when)."""
    who = Eligibility.of(principal)
    rows = await Offer.raw(
        _ELIGIBLE_SQL, offer_id, who.node_ids is None, who.node_ids is None, list(who.node_ids or ()), list(who.groups)
    )
    if not rows:
        raise NotFound("This offer does not exist or is not open to you.", code="offer_not_found")
    offer = rows[0]
    provider = await providers.provider_for_index(offer["provider"])
    if provider is None:  # the offer's provider row is never deleted
        raise NotFound("This offer does not exist or is not open to you.", code="offer_not_found")
    chosen = {
        row["location"] for row in await Offer.raw("SELECT location FROM offer_location WHERE offer = {}", offer_id)
    }
    locations = [dict(location) for location in provider["locations"] if not chosen or location["id"] in chosen]
    for location in locations:
        location["distance_m"] = (
            round(haversine_m(lat, lng, location["latitude"], location["longitude"]))
            if lat is not None and lng is not None
            else None
        )
    if lat is not None and lng is not None:
        locations.sort(key=lambda location: location["distance_m"])
    slots = await offers.open_slots(offer_id) if offer["kind"] == "slot" else []
    return {"offer": offer, "provider": provider, "locations": locations, "slots": slots}


async def provider_detail(principal: Principal | None, provider_id: int, page: int = 1) -> dict:
    """An active provider and the offers of it this visitor may see."""
    provider = await providers.provider_for_index(provider_id)
    if provider is None or provider["status"] != "active":
        raise NotFound("This provider does not exist or is not open to you.", code="provider_not_found")
    result = await search(principal, SearchQuery(provider_id=provider_id, sort="newest", page=page), record_miss=False)
    return {"provider": provider, "result": result}


def cover_of(cover_image: str | None) -> dict | None:
    """Where an offer's cover picture is served (/media, catalog.listing_pages): the full
    picture (≤ 1200 px wide) and its 400 px thumbnail; None without a picture."""
    if not cover_image:
        return None
    return {"src": f"/media/{cover_image}", "thumbnail": f"/media/{offers.thumbnail_of(cover_image)}"}


async def categories() -> list[dict]:
    return await Category.select().order_by(Category.id)


_categories: tuple[float, list[dict]] | None = None


async def categories_cached(seconds: float = 60.0) -> list[dict]:
    """The categories, read at most once a minute (suggestions ask on every keystroke)."""
    global _categories
    if _categories is None or time.monotonic() - _categories[0] > seconds:
        _categories = (time.monotonic(), [dict(row) for row in await categories()])
    return _categories[1]
