"""`benefits bench search`: search latency, freshness, reindex and degraded mode in one run.

Against the database and index the environment points at (BENEFITS_VAR), this starts
the web app, a worker and the scheduler as subprocesses, then measures:

- every query class (text, filtered, geo) through the API and the same queries sent
  straight to Meilisearch (the body built by `service.engine_request`, so both ask the
  engine the same thing), N concurrent clients each alternating the two (so both sides
  are measured under the same load): p50/p95/p99 and requests/s;
- freshness: an offer withdrawn for review, then approved (`catalog.services.approve`),
  and a provider suspended (`providers.services.decide`), each until the search API
  shows the change, while N clients keep searching (text and geo);
- the PostgreSQL-only peer (`peer.py`: full text and trigrams, as Saleor searches) on the
  same text queries and catalogue, by the same number of clients, in the bench process;
- a full reindex while a background loop keeps searching (failures must be 0);
- degraded mode: Meilisearch stopped, text queries answered from PostgreSQL.

The subprocesses are stopped at the end, also on error; the offers and providers changed
for the freshness test are approved and reinstated again.
"""

import asyncio
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
import httpx
import msgspec

from benchmarks import common as benchmarking
from benchmarks.common import Stats
from catalog.search import index, service
from marketplace.core.identity.principal import Principal
from marketplace.core.settings import get_settings
from marketplace.runtime import components, processes

TEXT_QUERIES = ["健身", "体检", "瑜伽", "yoga", "电影", "餐饮", "游泳", "按摩", "yogaa", "fitnes", "movie", "理发"]
# Inside Beijing's central districts.
BEIJING_LAT, BEIJING_LNG = (39.86, 39.99), (116.28, 116.48)
DEMO_MEMBER = {"kind": "member", "username": "13800138000", "password": "member123"}


@dataclass
class Report:
    classes: list[tuple[Stats, Stats]] = field(default_factory=list)
    # class → CPU milliseconds per search: the web process per API search, Meilisearch
    # per search of either side (the same body). Unlike latency, these do not depend on
    # what else the machine runs.
    cpu_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    # The PostgreSQL-only peer on the text class (hits are offer ids, no eligibility).
    peer: Stats | None = None
    # change ("withdrawn", "approved", "provider suspended") → milliseconds until a search
    # answered with it
    freshness_ms: dict[str, list[float]] = field(default_factory=dict)
    freshness_timeouts: dict[str, int] = field(default_factory=dict)
    # change → milliseconds until it was searchable: the start of the first search that
    # showed it (every search started later showed it too)
    freshness_searchable_ms: dict[str, list[float]] = field(default_factory=dict)
    # change → phase → milliseconds after the commit: "relayed" (the relay took the outbox
    # row), "applied" (the search job started: it writes the overlay at once)
    freshness_phases: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    reindex_s: float | None = None
    reindex_documents: int | None = None
    reindex_queries: int = 0
    reindex_failures: int = 0
    reindex_degraded: int = 0
    # The searches that kept the engine busy while freshness was measured.
    freshness_load: Stats | None = None
    degraded: Stats | None = None
    signed_in: bool = False
    notes: list[str] = field(default_factory=list)


# Load --------------------------------------------------------------------------------------


async def _load(send: Callable, items: list, stats: Stats, requests: int, concurrency: int, time_limit: float) -> Stats:
    """`requests` calls of `send(item)` over `items` (round robin) by `concurrency` clients,
    stopped after `time_limit` seconds. `send` returns the JSON body or raises."""
    counter = iter(range(requests))
    deadline = time.monotonic() + time_limit

    async def client() -> None:
        for i in counter:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            try:
                body = await send(items[i % len(items)])
            except Exception:
                stats.errors += 1
                continue
            stats.latencies_ms.append((time.perf_counter() - started) * 1000)
            if isinstance(body, dict) and body.get("degraded"):
                stats.degraded += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    stats.wall_s = time.perf_counter() - started
    return stats


