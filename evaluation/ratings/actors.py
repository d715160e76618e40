"""Jobs of ratings: the redemption feed and the surveys. Thin and safe to repeat."""

import dramatiq
import structlog

from evaluation.ratings import services as ratings
from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    outbox,
    periodic,
    topics,
)

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


outbox.subscribe(topics.VoucherRedeemed, record_redemption)
outbox.subscribe(topics.VoucherHonoured, record_honoured)

periodic.every(send_due_surveys, minutes=5)
