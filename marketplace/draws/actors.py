"""Periodic job of draws. Thin and safe to repeat."""

import dramatiq
import structlog

from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    periodic,
)
from marketplace.draws import services

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=3)
async def draws_tick() -> None:
    """Run draws whose entries closed; places left unclaimed go down the waitlist."""
    log.info("draws_ticked", **await services.tick())


# Draws whose entries closed are run; unclaimed or given-back places go down the waitlist.
periodic.every(draws_tick, minutes=1)