async def _load_paired(
    api: Callable,
    engine: Callable,
    items: list,
    api_stats: Stats,
    engine_stats: Stats,
    requests: int,
    concurrency: int,
    time_limit: float,
) -> None:
    """The API and the engine measured in the same minutes: each client sends a query
    through the API, then the same query straight to the engine, and so on. Measured one
    after the other, the two sides saw different loads on this shared machine (the same
    code gave text API/engine ratios of 0.97 and 2.09 in two runs); paired, a change in
    the machine's load falls on both sides alike."""
    counter = iter(range(requests))
    deadline = time.monotonic() + time_limit

    async def one(send: Callable, item: dict, stats: Stats) -> None:
        started = time.perf_counter()
        try:
            body = await send(item)
        except Exception:
            stats.errors += 1
            return
        stats.latencies_ms.append((time.perf_counter() - started) * 1000)
        if isinstance(body, dict) and body.get("degraded"):
            stats.degraded += 1

    async def client(offset: int) -> None:
        for i in counter:
            if time.monotonic() > deadline:
                return
            # Half the clients start with the engine, so neither side always goes first.
            order = (
                ((api, api_stats), (engine, engine_stats))
                if (i + offset) % 2
                else ((engine, engine_stats), (api, api_stats))
            )
            for send, stats in order:
                await one(send, items[i % len(items)], stats)

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(concurrency)))
    api_stats.wall_s = engine_stats.wall_s = time.perf_counter() - started


def _api_sender(http: aiohttp.ClientSession, base: str, headers: dict) -> Callable:
    url = base + "/api/v1/search"

    async def send(params: dict) -> dict:
        async with http.get(
            url, params={key: str(value) for key, value in params.items()}, headers=headers
        ) as response:
            body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        return msgspec.json.decode(body)

    return send


def _engine_body(params: dict, who: service.Eligibility) -> dict:
    """What `service._meili` sends to Meilisearch for these query parameters."""
    query = service.parse_query({key: str(value) for key, value in params.items()})
    service.check(query)
    return service.engine_request(query, who)


def _engine_sender(http: aiohttp.ClientSession, who: service.Eligibility) -> Callable:
    settings = get_settings().search
    url = f"{settings.url}/indexes/{index.index_uid()}/search"
    # Uncompressed, as the search service asks for them (see `index.client`).
    headers = {"Accept-Encoding": "identity", "Content-Type": "application/json"}
    if settings.master_key:
        headers["Authorization"] = f"Bearer {settings.master_key}"

    async def send(params: dict) -> dict:
        # The body is rebuilt per request, as the API does (its filter holds the current time).
        async with http.post(url, data=msgspec.json.encode(_engine_body(params, who)), headers=headers) as response:
            body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
        return msgspec.json.decode(body)

    return send


def _peer_sender() -> Callable:
    from catalog.search import peer

    async def send(params: dict) -> dict:
        return {"hits": await peer.search_ids(params["q"])}

    return send


async def _query_classes() -> dict[str, list[dict]]:
    from catalog.search.service import categories

    rng = random.Random(7)
    codes = [row["code"] for row in await categories()] or [None]
    kinds = ["voucher", "paid", "points", "slot"]
    text = [{"q": q} for q in TEXT_QUERIES]
    filtered = []
    for i in range(24):
        params = {"category": codes[i % len(codes)], "sort": rng.choice(["price", "discount", "newest"])}
        if i % 2:
            params["kind"] = kinds[i % len(kinds)]
        if i % 3 == 0:
            params["min_price"], params["max_price"] = 0, rng.choice([5000, 20000, 50000])
        if i % 4 == 1:
            params["q"] = rng.choice(TEXT_QUERIES[:8])
        filtered.append({key: value for key, value in params.items() if value is not None})
    geo = []
    for i in range(24):
        params = {
            "lat": round(rng.uniform(*BEIJING_LAT), 5),
            "lng": round(rng.uniform(*BEIJING_LNG), 5),
            "radius_m": rng.choice([2000, 3000, 5000]),
            "sort": "distance",
        }
        if i % 3 == 1:
            params["q"] = rng.choice(TEXT_QUERIES[:8])
        geo.append(params)
    return {"text": text, "filtered": filtered, "geo": geo}


