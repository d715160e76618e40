"""The Meilisearch index of offers: its settings, its documents and their sync.

One document per (offer, location), so that a geo sort finds each offer's nearest
location. Exactly one document of each offer has `primary: true`: a search that does
not depend on where or when a location is open filters on it and so sees each offer
once. `districts` lists every district the offer can be used in, on every document,
so district filters and facets count offers, not locations. `group` is the provider
and the normalised title: the same offer listed by one provider for many shops is one
hit (`distinct`), so one provider cannot fill a page.

The index holds the offers that are published or may soon be (submitted for review,
paused, their provider suspended), with the flags `published` and `provider_active`;
search shows only documents with both, corrected by the visibility overlay (see
`overlay.py`: the engine rewrites its geo tree on every write, so a change waits there
rather than for the engine). Drafts, rejected and expired offers are removed. The
search adds the validity window and eligibility as filters at query time.

Searchable, by weight: titles, tags, category and provider names, then the words and
characters inside titles (`words_zh`), their pinyin, and the words of the description
that the title does not already say (see `text.py`).

Writes are idempotent (upserts by document id, deletes by offer id), so the outbox
actors, the full reindex and the reconciliation may all repeat them safely.
"""

import asyncio
import contextlib
import functools
import json
import os
import re
import socket
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp
import msgspec
from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.models.settings import (
    Faceting,
    LocalizedAttributes,
    MeilisearchSettings,
    MinWordSizeForTypos,
    Pagination,
    ProximityPrecision,
    TypoTolerance,
)
from redis.exceptions import RedisError

from catalog import pricing
from catalog.search import overlay, text
from catalog.tables import Offer, ProviderRating
from marketplace.core import db, kv
from marketplace.core.federation import services as federation
from marketplace.core.settings import get_settings
from providers import services as providers

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRICE_BANDS = ((0, "free"), (1, "under_50"), (5000, "50_200"), (20000, "200_500"), (50000, "over_500"))
BATCH = 1000
REINDEX_BATCH = 5000  # larger batches index faster; a reindex has the engine to itself
# A reindex's first batch is small, so the engine starts while the rest is built: building it
# loads the word lists and meets most of the search fields' distinct values for the first time.
FIRST_REINDEX_BATCH = 500
TASK_TIMEOUT_MS = 120_000
# A reindex waits longer for its own tasks: the engine merges queued additions into
# batches of ~34,000 documents, which took 113-131 s each while searches and the sync's
# writes shared a loaded machine, and the 120 s limit failed a reindex that was only slow.
# Waiting harms nothing: searches answer from the live index until the swap.
REINDEX_TASK_TIMEOUT_MS = 1_800_000
OPENING_KEYS = "search:opening-keys"  # a Redis set: see `opening_keys`

SEARCHABLE = [
    "title_zh",
    "title_en",
    "title_search",
    "tags",
    "category_zh",
    "category_en",
    "provider_name",
    "words_zh",
    "pinyin",
    "description",
    "districts",
]
SETTINGS = MeilisearchSettings(
    searchable_attributes=SEARCHABLE,
    filterable_attributes=[
        "id",
        "offer_id",
        "group",
        "primary",
        "published",
        "provider_active",
        "provider_id",
        "category",
        "kind",
        "districts",
        "price_band",
        "pays_fen",
        "has_stock",
        "scope_node_id",
        "scope_depth",
        "groups",
        "valid_from_ts",
        "valid_to_ts",
        "_geo",
        "opening",
    ],
    sortable_attributes=["_geo", "pays_fen", "discount_ratio", "rating", "published_ts"],
    distinct_attribute=None,
    # Exactness before sort: among hits that match equally well, an exact title wins;
    # only then does distance (or rating) order them.
    ranking_rules=["words", "typo", "proximity", "exactness", "attribute", "sort"],
    # Proximity within an attribute only: titles are short, and word-by-word proximity
    # was the largest part of the indexing time.
    proximity_precision=ProximityPrecision.BY_ATTRIBUTE,
    synonyms=text.synonym_settings(text.load_synonyms()),
    typo_tolerance=TypoTolerance(
        enabled=True,
        min_word_size_for_typos=MinWordSizeForTypos(one_typo=4, two_typos=8),
        disable_on_attributes=["words_zh"],
    ),
    localized_attributes=[
        LocalizedAttributes(
            locales=["cmn"], attribute_patterns=["*_zh", "title_search", "tags", "provider_name", "districts"]
        ),
        LocalizedAttributes(locales=["eng"], attribute_patterns=["*_en", "pinyin"]),
    ],
    faceting=Faceting(max_values_per_facet=100),
    facet_search=False,  # facet values are few and listed whole; nothing searches them
    pagination=Pagination(max_total_hits=2000),
)

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, AsyncClient]]" = weakref.WeakKeyDictionary()
_search_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession]" = (
    weakref.WeakKeyDictionary()
)

# Responses are asked for uncompressed: Meilisearch writes a compressed response in
# pieces without TCP_NODELAY, and the last piece then waits for the client's delayed
# ACK, which adds 40 ms to most answers. Compression saves nothing next door anyway.
_HEADERS = {"Accept-Encoding": "identity"}


