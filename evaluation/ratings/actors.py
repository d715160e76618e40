"""Jobs of the quality loop: the redemption feed, surveys and the enforcement policy.
Thin and safe to repeat."""

import dramatiq
import structlog

from evaluation.enforcement import policy
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


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=3_600_000)
async def apply_enforcement_policy() -> None:
    log.info("enforcement_policy_applied", states=await policy.evaluate_all())


outbox.subscribe(VOUCHER_REDEEMED, record_redemption)
outbox.subscribe(VOUCHER_HONOURED, record_honoured)
