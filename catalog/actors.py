"""Jobs of the catalog domain. Thin: load by id, call the service, safe to repeat."""

import dramatiq
import structlog

from catalog import services
from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    periodic,
)

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=3)
async def expire_offers() -> None:
    """Published and paused offers past their window become expired (safe to repeat:
    an expired offer is not picked again)."""
    expired = await services.expire_offers()
    log.info("offers_expired", count=len(expired))


periodic.every(expire_offers, minutes=5)
