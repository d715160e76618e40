"""The enforcement policy's periodic job. Thin and safe to repeat."""

import dramatiq
import structlog

from evaluation.enforcement import policy
from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    periodic,
)

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=3_600_000)
async def apply_enforcement_policy() -> None:
    log.info("enforcement_policy_applied", states=await policy.evaluate_all())


periodic.every(apply_enforcement_policy, hours=1)
