"""Periodic jobs of claims and vouchers. Thin and safe to repeat."""

import dramatiq
import structlog

from marketplace.core import notifications
from marketplace.core.idempotency import services as idempotency_keys
from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    outbox,
    periodic,
    topics,
)
from marketplace.vouchers import services

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=3)
async def expire_vouchers() -> None:
    """Issued vouchers past their expiry become expired (an expired one is not picked again)."""
    log.info("vouchers_expired", count=await services.expire_vouchers())


@dramatiq.actor(queue_name="default", max_retries=3)
async def remind_bookings() -> None:
    """The day before a booked slot, its member is told (once) in the inbox."""
    log.info("booking_reminders_sent", count=await services.remind_bookings())


@dramatiq.actor(queue_name="default", max_retries=3)
async def purge_idempotency_keys() -> None:
    log.info("idempotency_keys_purged", count=await idempotency_keys.purge_expired())


async def on_survey_due(event_id: int, payload: dict) -> bool:
    """Evaluation's survey of a redemption, as a message to the member (once per event)."""
    event = topics.SurveyDue.read(payload)
    return await outbox.consume_once(
        "vouchers.ask_for_rating",
        event_id,
        lambda: services.ask_for_rating(event.member_id, event.voucher_id, event_id),
    )


async def on_complaint_news(event_id: int, payload: dict, kind: str) -> bool:
    """The provider answered a complaint, or the union closed it: the member is told once,
    with one tap to the complaint on the voucher's page."""
    event = topics.ComplaintNews.read(payload)
    return await outbox.consume_once(
        f"vouchers.{kind}",
        event_id,
        lambda: notifications.tell(
            notifications.Message(
                event.member_id,
                kind,
                {"provider": event.provider_name},
                link=f"/vouchers/{event.voucher_id}#complaint-{event.complaint_id}",
                source_event=event_id,
            )
        ),
    )


async def on_provider_delisted(event_id: int, payload: dict) -> int:
    """A provider was delisted; when the operator chose so, its issued vouchers are
    cancelled and refunded (otherwise they stay redeemable until they expire)."""
    event = topics.ProviderDelisted.read(payload)
    return await services.cancel_for_provider(event.provider_id) if event.cancel_vouchers else 0


async def on_provider_closed(event_id: int, payload: dict) -> int:
    """A provider closed its business for good: nobody can use its issued vouchers any more,
    so all of them are cancelled and refunded (a delisting leaves that to the operator)."""
    event = topics.ProviderClosed.read(payload)
    return await services.cancel_for_provider(event.provider_id)


async def on_offer_changed(event_id: int, payload: dict) -> bool:
    """An offer changed (stock back, edited, ...): members waiting for it are told once."""
    event = topics.OfferChanged.read(payload)
    return await outbox.consume_once(
        "vouchers.restock_alerts", event_id, lambda: services.notify_restock(event.offer_id)
    )


@dramatiq.actor(queue_name="default", max_retries=10)
async def tell_restocked(event_id: int, payload: dict) -> None:
    await on_offer_changed(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=5)
async def ask_for_rating(event_id: int, payload: dict) -> None:
    await on_survey_due(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=10)
async def tell_complaint_answered(event_id: int, payload: dict) -> None:
    await on_complaint_news(event_id, payload, "complaint_answered")


@dramatiq.actor(queue_name="default", max_retries=10)
async def tell_complaint_closed(event_id: int, payload: dict) -> None:
    await on_complaint_news(event_id, payload, "complaint_closed")


@dramatiq.actor(queue_name="default", max_retries=10)
async def cancel_delisted_vouchers(event_id: int, payload: dict) -> None:
    await on_provider_delisted(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=10)
async def cancel_closed_vouchers(event_id: int, payload: dict) -> None:
    await on_provider_closed(event_id, payload)


outbox.subscribe(topics.SurveyDue, ask_for_rating)
outbox.subscribe(topics.ProviderClosed, cancel_closed_vouchers)
outbox.subscribe(topics.ProviderDelisted, cancel_delisted_vouchers)
outbox.subscribe(topics.OfferChanged, tell_restocked)
outbox.subscribe(topics.ComplaintAnswered, tell_complaint_answered)
outbox.subscribe(topics.ComplaintClosed, tell_complaint_closed)

periodic.every(expire_vouchers, minutes=5)
periodic.every(purge_idempotency_keys, hours=1)
periodic.every(remind_bookings, hours=1)
