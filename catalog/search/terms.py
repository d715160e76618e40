"""Popular searches per area, from counts of what members searched (no personal data),
and the vocabulary that corrects a misspelt Chinese query.

A search that found offers is counted in this process (normalised words, area, day) and
the counts are added to `search_term_daily` every `FLUSH_SECONDS` by one upsert, so the
hot path writes nothing. A term is shown as popular only when it was searched at least
`MIN_SEARCHES` times in `POPULAR_DAYS`, and never when it looks like a number (a phone
or an ID number typed by mistake) or is long: what is shown is what many people asked.
"""

import asyncio
import re
import time
from collections import Counter
from datetime import datetime, timedelta

import structlog

from catalog.search import text
from catalog.tables import Offer
from marketplace.core import dates

log = structlog.get_logger(__name__)

FLUSH_SECONDS = 10.0
POPULAR_DAYS = 30
MIN_SEARCHES = 3
POPULAR_CACHE_SECONDS = 300.0
MAX_TERM = 20
VOCABULARY_SECONDS = 600.0
VOCABULARY_TITLES = 20_000
_NUMBERISH = re.compile(r"\d{4,}|@")

_counts: Counter = Counter()
_flushed_at = time.monotonic()
_flushing: set[asyncio.Task] = set()
_popular: dict[int, tuple[float, list[str]]] = {}


def countable(term: str) -> bool:
    return 0 < len(term) <= MAX_TERM and not _NUMBERISH.search(term)


def count(area: int, term: str) -> None:
    """Count one search that found offers; flushed in the background."""
    if not countable(term):
        return
    day = datetime.now(dates.zone()).date()
    _counts[(area, day, term)] += 1
    if time.monotonic() - _flushed_at >= FLUSH_SECONDS and not _flushing:
        task = asyncio.get_running_loop().create_task(flush())
        _flushing.add(task)
        task.add_done_callback(_flushing.discard)


async def flush() -> int:
    """Add this process's counts to the table; returns how many rows were touched."""
    global _flushed_at
    _flushed_at = time.monotonic()
    if not _counts:
        return 0
    batch = dict(_counts)
    _counts.clear()
    try:
        await Offer.raw(
            "INSERT INTO search_term_daily (area, day, term, searches) "
            "SELECT * FROM unnest({}::int[], {}::date[], {}::varchar[], {}::int[]) "
            "ON CONFLICT (area, day, term) DO UPDATE SET searches = search_term_daily.searches + EXCLUDED.searches",
            [key[0] for key in batch],
            [key[1] for key in batch],
            [key[2] for key in batch],
            list(batch.values()),
        )
    except Exception as error:  # counts are a convenience: never fail a search for them
        log.warning("search_terms_not_flushed", error=type(error).__name__)
    return len(batch)


async def popular(area: int, limit: int = 8) -> list[str]:
    """The most searched terms of this area over the last POPULAR_DAYS (cached)."""
    cached = _popular.get(area)
    if cached and time.monotonic() - cached[0] < POPULAR_CACHE_SECONDS:
        return cached[1][:limit]
    since = datetime.now(dates.zone()).date() - timedelta(days=POPULAR_DAYS)
    rows = await Offer.raw(
        "SELECT term FROM search_term_daily WHERE area = {} AND day > {} "
        "GROUP BY term HAVING sum(searches) >= {} ORDER BY sum(searches) DESC, term LIMIT 20",
        area,
        since,
        MIN_SEARCHES,
    )
    terms = [row["term"] for row in rows]
    _popular[area] = (time.monotonic(), terms)
    return terms[:limit]


def forget_popular() -> None:
    _popular.clear()


_vocabulary: tuple[float, text.Vocabulary] | None = None
_vocabulary_lock: asyncio.Lock | None = None


async def _build_vocabulary() -> text.Vocabulary:
    titles = await Offer.raw(
        "SELECT o.title_zh || ' ' || coalesce(o.title_en, '') AS t, count(*) AS n FROM offer o "
        "WHERE o.status = 'published' GROUP BY 1 ORDER BY n DESC LIMIT {}",
        VOCABULARY_TITLES,
    )
    others = await Offer.raw(
        "SELECT DISTINCT unnest(tags) AS t FROM offer WHERE status = 'published' UNION SELECT name_zh FROM category"
    )
    extra = [word for group in text.load_synonyms() for word in group]
    # Segmenting thousands of titles takes a while: in a thread, so that the web process
    # keeps answering meanwhile.
    return await asyncio.to_thread(text.Vocabulary, [row["t"] for row in titles] + [row["t"] for row in others], extra)


async def vocabulary() -> text.Vocabulary:
    """The catalogue's words (rebuilt every VOCABULARY_SECONDS)."""
    global _vocabulary, _vocabulary_lock
    if _vocabulary and time.monotonic() - _vocabulary[0] < VOCABULARY_SECONDS:
        return _vocabulary[1]
    if _vocabulary_lock is None:
        _vocabulary_lock = asyncio.Lock()
    if _vocabulary and _vocabulary_lock.locked():
        return _vocabulary[1]  # another search is rebuilding it
    async with _vocabulary_lock:
        if not (_vocabulary and time.monotonic() - _vocabulary[0] < VOCABULARY_SECONDS):
            _vocabulary = (time.monotonic(), await _build_vocabulary())
    return _vocabulary[1]


def forget_vocabulary() -> None:
    global _vocabulary, _vocabulary_lock
    _vocabulary, _vocabulary_lock = None, None
