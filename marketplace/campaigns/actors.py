"""Periodic job of campaigns. Thin and safe to repeat."""

import dramatiq
import structlog

from marketplace.campaigns import services
from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    periodic,
)

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=3)
async def release_expired_spend() -> None:
    """Vouchers that expired unredeemed give their subsidy back to their campaigns."""
    log.info("campaign_spend_released", count=await services.release_expired_spend())


periodic.every(release_expired_spend, minutes=5)
