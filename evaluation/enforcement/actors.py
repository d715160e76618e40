"""The enforcement policy's periodic job, and Prepaid Guard's risk freeze: its periodic run
over the signals and the provider's notice of a freeze and its lifting. Thin and safe to repeat."""

import dramatiq
import structlog

from evaluation.enforcement import freeze, policy
from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    outbox,
    periodic,
    topics,
)

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=3_600_000)
async def apply_enforcement_policy() -> None:
    log.info("enforcement_policy_applied", states=await policy.evaluate_all())


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=3_600_000)
async def evaluate_prepaid_risk() -> None:
    log.info("prepaid_risk_evaluated", frozen=await freeze.evaluate_all())


@dramatiq.actor(queue_name="default", max_retries=10)
async def tell_provider_frozen(event_id: int, payload: dict) -> None:
    event = topics.PrepaidSalesFrozen.read(payload)
    await freeze.tell_provider(event.provider_id, True, event.reason)


@dramatiq.actor(queue_name="default", max_retries=10)
async def tell_provider_resumed(event_id: int, payload: dict) -> None:
    event = topics.PrepaidSalesResumed.read(payload)
    await freeze.tell_provider(event.provider_id, False, event.reason)


periodic.every(apply_enforcement_policy, hours=1)
periodic.every(evaluate_prepaid_risk, hours=6)
outbox.subscribe(topics.PrepaidSalesFrozen, tell_provider_frozen)
outbox.subscribe(topics.PrepaidSalesResumed, tell_provider_resumed)
