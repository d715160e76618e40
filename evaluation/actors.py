"""Jobs of the quality loop: the redemption feed, surveys and the enforcement policy.
Thin and safe to repeat."""

import dramatiq
import structlog

from evaluation import policy, ratings
from marketplace.jobs import broker  # noqa: F401  (sets the broker before actors are declared)
from marketplace.jobs import outbox, topics

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=10)
async def record_redemption(event_id: int, payload: dict) -> None:
    await ratings.record_redemption(topics.VoucherRedeemed.read(payload))


@dramatiq.actor(queue_name="default", max_retries=10, min_backoff=1000)
async def record_honoured(event_id: int, payload: dict) -> None:
    """Retried until the redemption's own event has been applied."""
    event = topics.VoucherHonoured.read(payload)
    await ratings.record_honoured(event.voucher_id, event.honoured)


@dramatiq.actor(queue_name="default", max_retries=3)
async def send_due_surveys() -> None:
    log.info("surveys_sent", count=await ratings.send_due_surveys())


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=3_600_000)
async def apply_enforcement_policy() -> None:
    log.info("enforcement_policy_applied", states=await policy.evaluate_all())


outbox.subscribe(topics.VoucherRedeemed, record_redemption)
outbox.subscribe(topics.VoucherHonoured, record_honoured)