def _cpu_of(pid: int | None) -> Callable[[], float]:
    """CPU seconds (user + system) used so far by this process and its children; NaN
    when it cannot be read."""
    import psutil

    def cpu() -> float:
        try:
            process = psutil.Process(pid)
            return sum(sum(p.cpu_times()[:2]) for p in [process, *process.children(recursive=True)])
        except (psutil.Error, ValueError, TypeError):
            return float("nan")

    return cpu


def _engine_pid() -> int | None:
    state = components.by_name("meilisearch").state()
    return state["pid"] if state else None


# Freshness ---------------------------------------------------------------------------------


@dataclass
class Seen:
    """When a change showed in search, in milliseconds after it was committed."""

    searchable_ms: float  # the start of the first search that showed it (and every later one did)
    answered_ms: float  # the end of the first search that showed it


POLLERS = 4
# How long a change may take to show before it counts as timed out.
FRESHNESS_TIMEOUT = 20


async def _wait_until(visible: Callable, wanted: bool, timeout: float, pollers: int = POLLERS) -> Seen | None:
    """When `visible()` returned `wanted`, None on timeout.

    `pollers` searches overlap, each started as the last one answered (the first ones 25
    ms apart), as members searching at that moment would: on a machine where one search
    takes a second, a single poller would add up to a second of its own to the moment a
    change became searchable. A search answered busy (None) counts neither way."""
    started = time.perf_counter()
    polls: list[tuple[float, float, bool]] = []  # (started, answered, showed the change)
    done = asyncio.Event()

    async def poll(delay: float) -> None:
        await asyncio.sleep(delay)
        while not done.is_set() and time.perf_counter() - started <= timeout:
            asked = time.perf_counter()
            answer = await visible()
            if answer is not None:
                polls.append((asked, time.perf_counter(), answer == wanted))
            if answer == wanted:
                done.set()
            else:
                await asyncio.sleep(0.01)

    await asyncio.gather(*(poll(0.025 * n) for n in range(pollers)))
    shown = [(asked, answered) for asked, answered, ok in polls if ok]
    if not shown:
        return None
    last_not_shown = max((asked for asked, _, ok in polls if not ok), default=started)
    searchable = min((asked for asked, _ in shown if asked > last_not_shown), default=min(shown)[0])
    return Seen((searchable - started) * 1000, (min(answered for _, answered in shown) - started) * 1000)


def _record(
    report: Report, change: str, seen: Seen | None, phases: dict[str, float] | None = None, copied: float | None = None
) -> None:
    phases = dict(phases or {})
    if copied is not None:
        phases["in the overlay of a process"] = copied
    if seen is None:
        report.freshness_timeouts[change] = report.freshness_timeouts.get(change, 0) + 1
        return
    report.freshness_ms.setdefault(change, []).append(seen.answered_ms)
    report.freshness_searchable_ms.setdefault(change, []).append(seen.searchable_ms)
    for phase, value in (phases or {}).items():
        report.freshness_phases.setdefault(change, {}).setdefault(phase, []).append(value)


async def _overlay_shows(kind: str, item: int, visible: bool, timeout: float = 10) -> float | None:
    """Milliseconds until this process's copy of the visibility overlay holds the change
    (pushed as to every web process: see catalog/search/overlay.py), None if not seen."""
    from catalog.search import overlay

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        held = await overlay.current()
        sets = {
            ("offer", True): held.shown_offers,
            ("offer", False): held.hidden_offers,
            ("provider", True): held.shown_providers,
            ("provider", False): held.hidden_providers,
        }
        if item in sets[(kind, visible)]:
            return (time.perf_counter() - started) * 1000
        await asyncio.sleep(0.005)
    return None


async def _watch(
    visible: Callable, wanted: bool, timeout: float, kind: str, item: int
) -> tuple[Seen | None, float | None]:
    """The search's view and the overlay's of one change, watched together."""
    seen, copied = await asyncio.gather(
        _wait_until(visible, wanted, timeout), _overlay_shows(kind, item, wanted, timeout)
    )
    return seen, copied


async def _last_event_id() -> int:
    from marketplace.core import db

    rows = await db.fetch("SELECT coalesce(max(id), 0) AS id FROM outbox_event")
    return rows[0]["id"]


