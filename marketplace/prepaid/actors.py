"""Jobs of prepaid packages. Thin and safe to repeat."""

import dramatiq
import structlog

from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    outbox,
    periodic,
    topics,
)
from marketplace.prepaid import services

log = structlog.get_logger(__name__)


async def on_provider_delisted(event_id: int, payload: dict) -> int:
    """A provider was delisted: every unused balance of its packages goes back, whatever the
    operator chose for its vouchers (a package is money paid ahead, not a voucher)."""
    event = topics.ProviderDelisted.read(payload)
    return await services.refund_provider(event.provider_id)


async def on_provider_closed(event_id: int, payload: dict) -> int:
    """A provider closed its business (an operator's 关闭/停业 decision): as on delisting, every
    unused balance goes back, the members told in the inbox."""
    event = topics.ProviderClosed.read(payload)
    return await services.refund_provider(event.provider_id, "closed")


@dramatiq.actor(queue_name="default", max_retries=10, time_limit=3_600_000)
async def refund_delisted_packages(event_id: int, payload: dict) -> None:
    await on_provider_delisted(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=10, time_limit=3_600_000)
async def refund_closed_packages(event_id: int, payload: dict) -> None:
    await on_provider_closed(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=10)
async def follow_stripe_refunds(event_id: int, payload: dict) -> None:
    """A refund made by hand in Stripe on a package's payment: the escrow follows it."""
    event = topics.PrepaidRefundedInStripe.read(payload)
    await services.follow_stripe_refunds(event.payment_id)


@dramatiq.actor(queue_name="default", max_retries=10)
async def tell_holders_frozen(event_id: int, payload: dict) -> None:
    """Prepaid Guard stopped a provider's sales: its package holders are told (they keep using them)."""
    event = topics.PrepaidSalesFrozen.read(payload)
    await services.tell_holders_frozen(event.provider_id, event_id)


@dramatiq.actor(queue_name="default", max_retries=3)
async def release_memberships() -> None:
    log.info("prepaid_memberships_released", fen=await services.release_memberships())


@dramatiq.actor(queue_name="default", max_retries=3)
async def refund_expired_packages() -> None:
    log.info("prepaid_expired_refunded", count=await services.refund_expired())


@dramatiq.actor(queue_name="default", max_retries=3)
async def send_unsent_refunds() -> None:
    log.info("prepaid_refunds_resent", count=await services.send_unsent_refunds())


outbox.subscribe(topics.ProviderDelisted, refund_delisted_packages)
outbox.subscribe(topics.ProviderClosed, refund_closed_packages)
outbox.subscribe(topics.PrepaidRefundedInStripe, follow_stripe_refunds)
outbox.subscribe(topics.PrepaidSalesFrozen, tell_holders_frozen)

periodic.every(release_memberships, hours=1)
periodic.every(refund_expired_packages, hours=1)
periodic.every(send_unsent_refunds, minutes=10)
