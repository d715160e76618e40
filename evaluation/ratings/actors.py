"""Jobs of ratings: the redemption feed and the surveys. Thin and safe to repeat."""

import dramatiq
import structlog

from evaluation.ratings import services as ratings
from marketplace.jobs import broker  # noqa: F401  (sets the broker before actors are declared)
from marketplace.jobs import outbox

log = structlog.get_logger(__name__)

# The marketplace's topics (marketplace/vouchers/services.py); named here, not imported,
# because evaluation does not depend on the marketplace.
VOUCHER_REDEEMED = "voucher.redeemed"
VOUCHER_HONOURED = "voucher.honoured"


@dramatiq.actor(queue_name="default", max_retries=10)
async def record_redemption(event_id: int, payload: dict) -> None:
    await ratings.record_redemption(payload)


@dramatiq.actor(queue_name="default", max_retries=10, min_backoff=1000)
async def record_honoured(event_id: int, payload: dict) -> None:
    """Retried until the redemption's own event has been applied."""
    await ratings.record_honoured(payload["voucher_id"], payload["honoured"])


@dramatiq.actor(queue_name="default", max_retries=3)
async def send_due_surveys() -> None:
    log.info("surveys_sent", count=await ratings.send_due_surveys())


outbox.subscribe(VOUCHER_REDEEMED, record_redemption)
outbox.subscribe(VOUCHER_HONOURED, record_honoured)