async def _phases(after_event: int, topic: str, committed_at: float) -> dict[str, float]:
    """How long the search event of a change took to be relayed and to be applied (the
    overlay is written as the job starts), in ms after `committed_at` (epoch seconds)."""
    from marketplace.core import db

    rows = await db.fetch(
        "SELECT extract(epoch FROM e.delivered_at) AS relayed, extract(epoch FROM p.processed_at) AS applied "
        "FROM outbox_event e LEFT JOIN processed_event p ON p.event_id = e.id AND p.consumer LIKE 'search.%' "
        "WHERE e.id > $1 AND e.topic = $2 ORDER BY e.id LIMIT 1",
        after_event,
        topic,
    )
    if not rows:
        return {}
    return {
        phase: max(0.0, (float(rows[0][phase]) - committed_at) * 1000)
        for phase in ("relayed", "applied")
        if rows[0][phase] is not None
    }


async def _operator() -> Principal:
    """The demo's national operator: the one who approves listings and suspends providers."""
    from marketplace.core.identity import services as identity
    from marketplace.core.identity.tables import Operator

    row = await Operator.select(Operator.id).where(Operator.username == "admin").first()
    principal = await identity.load_principal("operator", row["id"]) if row else None
    if principal is None:
        raise RuntimeError("the demo operator `admin` is missing: seed the data first")
    return principal


async def _freshness(
    http: httpx.AsyncClient, headers: dict, hits: list[dict], n: int, report: Report, timeout: float = FRESHNESS_TIMEOUT
) -> None:
    """For n offers the member can find: sent back for review (gone), then approved through
    `catalog.services.approve` (visible again); and for n of their providers: suspended
    through `providers.services.decide` (all their offers gone), then reinstated. Each
    change commits with its outbox event, as in the product."""
    from catalog import services as catalog
    from marketplace.core.db import engine
    from marketplace.core.jobs import outbox, topics
    from providers import services as providers

    operator = await _operator()

    def finder(provider_id: int, offer_id: int | None = None) -> Callable:
        async def visible() -> bool | None:
            response = await http.get(
                "/api/v1/search", params={"provider_id": provider_id, "page_size": 50}, headers=headers
            )
            if response.status_code == 503:
                return None  # busy: ask again
            response.raise_for_status()
            found = response.json()["hits"]
            return any(h["offer_id"] == offer_id for h in found) if offer_id else bool(found)

        return visible

    offers: dict[int, int] = {}
    for hit in hits:
        offers.setdefault(hit["offer_id"], hit["provider_id"])
    for offer_id, provider_id in list(offers.items())[:n]:
        visible = finder(provider_id, offer_id)
        if not await visible():
            continue
        # A revision waiting for review: the live offer is withdrawn until it is approved.
        before = await _last_event_id()
        async with engine().transaction() as transaction:
            await transaction.connection.execute(
                "UPDATE offer SET status = 'submitted', updated_at = now() WHERE id = $1", offer_id
            )
            await outbox.publish(topics.OfferChanged(offer_id=offer_id))
        committed = time.time()
        seen, copied = await _watch(visible, False, timeout, "offer", offer_id)
        _record(report, "withdrawn", seen, await _phases(before, topics.OfferChanged.topic, committed), copied)
        before = await _last_event_id()
        await catalog.approve(operator, offer_id)
        committed = time.time()
        seen, copied = await _watch(visible, True, timeout, "offer", offer_id)
        _record(report, "approved", seen, await _phases(before, topics.OfferChanged.topic, committed), copied)

    for provider_id in list(dict.fromkeys(offers.values()))[:n]:
        visible = finder(provider_id)
        if not await visible():
            continue
        before = await _last_event_id()
        await providers.decide(operator, provider_id, "suspend", "search freshness benchmark")
        committed = time.time()
        try:
            seen, copied = await _watch(visible, False, timeout, "provider", provider_id)
            _record(
                report,
                "provider suspended",
                seen,
                await _phases(before, topics.ProviderChanged.topic, committed),
                copied,
            )
        finally:
            await providers.decide(operator, provider_id, "reinstate")
        await _wait_until(visible, True, timeout)


# The run -----------------------------------------------------------------------------------


