"""Index sync jobs. Thin: load by id, call the service, safe to repeat."""

import dramatiq

from catalog.search import index
from marketplace.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    outbox,
    topics,
)


async def on_offer_changed(event_id: int, payload: dict) -> bool:
    event = topics.OfferChanged.read(payload)
    return await outbox.consume_once("search.offer_changed", event_id, lambda: index.sync_offer(event.offer_id))


async def on_provider_changed(event_id: int, payload: dict) -> bool:
    event = topics.ProviderChanged.read(payload)
    return await outbox.consume_once("search.provider_changed", event_id,
                                     lambda: index.sync_provider(event.provider_id))


@dramatiq.actor(queue_name="default", max_retries=10, min_backoff=500)
async def offer_changed(event_id: int, payload: dict) -> None:
    await on_offer_changed(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=10, min_backoff=500)
async def provider_changed(event_id: int, payload: dict) -> None:
    await on_provider_changed(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=0)
async def reconcile_index() -> None:
    await index.reconcile()


outbox.subscribe(topics.OfferChanged, offer_changed)
outbox.subscribe(topics.ProviderChanged, provider_changed)
