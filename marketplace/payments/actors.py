"""Jobs of payments. Thin and safe to repeat."""

import dramatiq
import structlog

from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    outbox,
    periodic,
)
from marketplace.payments import services
from marketplace.vouchers.services import PAID_VOUCHER_CANCELLED

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=10)
async def apply_stripe_event(event_id: int, payload: dict) -> None:
    outcome = await services.apply_event(payload["stripe_event_id"])
    log.info("stripe_event_applied", stripe_event_id=payload["stripe_event_id"], outcome=outcome)


@dramatiq.actor(queue_name="default", max_retries=20)
async def refund_payment(event_id: int, payload: dict) -> None:
    """Retried with back-off while Stripe cannot be reached; the refund's idempotency
    key keeps a retry from refunding twice."""
    await services.refund(payload["payment_id"])


@dramatiq.actor(queue_name="default", max_retries=10)
async def refund_cancelled_voucher(event_id: int, payload: dict) -> None:
    await outbox.consume_once(
        "payments.refund_cancelled_voucher",
        event_id,
        lambda: services.request_refund_for_voucher(payload["voucher_id"]),
    )


@dramatiq.actor(queue_name="default", max_retries=3)
async def release_expired_holds() -> None:
    log.info("payment_holds_released", count=await services.release_expired_holds())


@dramatiq.actor(queue_name="default", max_retries=3)
async def reconcile_with_stripe() -> None:
    await services.reconcile_with_stripe()


outbox.subscribe(services.STRIPE_EVENT, apply_stripe_event)
outbox.subscribe(services.REFUND_REQUESTED, refund_payment)
outbox.subscribe(PAID_VOUCHER_CANCELLED, refund_cancelled_voucher)

periodic.every(release_expired_holds, minutes=1)
# Payments against Stripe's PaymentIntents and refunds, daily at 04:30.
periodic.cron(reconcile_with_stripe, hour=4, minute=30)