def client(timeout: int = 10) -> AsyncClient:
    """The SDK's client, for everything but searching: one per event loop (the web app,
    the worker, the CLI and tests each have their own) and timeout."""
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    if timeout not in per_loop:
        settings = get_settings().search
        per_loop[timeout] = AsyncClient(
            settings.url, settings.master_key or None, timeout=timeout, custom_headers=_HEADERS
        )
    return per_loop[timeout]


SEARCH_CONNECTIONS = 256


class EngineUnavailable(Exception):
    """Meilisearch cannot answer: unreachable, an error answer, or no index yet."""


class EngineBusy(Exception):
    """Meilisearch is up but did not answer in time, or refused a search for load
    (`too_many_search_requests`). Not a reason to move the load to PostgreSQL."""


async def search(
    body: dict, timeout: float, uid: str | None = None, decoder: msgspec.json.Decoder | None = None
) -> Any:
    """POST /indexes/<uid>/search with this body; the engine's JSON answer as it is (or
    as `decoder` reads it: straight into typed structs, without dicts in between).

    A plain aiohttp call: on the web app's hot path the SDK's httpx client and models
    took more CPU than the engine's search itself. Raises EngineBusy or EngineUnavailable."""
    try:
        async with _search_session().post(
            f"indexes/{uid or index_uid()}/search",
            data=msgspec.json.encode(body),
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            content = await response.read()
    except TimeoutError as error:
        raise EngineBusy("timeout") from error
    except (aiohttp.ClientError, ValueError) as error:  # ValueError: bad URL
        raise EngineUnavailable(type(error).__name__) from error
    if response.status == 503 and b"too_many_search_requests" in content:
        raise EngineBusy("too_many_search_requests")
    if response.status != 200:
        raise EngineUnavailable(f"HTTP {response.status}: {content[:200]!r}")
    try:
        return decoder.decode(content) if decoder is not None else msgspec.json.decode(content)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise EngineUnavailable("bad JSON") from error


class Enqueued(msgspec.Struct):
    """The engine's answer to a write: the task it queued."""

    task_uid: int = msgspec.field(name="taskUid")


_ENQUEUED = msgspec.json.Decoder(Enqueued)


async def add_documents(uid: str, documents: list[dict]) -> Enqueued:
    """Upsert these documents (POST /indexes/<uid>/documents); the task queued for it.

    Encoded by msgspec rather than the SDK's `json.dumps`: for 6,700 documents that took
    six times the CPU (145 ms against 25) and escaped every Chinese character, so the
    engine received and parsed 16.1 MB instead of 12.5; a reindex sends 120,000."""
    try:
        async with _search_session().post(
            f"indexes/{uid}/documents",
            params={"primaryKey": "id"},
            data=msgspec.json.encode(documents),
            timeout=aiohttp.ClientTimeout(total=TASK_TIMEOUT_MS / 1000),
        ) as response:
            content = await response.read()
    except (TimeoutError, aiohttp.ClientError) as error:
        raise EngineUnavailable(type(error).__name__) from error
    if response.status != 202:
        raise EngineUnavailable(f"HTTP {response.status}: {content[:200]!r}")
    return _ENQUEUED.decode(content)


async def healthy(timeout: float = 5.0) -> bool:
    """False when the engine is down: it refuses the connection or answers its health check
    with an error. A health check that times out means an overloaded machine, not a dead
    engine (measured: at a load average of 35 on two cores, /health took over a second)."""
    try:
        async with _search_session().get("health", timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            await response.read()
            return response.status == 200
    except TimeoutError:
        return True
    except (aiohttp.ClientError, ValueError):
        return False


def _search_session() -> aiohttp.ClientSession:
    """One HTTP session to the engine per event loop; as many connections as a web process
    may have searches in flight, so that a search never waits for a free connection."""
    loop = asyncio.get_running_loop()
    if loop not in _search_sessions:
        settings = get_settings().search
        headers = {**_HEADERS, "Content-Type": "application/json"}
        if settings.master_key:
            headers["Authorization"] = f"Bearer {settings.master_key}"
        _search_sessions[loop] = aiohttp.ClientSession(
            base_url=settings.url.rstrip("/") + "/",
            headers=headers,
            connector=aiohttp.TCPConnector(limit=SEARCH_CONNECTIONS),
        )
    return _search_sessions[loop]


async def close_clients() -> None:
    """Close this event loop's search session (the web app calls it on shutdown)."""
    session = _search_sessions.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


def index_uid() -> str:
    return f"{get_settings().search.index_prefix}offers"


def quote(value: str) -> str:
    """A string literal of the engine's filter language."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def price_band(pays_fen: int, points_price: int | None = None) -> str:
    """The price facet of an offer, by what the member pays (catalog/pricing.py), as the
    card shows it. Points offers are never "free": they cost points."""
    if points_price:
        return "points"
    band = PRICE_BANDS[0][1]
    for floor, name in PRICE_BANDS:
        if pays_fen >= floor:
            band = name
    return band


def discount_ratio(list_price_fen: int, pays_fen: int) -> float:
    """How much below the list price the member pays (provider discount and union subsidy)."""
    return round(1 - pays_fen / list_price_fen, 4) if list_price_fen else 0.0


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def opening_key(opening_hours) -> str:
    """A location's week as one filterable value: each day's opening and closing minute after
    midnight (Asia/Shanghai), Monday to Sunday, "" for a day it is closed; a closing time past
    midnight counts to the end of the day. "480-1200,480-1200,480-1200,480-1200,480-1200,,"
    opens 08:00-20:00 on weekdays. One string, not fourteen numbers: numbers are the dearest
    values the engine indexes, and fourteen of them were a seventh of a reindex's indexing
    (docs/benchmarks.md). `open_at` reads it back."""
    if isinstance(opening_hours, str):  # JSONB read through Piccolo arrives as text
        # Cached by the text: a reindex reads each location once per offer that lists it.
        return _opening_key_of_text(opening_hours)
    return _opening_key(opening_hours)


@functools.lru_cache(maxsize=65536)
def _opening_key_of_text(opening_hours: str) -> str:
    try:
        parsed = json.loads(opening_hours or "{}")
    except ValueError:
        parsed = {}
    return _opening_key(parsed)


def _opening_key(opening_hours) -> str:
    windows = []
    for day in DAYS:
        hours = opening_hours.get(day) if isinstance(opening_hours, dict) else None
        window = ""
        if isinstance(hours, (list, tuple)) and len(hours) == 2:
            try:
                start, end = _minutes(hours[0]), _minutes(hours[1])
                window = f"{start}-{end if end > start else 24 * 60}"
            except (ValueError, AttributeError):
                pass
        windows.append(window)
    return ",".join(windows)


def open_at(key: str, day: str, minute: int) -> bool:
    """Whether a location whose week is `key` (see `opening_key`) is open on `day` ("mon")
    at `minute` after midnight."""
    windows = key.split(",")
    window = windows[DAYS.index(day)] if len(windows) == len(DAYS) else ""
    if not window:
        return False
    start, end = window.split("-")
    return int(start) <= minute < int(end)


async def remember_opening_keys(documents: list[dict]) -> None:
    """Keep the weeks these documents carry among `opening_keys`, before they are written:
    a document the engine holds has its week there, so "open now" can name it."""
    keys = {document["opening"] for document in documents if document.get("opening") is not None}
    if keys:
        await kv.redis().sadd(OPENING_KEYS, *keys)


async def opening_keys() -> list[str]:
    """Every week a document of the index may carry (some no longer do: harmless), so that
    "open now" is one equality filter over those open at this minute. Kept in Redis as the
    documents are built; taken again from the providers' locations when Redis has lost it,
    or cannot be reached (then search goes on, one query slower)."""
    try:
        keys = {key.decode() if isinstance(key, bytes) else key for key in await kv.redis().smembers(OPENING_KEYS)}
    except (RedisError, OSError):
        return sorted(await _opening_keys_of_locations())
    if not keys:
        keys = await _opening_keys_of_locations()
        if keys:
            await kv.redis().sadd(OPENING_KEYS, *keys)
    return sorted(keys)


async def _opening_keys_of_locations() -> set[str]:
    return {opening_key(hours) for hours in await providers.opening_schedules()}


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


# The offer's columns a document is made of (`documents_for`): a reindex reads 100,000
# offers, and their terms and review notes are not searched.
_OFFERS_SQL = (
    "SELECT o.id, o.provider, o.kind, o.status, o.title_zh, o.title_en, o.description_zh, o.description_en, "
    "o.tags, o.list_price_fen, o.member_price_fen, o.subsidy_fen, o.points_price, o.package_sessions, "
    "o.package_months, o.stock_left, o.node_scope, o.groups, o.valid_from, o.valid_to, o.cover_image, "
    "o.created_at, o.published_at, o.updated_at, "
    "c.code AS category_code, c.name_zh AS category_zh, c.name_en AS category_en, "
    "COALESCE((SELECT array_agg(ol.location) FROM offer_location ol WHERE ol.offer = o.id), ARRAY[]::int[]) "
    "AS location_ids "
    "FROM offer o JOIN category c ON c.id = o.category "
)
# What the index holds: offers that are published or may soon be (hidden by their flags
# until then); validity start and eligibility are filtered at query time.
INDEXED_STATUSES = ("submitted", "published", "paused")
INDEXED = "o.status IN ('submitted', 'published', 'paused') AND o.valid_to > now()"
# Providers whose offers the index keeps (hidden unless active): they may come back.
KEPT_PROVIDER_STATUSES = ("active", "suspended", "delisted")
_CLAUSE = re.compile(r"[，。！？；：、“”‘’（）()\s,.;:!?]+")
_SENTENCE = re.compile(r"[.;:!?]+")


async def _indexed_offers(where: str, *args) -> list[dict]:
    return await Offer.raw(_OFFERS_SQL + f"WHERE {INDEXED} AND {where} ORDER BY o.id", *args)


def group_key(provider_id: int, title_zh: str) -> str:
    return f"{provider_id}:{text.normalise(title_zh)}"


@functools.lru_cache(maxsize=65536)
def _clause_words(clause: str) -> tuple[str, ...]:
    """The words of more than one character in one clause of a description, normalised.
    Descriptions repeat their clauses (usage rules, limits), so this is cached by clause;
    normalising clause by clause gives the same words as the whole text (OpenCC's
    phrases and jieba's words never span the punctuation between clauses)."""
    return tuple(word for word in text.words(text.normalise(clause)) if len(word) > 1)


@functools.lru_cache(maxsize=65536)
def _sentence_words(sentence: str) -> tuple[str, ...]:
    """The English words of more than two letters in one sentence of a description,
    normalised; cached by sentence as `_clause_words` is by clause (a word never spans the
    punctuation between sentences)."""
    return tuple(word for word in re.findall(r"[a-z][a-z'-]+", text.normalise(sentence)) if len(word) > 2)


def _description_words(description_zh: str, description_en: str, title: str) -> str:
    """The words of the descriptions that the title does not already say (each once): what
    a description adds to search (工伤认定, 劳动仲裁), without its repeated template text
    and the words every description says (`text.stop_words`)."""
    said = set(text.words(title)) | set(title.split())
    unsaid = text.stop_words()
    # Chinese words are Han characters only, English ones letters: no digits to strip.
    found = [
        word
        for clause in _CLAUSE.split(description_zh)
        for word in _clause_words(clause)
        if word not in said and word not in unsaid
    ]
    found += [
        word
        for sentence in _SENTENCE.split(description_en)
        for word in _sentence_words(sentence)
        if word not in said and word not in unsaid
    ]
    return " ".join(dict.fromkeys(found))


# Digits never make a word of a description (its words are Han characters or letters), and
# templated descriptions differ mostly by their prices: without the digits, most offers'
# search fields are a cache hit.
_DIGITS = re.compile(r"[0-9]+")


def search_fields(offer: dict) -> dict:
    """The attributes that only search reads: the normalised title when it differs, the
    words and pinyin inside the title, tags and category, and the description's words."""
    return dict(  # a copy: the cached dict is shared
        _search_fields(
            offer["title_zh"],
            tuple(offer["tags"] or ()),
            offer["category_zh"],
            offer["title_en"] or "",
            _DIGITS.sub(" ", offer.get("description_zh") or ""),
            _DIGITS.sub(" ", offer.get("description_en") or ""),
        )
    )


@functools.lru_cache(maxsize=65536)
def _search_fields(
    title_zh: str, tags: tuple[str, ...], category_zh: str, title_en: str, description_zh: str, description_en: str
) -> dict:
    title = text.normalise(title_zh)
    words_zh, pinyin = text.word_fields(title, (*(text.normalise(tag) for tag in tags), text.normalise(category_zh)))
    return {
        "title_search": title if title != title_zh else "",
        "words_zh": words_zh,
        "pinyin": pinyin,
        "description": _description_words(description_zh, description_en, title + " " + text.normalise(title_en)),
    }


def documents_for(offer: dict, provider: dict | None, scope_depth: int, rating: float | None = None) -> list[dict]:
    """The documents of one offer (none when its provider is gone or was never admitted)."""
    if provider is None or provider["status"] not in KEPT_PROVIDER_STATUSES:
        return []
    list_price = offer["list_price_fen"]
    pays = pricing.member_pays_fen(offer["member_price_fen"], offer["subsidy_fen"])
    base = {
        "offer_id": offer["id"],
        "title_zh": offer["title_zh"],
        "title_en": offer["title_en"] or "",
        "tags": [text.normalise(tag) for tag in offer["tags"] or []],
        "category": offer["category_code"],
        "category_zh": offer["category_zh"],
        "category_en": offer["category_en"],
        "kind": offer["kind"],
        "provider_id": provider["id"],
        "provider_name": provider["name"],
        "group": group_key(provider["id"], offer["title_zh"]),
        "published": offer["status"] == "published",
        "provider_active": provider["status"] == "active",
        "list_price_fen": list_price,
        "member_price_fen": offer["member_price_fen"],
        "subsidy_fen": offer["subsidy_fen"],
        "pays_fen": pays,
        "points_price": offer["points_price"],
        "package_sessions": offer.get("package_sessions"),
        "package_months": offer.get("package_months"),
        "discount_ratio": discount_ratio(list_price, pays),
        "price_band": price_band(pays, offer["points_price"]),
        "stock_left": offer["stock_left"],
        "has_stock": offer["stock_left"] > 0,
        "scope_node_id": offer["node_scope"],
        "scope_depth": scope_depth,
        "groups": list(offer["groups"] or []),
        "valid_from_ts": _ts(offer["valid_from"]),
        "valid_to_ts": _ts(offer["valid_to"]),
        "rating": rating,
        "cover_image": offer["cover_image"],
        "published_ts": _ts(offer["published_at"] or offer["created_at"]),
        # The version reconciliation compares: microseconds, so two edits within one
        # second still count as different versions.
        "version": int(offer["updated_at"].timestamp() * 1_000_000),
        **search_fields(offer),
    }
    wanted = set(offer["location_ids"] or [])
    # An offer without chosen locations can be used at every location of its provider.
    locations = [loc for loc in provider["locations"] if not wanted or loc["id"] in wanted]
    if not locations:
        return [
            {**base, "id": f"{offer['id']}-0", "primary": True, "district": None, "districts": [], "location_id": None}
        ]
    base["districts"] = sorted({loc["district"] for loc in locations if loc["district"]})
    return [
        {
            **base,
            "id": f"{offer['id']}-{loc['id']}",
            "primary": position == 0,
            "location_id": loc["id"],
            "location_name": loc["name"],
            "address": loc["address"],
            "district": loc["district"],
            "_geo": {"lat": loc["latitude"], "lng": loc["longitude"]},
            "opening": opening_key(loc["opening_hours"]),
        }
        for position, loc in enumerate(locations)
    ]


async def _documents(offers: list[dict], known_providers: dict[int, dict] | None = None) -> list[dict]:
    """The documents of a batch of offers; scope depths and ratings are read once per batch.

    So are the providers, unless the caller passes `known_providers`, which this fills and
    reads: a reindex passes the providers read for its earlier batches, since its batches
    follow the offers' ids and each one names most providers again. A provider changed after
    it was read is written again by the reindex's catch-up (its `updated_at` moved)."""
    wanted = sorted({offer["provider"] for offer in offers})
    known = known_providers if known_providers is not None else {}
    missing = [provider_id for provider_id in wanted if provider_id not in known]
    if missing:
        known.update(await providers.providers_for_index(missing))
    provider_rows = {provider_id: known[provider_id] for provider_id in wanted if provider_id in known}
    depths = await federation.node_depths(sorted({offer["node_scope"] for offer in offers}))
    # One array parameter: Piccolo's `is_in` converted a reindex batch's ~4,000 ids one by one.
    ratings = {
        row["provider"]: row["rating"]
        for row in await db.fetch(
            "SELECT provider, rating FROM provider_rating WHERE provider = ANY($1::int[])", list(provider_rows)
        )
    }
    documents = []
    for offer in offers:
        documents.extend(
            documents_for(
                offer, provider_rows.get(offer["provider"]), depths[offer["node_scope"]], ratings.get(offer["provider"])
            )
        )
    await remember_opening_keys(documents)
    return documents


async def set_rating(provider_id: int, rating: float | None) -> None:
    """Keep the provider's rating as evaluation announced it; its documents carry it from
    their next write."""
    await ProviderRating.raw(
        "INSERT INTO provider_rating (provider, rating, updated_at) VALUES ({}, {}, now()) "
        "ON CONFLICT (provider) DO UPDATE SET rating = EXCLUDED.rating, updated_at = now()",
        int(provider_id),
        rating,
    )


async def ensure_index(uid: str | None = None) -> None:
    """Create the index with its settings when missing (settings updates are idempotent)."""
    meili = client()
    uid = uid or index_uid()
    if await meili.get_raw_index(uid) is None:
        await meili.create_index(uid, primary_key="id", settings=SETTINGS, wait=True, timeout_in_ms=TASK_TIMEOUT_MS)


async def _wait(task, timeout_ms: int = TASK_TIMEOUT_MS, interval_ms: int = 10) -> None:
    # Polled every 10 ms: an outbox sync waits here, and freshness is measured in it.
    await client().wait_for_task(
        task.task_uid, timeout_in_ms=timeout_ms, interval_in_ms=interval_ms, raise_for_status=True
    )


async def _replace(index, held: str, offer_ids: list[int], mark: bool = True) -> int:
    """Make the documents matching the filter `held` exactly the current documents of
    these offers; returns how many were written.

    With `mark`, the new visibility of the offers goes to the overlay first, so search
    shows it at once, and is dropped when the engine has applied the write (the
    announced path, `announce` and `write_pending`, marks before and clears after on its
    own). Two engine tasks, run in the order they were queued: a deletion by filter of
    what is no longer wanted (so a sync never decides from an index that has not yet
    applied an earlier sync's writes) and one upsert."""
    documents = await _documents(await _indexed_offers("o.id = ANY({})", offer_ids))
    written = {}
    if mark:
        visible = {
            document["offer_id"]: document["published"] and document["provider_active"] for document in documents
        }
        written = await overlay.mark("offer", {offer_id: visible.get(offer_id, False) for offer_id in offer_ids})
    keep = ", ".join(quote(document["id"]) for document in documents)
    tasks: list[Any] = [await index.delete_documents_by_filter(f"({held}) AND id NOT IN [{keep}]" if keep else held)]
    if documents:
        tasks.append(await add_documents(index.uid, documents))
    for task in tasks:  # run in order by the engine: the last to finish is the last queued
        await _wait(task)
    await overlay.clear("offer", written)
    return len(documents)


async def sync_offers(offer_ids: list[int], uid: str | None = None, mark: bool = True) -> int:
    """Make the index hold exactly the current documents of these offers (and wait until
    the engine has applied it); returns how many documents were written."""
    await ensure_index(uid)
    index = client().index(uid or index_uid())
    written = 0
    for start in range(0, len(offer_ids), BATCH):
        batch = offer_ids[start : start + BATCH]
        written += await _replace(index, f"offer_id IN [{', '.join(map(str, batch))}]", batch, mark)
    return written


async def sync_offer(offer_id: int) -> int:
    return await sync_offers([offer_id])


async def _provider_active(provider_id: int) -> bool:
    provider = await providers.provider_for_index(provider_id)
    return provider is not None and provider["status"] == "active"


# Announced changes: the overlay at once, the engine in batches ---------------------------
#
# An outbox event about an offer or a provider writes its new visibility to the overlay
# (milliseconds) and leaves the engine write to `write_pending`, run by another job:
# the engine takes 0.6 s or more per write on 100k documents with `_geo` (its floor,
# see overlay.py), and a job waiting for it held a worker thread the next change needed.
# Changes that arrive while a write is running wait in a Redis set and go together in
# the next write, so a burst costs a few engine writes, not one per change; a provider's
# offers go in the same write as the offers announced with it. One writer at a time (a
# Redis lock, not waited for: the writer at work loops until nothing is pending), so an
# older read never lands after a newer one.

PENDING = {"offer": "search:pending:offers", "provider": "search:pending:providers"}
WRITE_DUE = "search:write-due"  # set while a write job is queued and not yet started
WRITER_LOCK = "search:writer"
WRITE_DUE_SECONDS = 30  # a lost write job is sent again after this; the reconciliation repairs the rest


async def _visible_offers(offer_ids: list[int]) -> dict[int, bool]:
    """offer id → whether search may show it now (as the documents' flags will say)."""
    rows = await Offer.raw(
        "SELECT o.id, (o.status = 'published' AND o.valid_to > now() AND p.status = 'active') AS visible "
        "FROM offer o JOIN provider p ON p.id = o.provider WHERE o.id = ANY({}::bigint[])",
        offer_ids,
    )
    visible = {row["id"]: row["visible"] for row in rows}
    return {offer_id: visible.get(offer_id, False) for offer_id in offer_ids}


async def announce(offer_ids: Sequence[int] = (), provider_ids: Sequence[int] = ()) -> bool:
    """These offers or providers changed: search sees their visibility at once (overlay),
    the index learns the rest with the next write. True when no write job is queued yet
    and the caller must send one."""
    from marketplace.core.kv import redis

    offer_ids, provider_ids = [int(i) for i in offer_ids], [int(i) for i in provider_ids]
    if offer_ids:
        await overlay.mark("offer", await _visible_offers(offer_ids))
    if provider_ids:
        await overlay.mark(
            "provider", {provider_id: await _provider_active(provider_id) for provider_id in provider_ids}
        )
    connection = redis()
    for kind, ids in (("offer", offer_ids), ("provider", provider_ids)):
        if ids:
            await connection.sadd(PENDING[kind], *ids)
    return bool(await connection.set(WRITE_DUE, 1, nx=True, ex=WRITE_DUE_SECONDS))


async def _take(key: str) -> list[int]:
    from marketplace.core.kv import redis

    async with redis().pipeline(transaction=True) as pipe:
        pipe.smembers(key)
        pipe.delete(key)
        members, _ = await pipe.execute()
    return sorted(int(member) for member in members)


async def write_pending() -> tuple[int, bool]:
    """Write what was announced to the engine, wait until it has applied it, drop the
    overlay entries it now holds, and go on while more was announced meanwhile.

    Returns the documents written, and whether something was announced after the last
    look (the caller then sends another write job). A job that finds another writer at
    work returns at once: that writer takes its changes too. Waiting for the lock held
    worker threads that the announcements needed (measured: every thread blocked, 21 of
    45 changes not seen within 20 s)."""
    from marketplace.core.kv import redis

    connection = redis()
    lock = connection.lock(WRITER_LOCK, timeout=TASK_TIMEOUT_MS / 1000 + 60)
    if not await lock.acquire(blocking=False):
        return 0, False
    written = 0
    try:
        while True:
            await connection.delete(WRITE_DUE)  # what is announced from now on needs another look
            offer_ids, provider_ids = await _take(PENDING["offer"]), await _take(PENDING["provider"])
            if not offer_ids and not provider_ids:
                break
            written += await _write(offer_ids, provider_ids)
            await lock.reacquire()  # a long stream of changes keeps the lock
    finally:
        await lock.release()
    return written, bool(await connection.exists(PENDING["offer"], PENDING["provider"]))


async def _write(offer_ids: list[int], provider_ids: list[int]) -> int:
    """One engine write (per 1,000 offers) for these offers and every offer of these providers."""
    from marketplace.core.kv import redis

    read_at = time.time()
    try:
        wanted = set(offer_ids)
        if provider_ids:
            rows = await Offer.raw("SELECT id FROM offer WHERE provider = ANY({}::int[])", provider_ids)
            wanted.update(row["id"] for row in rows)
        written = await sync_offers(sorted(wanted), mark=False)
    except Exception:
        # Announced again, for the retry of this job or the next write.
        for kind, ids in (("offer", offer_ids), ("provider", provider_ids)):
            if ids:
                await redis().sadd(PENDING[kind], *ids)
        raise
    await overlay.clear_before("offer", offer_ids, read_at)
    await overlay.clear_before("provider", provider_ids, read_at)
    return written


# A reindex's progress, so that one killed midway resumes where it stopped (see `reindex`).
REINDEX_STATE = "search:reindex:"  # + the live index's uid


class _Reindex(msgspec.Struct):
    """What a reindex has done so far, kept in Redis after every step.

    `fresh_created` is the engine's creation time of the index being built: an index
    keeps it through a swap, so it tells a resumed run whether the swap already happened
    (the live index is the one built) or not (the fresh index is), and an index of
    another run from neither. `batches`: [engine task uid, last offer id, offers,
    documents] per batch sent, in order."""

    fresh: str
    fresh_created: str
    started_at: float
    total: int
    batches: list[list[int]] = msgspec.field(default_factory=list)

    @property
    def last_id(self) -> int:
        return self.batches[-1][1] if self.batches else 0

    @property
    def offers_done(self) -> int:
        return sum(batch[2] for batch in self.batches)

    @property
    def documents(self) -> int:
        return sum(batch[3] for batch in self.batches)


async def _load_reindex(live: str) -> _Reindex | None:
    from marketplace.core.kv import redis

    raw = await redis().get(REINDEX_STATE + live)
    try:
        return msgspec.json.decode(raw, type=_Reindex) if raw else None
    except msgspec.DecodeError:
        return None


async def _save_reindex(live: str, state: _Reindex | None) -> None:
    from marketplace.core.kv import redis

    if state is None:
        await redis().delete(REINDEX_STATE + live)
    else:
        await redis().set(REINDEX_STATE + live, msgspec.json.encode(state))


async def _created(uid: str) -> str | None:
    index = await client().get_raw_index(uid)
    return index.created_at.isoformat() if index is not None and index.created_at else None


async def _resumable(live: str, fresh: str) -> tuple[_Reindex | None, bool]:
    """The state of a reindex that was stopped midway, and whether its swap already
    happened; (None, False) when there is nothing to resume."""
    state = await _load_reindex(live)
    if state is None or state.fresh != fresh:
        return None, False
    if await _created(live) == state.fresh_created:
        return state, True  # swapped: what is left is removing the old index
    if await _created(fresh) != state.fresh_created:
        return None, False  # the fresh index is not the one this state was building
    # Keep the batches the engine has applied or still will; from the first it failed
    # (or lost) on, build again.
    kept: list[list[int]] = []
    for batch in state.batches:
        try:
            status = (await client().get_task(batch[0])).status
        except Exception:
            break
        if status not in ("succeeded", "enqueued", "processing"):
            break
        kept.append(batch)
    state.batches = kept
    return state, False


# One reindex of an index at a time: two would both write `<uid>_next` and the resume
# state, and the second's `delete_index_if_exists(fresh)` would pull the index from under
# the first. A Redis lock (the state is there too) whose value says who holds it.
REINDEX_LOCK = "search:reindex:lock:"  # + the live index's uid
# The lock expires this long after its holder stopped renewing it (killed on another
# machine); renewed every quarter of it while the reindex works.
REINDEX_LOCK_SECONDS = 60


class ReindexRunning(Exception):
    """Another reindex of this index is at work (or this one lost its lock to another)."""


def _holder_gone(token: str) -> bool:
    """Whether the reindex that holds the lock was a process of this machine that is gone
    (killed: it resumes at once rather than wait for the lock to expire)."""
    host, _, rest = token.partition("|")
    pid = rest.partition("|")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


# Delete the lock only if it still holds this value (the holder seen gone).
_DELETE_IF_HELD_BY = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@contextlib.asynccontextmanager
async def _reindex_lock(live: str) -> AsyncIterator[Callable[[], None]]:
    """Hold the reindex lock of `live` for the block, or raise ReindexRunning naming who
    holds it. Yields a check that raises ReindexRunning if the lock was lost meanwhile
    (not renewed in time: an event loop stalled past REINDEX_LOCK_SECONDS), called
    before each write to the fresh index, the resume state and the swap."""
    from marketplace.core.kv import redis

    connection = redis()
    name = REINDEX_LOCK + live
    started = datetime.now(UTC).isoformat(timespec="seconds")
    token = f"{socket.gethostname()}|{os.getpid()}|{started}|{uuid.uuid4().hex}"
    lock = connection.lock(name, timeout=REINDEX_LOCK_SECONDS)
    if not await lock.acquire(blocking=False, token=token):
        held = await connection.get(name)
        held_by = held.decode() if isinstance(held, bytes) else held or ""
        if held_by and _holder_gone(held_by):
            await connection.register_script(_DELETE_IF_HELD_BY)(keys=[name], args=[held_by])
        if not await lock.acquire(blocking=False, token=token):
            host, pid, since = [*held_by.split("|"), "?", "?", "?"][:3]
            raise ReindexRunning(
                f"another reindex of {live} is running (process {pid} on {host}, since {since}); "
                "this one changed nothing: run it again when that one has finished"
            )
    lost = asyncio.Event()

    async def renew() -> None:
        while True:
            await asyncio.sleep(REINDEX_LOCK_SECONDS / 4)
            try:
                await lock.reacquire()
            except Exception:  # not ours any more (LockNotOwnedError), or Redis away: checked below
                if not await _owned(lock):
                    lost.set()
                    return

    def check() -> None:
        if lost.is_set():
            raise ReindexRunning(f"this reindex of {live} lost its lock to another one and stopped")

    renewing = asyncio.create_task(renew(), name="search-reindex-lock")
    try:
        yield check
    finally:
        renewing.cancel()
        await asyncio.gather(renewing, return_exceptions=True)
        with contextlib.suppress(Exception):  # lost or expired: nothing of ours to release
            await lock.release()


async def _owned(lock) -> bool:
    try:
        return bool(await lock.owned())
    except Exception:
        return True  # Redis unreachable for a moment: the next renewal tells


async def _catch_up(fresh: str, since: float) -> int:
    """Offers that changed while the fresh index was built (by a sync that wrote the live
    one) are written to the fresh one again, so the swap loses none of them."""
    changed = await Offer.raw(
        "SELECT o.id FROM offer o JOIN provider p ON p.id = o.provider "
        "WHERE o.updated_at >= to_timestamp({}) OR p.updated_at >= to_timestamp({})",
        since,
        since,
    )
    ids = [row["id"] for row in changed]
    return await sync_offers(ids, uid=fresh, mark=False) if ids else 0


async def reindex(
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = REINDEX_BATCH,
    resumed: Callable[[int, int], None] | None = None,
) -> int:
    """Build a fresh index beside the live one, fill it in batches, then swap them:
    searches keep answering from the old index until the swap (one engine task: the
    live index is the old one or the new one, never half of each). Returns documents indexed.

    Resumable: the progress is kept in Redis after each batch sent, so a reindex that was
    stopped (killed, a lost connection) goes on from the last batch the engine has, or
    only removes the old index when the swap had already happened; `resumed(offers,
    documents)` is told what was kept. Offers changed meanwhile are written again to the
    fresh index before the swap (a sync writes only the live one).

    One at a time: a second reindex of the same index, from any process, raises
    ReindexRunning at once and touches nothing; one whose holder was killed on this
    machine resumes at once, one killed elsewhere once its lock has expired."""
    meili = client()
    live, fresh = index_uid(), f"{index_uid()}_next"
    async with _reindex_lock(live) as check:
        await ensure_index(live)
        state, swapped = await _resumable(live, fresh)
        if state is None:
            await meili.delete_index_if_exists(fresh)
            started_at = time.time() - 1  # a change committed as the build starts is caught up
            await meili.create_index(
                fresh, primary_key="id", settings=SETTINGS, wait=True, timeout_in_ms=TASK_TIMEOUT_MS
            )
            total = (await Offer.raw(f"SELECT count(*) AS n FROM offer o WHERE {INDEXED}"))[0]["n"]
            state = _Reindex(fresh, await _created(fresh) or "", started_at, total)
            check()
            await _save_reindex(live, state)
        elif resumed:
            resumed(state.offers_done, state.documents)
        if not swapped:
            known_providers: dict[int, dict] = {}
            if progress:
                progress(state.offers_done, state.total)
            while True:
                offers = await Offer.raw(
                    _OFFERS_SQL + f"WHERE {INDEXED} AND o.id > {{}} ORDER BY o.id LIMIT {{}}",
                    state.last_id,
                    batch_size if state.batches else min(batch_size, FIRST_REINDEX_BATCH),
                )
                if not offers:
                    break
                documents = await _documents(offers, known_providers)
                check()
                task = await add_documents(fresh, documents) if documents else None
                state.batches.append([task.task_uid if task else -1, offers[-1]["id"], len(offers), len(documents)])
                await _save_reindex(live, state)
                if progress:
                    progress(state.offers_done, max(state.total, state.offers_done))
            for uid, *_ in state.batches:  # polled every 100 ms: seconds per batch, nobody waits for the last 10 ms
                if uid >= 0:
                    await client().wait_for_task(
                        uid, timeout_in_ms=REINDEX_TASK_TIMEOUT_MS, interval_in_ms=100, raise_for_status=True
                    )
            check()
            await _catch_up(fresh, state.started_at)
            check()
            await _wait(await meili.swap_indexes([(live, fresh)]), REINDEX_TASK_TIMEOUT_MS)
        await meili.delete_index_if_exists(fresh)
        await _save_reindex(live, None)
    return state.documents


async def indexed_versions(uid: str | None = None) -> dict[int, tuple]:
    """offer id → (version, published, provider_active) as the index holds them."""
    index = client().index(uid or index_uid())
    versions: dict[int, tuple] = {}
    offset = 0
    while True:
        page = await index.get_documents(
            offset=offset, limit=BATCH, fields=["offer_id", "version", "published", "provider_active"]
        )
        for document in page.results:
            versions[document["offer_id"]] = (
                document.get("version"),
                document.get("published"),
                document.get("provider_active"),
            )
        offset += BATCH
        if offset >= page.total:
            return versions


async def reconcile() -> dict[str, int]:
    """Compare what should be indexed (ids, updated_at, visibility) with what is; repair the drift."""
    await ensure_index()
    rows = await Offer.raw(
        "SELECT o.id, o.updated_at, o.status, p.status AS provider_status FROM offer o "
        "JOIN provider p ON p.id = o.provider "
        f"WHERE {INDEXED} AND p.status = ANY({{}}::text[])",
        list(KEPT_PROVIDER_STATUSES),
    )
    wanted = {
        row["id"]: (
            int(row["updated_at"].timestamp() * 1_000_000),
            row["status"] == "published",
            row["provider_status"] == "active",
        )
        for row in rows
    }
    held = await indexed_versions()
    missing = [offer_id for offer_id in wanted if offer_id not in held]
    stale = [offer_id for offer_id, state in wanted.items() if offer_id in held and held[offer_id] != state]
    extra = [offer_id for offer_id in held if offer_id not in wanted]
    await sync_offers(missing + stale + extra)
    return {"missing": len(missing), "stale": len(stale), "extra": len(extra)}


def now_ts() -> int:
    return int(datetime.now(UTC).timestamp())
