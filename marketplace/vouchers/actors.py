"""Periodic jobs of claims and vouchers. Thin and safe to repeat."""

import dramatiq
import structlog

from catalog import services as catalog
from evaluation.complaints import services as complaints
from evaluation.enforcement import delisting
from evaluation.ratings import services as ratings
from marketplace import notifications
from marketplace.idempotency import services as idempotency_keys
from marketplace.jobs import broker  # noqa: F401  (sets the broker before actors are declared)
from marketplace.jobs import outbox
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
    return await outbox.consume_once(
        "vouchers.ask_for_rating", event_id,
        lambda: services.ask_for_rating(payload["member_id"], payload["voucher_id"], event_id))


async def on_complaint_news(event_id: int, payload: dict, kind: str) -> bool:
    """The provider answered a complaint, or the union closed it: the member is told once,
    with one tap to the complaint on the voucher's page."""
    return await outbox.consume_once(
        f"vouchers.{kind}", event_id,
        lambda: notifications.tell(notifications.Message(
            payload["member_id"], kind, {"provider": payload["provider_name"]},
            link=f"/vouchers/{payload['voucher_id']}#complaint-{payload['complaint_id']}", source_event=event_id)))


async def on_provider_delisted(event_id: int, payload: dict) -> int:
    """A provider was delisted; when the operator chose so, its issued vouchers are
    cancelled and refunded (otherwise they stay redeemable until they expire)."""
    return await services.cancel_for_provider(payload["provider_id"]) if payload.get("cancel_vouchers") else 0


async def on_offer_changed(event_id: int, payload: dict) -> bool:
    """An offer changed (stock back, edited, ...): members waiting for it are told once."""
    return await outbox.consume_once("vouchers.restock_alerts", event_id,
                                     lambda: services.notify_restock(payload["offer_id"]))


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


outbox.subscribe(ratings.SURVEY_DUE, ask_for_rating)
outbox.subscribe(delisting.PROVIDER_DELISTED, cancel_delisted_vouchers)
outbox.subscribe(catalog.OFFER_CHANGED, tell_restocked)
outbox.subscribe(complaints.COMPLAINT_ANSWERED, tell_complaint_answered)
outbox.subscribe(complaints.COMPLAINT_CLOSED, tell_complaint_closed)