async def run(
    requests: int = 800,
    concurrency: int = 16,
    freshness: int = 20,
    class_time_limit: float = 60,
    log_dir: str | None = None,
    reindex: bool = True,
    say: Callable[[str], None] = print,
) -> Report:
    from marketplace.core import db
    from marketplace.core.identity import services as identity

    report = Report()
    port = components.free_port()
    base = f"http://127.0.0.1:{port}"
    log_dir = benchmarking.logs_folder(log_dir)
    children: list = []
    await db.open_pool()
    try:
        children.append(benchmarking.spawn_web(port, os.path.join(log_dir, "web.log")))
        children += benchmarking.spawn_jobs(log_dir)
        say(f"web app on {base}, worker and scheduler started (logs in {log_dir})")
        await benchmarking.wait_ready(base)

        # The load comes from aiohttp (its HTTP parser is C), so that the load generator,
        # which shares the two cores, takes as little from what it measures as it can.
        # httpx serves the few requests outside the load.
        load_http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency), timeout=aiohttp.ClientTimeout(total=10)
        )
        async with load_http, httpx.AsyncClient(base_url=base, timeout=10) as api_http:
            headers: dict = {}
            who = service.Eligibility.of(None)
            response = await api_http.post("/api/v1/auth/token", json=DEMO_MEMBER)
            if response.status_code in (200, 201):
                token = response.json()["token"]
                principal = await identity.principal_for_token(token, "bearer")
                if principal is not None:
                    headers = {"Authorization": f"Bearer {token}"}
                    who = service.Eligibility.of(principal)
                    report.signed_in = True
            if not report.signed_in:
                report.notes.append(f"demo member sign-in failed (HTTP {response.status_code}); anonymous queries")
            say(f"searching as {'the demo member' if report.signed_in else 'an anonymous visitor'}")

            api, engine = _api_sender(load_http, base, headers), _engine_sender(load_http, who)
            classes = await _query_classes()
            # Warm-up: every query once through both paths (the first searches of the web
            # process load its word lists; on a loaded machine some may time out).
            for params in [p for items in classes.values() for p in items]:
                for send in (api, engine):
                    try:
                        await send(params)
                    except Exception as error:
                        say(f"warm-up: {type(error).__name__}")
            measured = {"web": _cpu_of(children[0].pid), "engine": _cpu_of(_engine_pid())}
            for name, items in classes.items():
                api_stats, engine_stats = Stats(name, "api"), Stats(name, "engine")
                before = {who: cpu() for who, cpu in measured.items()}
                await _load_paired(
                    api, engine, items, api_stats, engine_stats, requests, concurrency, 2 * class_time_limit
                )
                report.classes.append((api_stats, engine_stats))
                searches = {"web": len(api_stats.latencies_ms)}
                searches["engine"] = searches["web"] + len(engine_stats.latencies_ms)
                report.cpu_ms[name] = {
                    who: (cpu() - before[who]) * 1000 / searches[who]
                    for who, cpu in measured.items()
                    if searches[who] and before[who] == before[who]
                }
                say(
                    f"{name}: api p95 {api_stats.pct(95):.1f} ms ({api_stats.degraded} of "
                    f"{len(api_stats.latencies_ms)} answers degraded), engine p95 {engine_stats.pct(95):.1f} ms"
                )

            # The PostgreSQL-only peer: the text class again, against the database only.
            report.peer = await benchmarking.bounded(
                "the PostgreSQL peer",
                _load(
                    _peer_sender(),
                    classes["text"],
                    Stats("text", "PostgreSQL peer"),
                    min(requests, 200),
                    concurrency,
                    class_time_limit,
                ),
                2 * class_time_limit + 60,
                report.notes,
            )
            if report.peer is not None:
                say(
                    f"PostgreSQL peer: text p95 {report.peer.pct(95):.1f} ms, "
                    f"{len(report.peer.latencies_ms)} answered, {report.peer.errors} errors"
                )

            # Freshness: offers the member can find, paused through the outbox, while
            # `concurrency` clients keep searching (text and geo), as the issue asks.
            if freshness:
                hits: list[dict] = []
                for params in classes["text"] + classes["geo"]:
                    try:
                        hits.extend((await api(params))["hits"])
                    except Exception:  # busy (503) or timed out on a loaded machine: the others will do
                        continue
                random.Random(11).shuffle(hits)
                searching = asyncio.Event()
                load_items = classes["text"] + classes["geo"]
                load = report.freshness_load = Stats("text + geo (during freshness)", "api")

                async def keep_searching() -> None:
                    i = 0
                    while not searching.is_set():
                        i += 1
                        started_at = time.perf_counter()
                        try:
                            body = await api(load_items[i % len(load_items)])
                            load.latencies_ms.append((time.perf_counter() - started_at) * 1000)
                            load.degraded += bool(body.get("degraded"))
                        except Exception:
                            load.errors += 1
                            # A refused connection fails at once: without a pause this
                            # loop would take the core from what it measures.
                            await asyncio.sleep(0.05)

                load_started = time.perf_counter()
                loaders = [asyncio.create_task(keep_searching()) for _ in range(concurrency)]
                try:
                    # Each change is watched for up to FRESHNESS_TIMEOUT twice (gone, back).
                    budget = (4 * freshness + 2) * FRESHNESS_TIMEOUT + 60
                    await benchmarking.bounded(
                        "freshness", _freshness(api_http, headers, hits, freshness, report), budget, report.notes
                    )
                finally:
                    searching.set()
                    await asyncio.gather(*loaders)
                    report.freshness_load.wall_s = time.perf_counter() - load_started
                say(
                    f"freshness: {sum(map(len, report.freshness_ms.values()))} changes measured, "
                    f"{sum(report.freshness_timeouts.values())} timed out"
                )

            # Full reindex with search answering throughout.
            stop = asyncio.Event()

            async def background() -> None:
                i = 0
                while not stop.is_set():
                    params = classes["text"][i % len(classes["text"])]
                    i += 1
                    report.reindex_queries += 1
                    try:
                        body = await api(params)
                        if body.get("degraded"):
                            report.reindex_degraded += 1
                    except Exception:
                        report.reindex_failures += 1
                    await asyncio.sleep(0.02)

            if reindex:
                loops = [asyncio.create_task(background()) for _ in range(2)]
                started = time.perf_counter()
                try:
                    report.reindex_documents = await benchmarking.bounded(
                        "the reindex", index.reindex(), max(300, 30 * class_time_limit), report.notes
                    )
                    if report.reindex_documents is not None:
                        report.reindex_s = time.perf_counter() - started
                except Exception as error:  # a finding to report, not a reason to lose the others
                    report.notes.append(
                        f"reindex failed after {time.perf_counter() - started:.0f} s: "
                        f"{type(error).__name__}: {str(error)[:200]}"
                    )
                finally:
                    stop.set()
                    await asyncio.gather(*loops)
                say(
                    f"reindex: {report.reindex_documents} documents in {report.reindex_s or float('nan'):.1f}s, "
                    f"{report.reindex_failures} failed of {report.reindex_queries} searches"
                )

            # Degraded mode: the engine stopped.
            meilisearch = components.by_name("meilisearch")
            if meilisearch.external():
                report.notes.append("Meilisearch is external (MEILI_URL): degraded mode not measured")
            else:
                meilisearch.stop()
                try:
                    report.degraded = await benchmarking.bounded(
                        "degraded mode",
                        _load(
                            api,
                            classes["text"],
                            Stats("text (degraded)", "api"),
                            min(requests, 200),
                            concurrency,
                            class_time_limit,
                        ),
                        2 * class_time_limit + 60,
                        report.notes,
                    )
                finally:
                    meilisearch.ensure_running()
                if report.degraded is not None:
                    say(
                        f"degraded: p95 {report.degraded.pct(95):.1f} ms, "
                        f"{report.degraded.degraded}/{len(report.degraded.latencies_ms)} answers degraded"
                    )
    finally:
        processes.stop(children)
        # The overlay's watcher (a Redis subscription of this process) and the pool are
        # closed within bounds: asyncpg's close waits for every connection to come back.
        from catalog.search import overlay

        async def close_pool() -> bool:
            await db.close_pool()
            return True

        await benchmarking.bounded("stopping the overlay watcher", overlay.stop(), 10, report.notes)
        if not await benchmarking.bounded("closing the database pool", close_pool(), 15, report.notes):
            pool = db.engine().pool
            if pool is not None:
                pool.terminate()
    return report
