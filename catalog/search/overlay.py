"""Visibility changes that search honours before the index has applied them.

Every write to the Meilisearch index, however small, rewrites the index's geo tree: on
100,000 documents with `_geo` that is 0.4–0.7 s per write (the engine's own trace says
"writing geo points"), even for a partial update of one boolean, and longer while
searches share the cores. An offer approved or withdrawn, or a provider suspended,
would not show in search within a second.

So the index keeps the documents of offers that may come back (submitted, paused, their
provider suspended) with `published` / `provider_active` flags, and the sync writes the
new visibility here, in Redis, before it writes the index. Each search adds what is
here to its filter (`offer_id IN [...]` / `NOT IN [...]`), so a change is seen as soon
as the sync has read it; when the engine has applied the write, the entry is removed.
Entries expire on their own after `TTL_SECONDS`, should a sync die half-way.

Searches never wait for Redis: each web process keeps its copy of the overlay, and a
watcher task re-reads it when a sync announces a change (Redis pub/sub on `CHANNEL`,
milliseconds) and every `REFRESH_SECONDS` in any case (entries that expired or were
cleared). Measured before: re-read on the request path every 100 ms, two round trips
that the unlucky search waited for, which under load was a fifth of the web process's
samples (py-spy) and up to 100 ms more before a change showed.
"""

import asyncio
import time
from dataclasses import dataclass

import structlog

from marketplace.core.kv import redis

log = structlog.get_logger(__name__)

KEYS = {"offer": "search:overlay:offer", "provider": "search:overlay:provider"}
CHANNEL = "search:overlay:changed"
TTL_SECONDS = 120
REFRESH_SECONDS = 1.0

# Delete a field only if it still holds the value this sync wrote (a later sync may have
# written another since).
_DELETE_IF_SAME = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
"""


@dataclass(frozen=True)
class Overlay:
    shown_offers: frozenset[int] = frozenset()
    hidden_offers: frozenset[int] = frozenset()
    shown_providers: frozenset[int] = frozenset()
    hidden_providers: frozenset[int] = frozenset()

    def filter(self) -> str:
        """The engine filter of what is visible now (documents' flags, corrected by the overlay)."""
        offer = _condition("published = true", "offer_id", self.shown_offers, self.hidden_offers)
        provider = _condition("provider_active = true", "provider_id", self.shown_providers, self.hidden_providers)
        return f"{offer} AND {provider}"


def _ids(values: frozenset[int]) -> str:
    return ", ".join(map(str, sorted(values)))


def _condition(flag: str, attribute: str, shown: frozenset[int], hidden: frozenset[int]) -> str:
    condition = flag
    if hidden:
        condition = f"({flag} AND {attribute} NOT IN [{_ids(hidden)}])"
    if shown:
        condition = f"({condition} OR {attribute} IN [{_ids(shown)}])"
    return condition


def _value(visible: bool) -> str:
    return f"{int(visible)}:{time.time():.6f}"


async def mark(kind: str, visibility: dict[int, bool]) -> dict[int, str]:
    """Record the new visibility of these offers or providers; returns what was written,
    for `clear`."""
    if not visibility:
        return {}
    written = {item: _value(visible) for item, visible in visibility.items()}
    async with redis().pipeline(transaction=False) as pipe:
        pipe.hset(KEYS[kind], mapping={str(item): value for item, value in written.items()})
        pipe.publish(CHANNEL, kind)
        await pipe.execute()
    forget()  # a search in this process (tests, the CLI) sees it at once
    return written


async def clear(kind: str, written: dict[int, str]) -> None:
    """The index now holds these changes: drop the entries this sync wrote."""
    if not written:
        return
    connection = redis()
    script = connection.register_script(_DELETE_IF_SAME)
    for item, value in written.items():
        await script(keys=[KEYS[kind]], args=[str(item), value])


# Delete each field whose value was written at or before ARGV[1] (seconds): the index
# write that has just been applied read the database after it, so it holds that change.
_DELETE_IF_OLDER = """
local removed = 0
for i = 2, #ARGV do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  if value then
    local written_at = tonumber(string.match(value, ':(.*)$'))
    if written_at and written_at <= tonumber(ARGV[1]) then
      removed = removed + redis.call('HDEL', KEYS[1], ARGV[i])
    end
  end
end
return removed
"""


async def clear_before(kind: str, items: list[int], read_at: float) -> None:
    """The index now holds what the database held at `read_at` for these offers or
    providers: drop their entries written before then (later ones stay)."""
    if items:
        script = redis().register_script(_DELETE_IF_OLDER)
        await script(keys=[KEYS[kind]], args=[f"{read_at:.6f}", *map(str, items)])


async def read() -> Overlay:
    """The overlay as Redis holds it now (expired entries ignored), in one round trip."""
    now = time.time()
    sets: dict[str, tuple[set[int], set[int]]] = {}
    async with redis().pipeline(transaction=False) as pipe:
        for key in KEYS.values():
            pipe.hgetall(key)
        hashes = await pipe.execute()
    for kind, held in zip(KEYS, hashes, strict=True):
        shown: set[int] = set()
        hidden: set[int] = set()
        for item, value in held.items():
            visible, _, written_at = (value.decode() if isinstance(value, bytes) else value).partition(":")
            if now - float(written_at or 0) > TTL_SECONDS:
                continue
            (shown if visible == "1" else hidden).add(int(item))
        sets[kind] = (shown, hidden)
    return Overlay(
        frozenset(sets["offer"][0]),
        frozenset(sets["offer"][1]),
        frozenset(sets["provider"][0]),
        frozenset(sets["provider"][1]),
    )


class _Cache:
    """The overlay of this process. Searches take the copy as it is; a watcher task (one
    per event loop) refreshes it when a sync publishes a change, and every
    REFRESH_SECONDS. Only the first search of a loop, or one after `forget`, reads Redis
    itself."""

    def __init__(self) -> None:
        self.value = Overlay()
        self.stale = True
        self.watchers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}

    async def get(self) -> Overlay:
        loop = asyncio.get_running_loop()
        watcher = self.watchers.get(loop)
        if watcher is None or watcher.done():
            self.watchers = {loop: loop.create_task(self._watch(), name="search-overlay-watcher")}
            self.stale = True
        if self.stale:
            await self._refresh()
        return self.value

    async def _refresh(self) -> None:
        self.stale = False
        try:
            self.value = await read()
        except Exception as error:  # Redis unreachable: search goes on, changes show later
            log.warning("search_overlay_unreadable", error=type(error).__name__)

    async def _watch(self) -> None:
        while True:
            try:
                async with redis().pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    while True:
                        # A change announced, or REFRESH_SECONDS without one: read again.
                        await pubsub.get_message(timeout=REFRESH_SECONDS)
                        await self._refresh()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis away: try again; searches keep the last copy
                log.warning("search_overlay_watch_failed", error=type(error).__name__)
                await asyncio.sleep(REFRESH_SECONDS)

    async def stop(self) -> None:
        watchers, self.watchers = self.watchers, {}
        for task in watchers.values():
            task.cancel()
        await asyncio.gather(*watchers.values(), return_exceptions=True)


_cache = _Cache()


async def current() -> Overlay:
    return await _cache.get()


def forget() -> None:
    """Read Redis on the next search (tests, after writing the overlay)."""
    _cache.stale = True


async def stop() -> None:
    """Stop this process's watcher (the web app's shutdown)."""
    await _cache.stop()
