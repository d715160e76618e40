"""Retention of personal data. Thin and safe to repeat."""

import dramatiq
import structlog

from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    periodic,
)
from marketplace.privacy import services

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=3)
async def anonymise_left_members() -> None:
    log.info("left_members_anonymised", count=await services.anonymise_left_members())


periodic.every(anonymise_left_members, hours=24)
