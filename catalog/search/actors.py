"""Index sync jobs. Thin: load by id, call the service, safe to repeat.

An offer or provider event only announces the change (`index.announce`: the overlay at
once, so search shows the new visibility within a fraction of a second); `write_index`
writes the announced changes to the engine in batches and waits for it, in a job of its
own, so that the engine's 0.6 s per write never delays the next announcement.
"""

from collections.abc import Sequence

import dramatiq

from catalog.search import index
from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    outbox,
    periodic,
    topics,
)


async def _announce(offer_ids: Sequence[int] = (), provider_ids: Sequence[int] = ()) -> None:
    if await index.announce(offer_ids, provider_ids):
        write_index.send()


async def on_offer_changed(event_id: int, payload: dict) -> bool:
    event = topics.OfferChanged.read(payload)
    return await outbox.consume_once("search.offer_changed", event_id, lambda: _announce(offer_ids=[event.offer_id]))


async def on_provider_changed(event_id: int, payload: dict) -> bool:
    event = topics.ProviderChanged.read(payload)
    return await outbox.consume_once(
        "search.provider_changed", event_id, lambda: _announce(provider_ids=[event.provider_id])
    )


async def on_scorecard_changed(event_id: int, payload: dict) -> bool:
    """evaluation's rating of a provider changed: kept in catalog, then its documents rewritten."""
    event = topics.ScorecardChanged.read(payload)

    async def apply() -> None:
        await index.set_rating(event.provider_id, event.satisfaction)
        await _announce(provider_ids=[event.provider_id])

    return await outbox.consume_once("search.scorecard_changed", event_id, apply)


async def on_write_due() -> int:
    written, more = await index.write_pending()
    if more:
        write_index.send()
    return written


@dramatiq.actor(queue_name="default", max_retries=10, min_backoff=500)
async def offer_changed(event_id: int, payload: dict) -> None:
    await on_offer_changed(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=10, min_backoff=500)
async def provider_changed(event_id: int, payload: dict) -> None:
    await on_provider_changed(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=10, min_backoff=500)
async def scorecard_changed(event_id: int, payload: dict) -> None:
    await on_scorecard_changed(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=10, min_backoff=500)
async def write_index() -> None:
    await on_write_due()


@dramatiq.actor(queue_name="default", max_retries=0)
async def reconcile_index() -> None:
    await index.reconcile()


outbox.subscribe(topics.OfferChanged, offer_changed)
outbox.subscribe(topics.ProviderChanged, provider_changed)
outbox.subscribe(topics.ScorecardChanged, scorecard_changed)

periodic.every(reconcile_index, minutes=10)
