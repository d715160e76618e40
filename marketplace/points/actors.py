"""Jobs of the points ledger. Thin and safe to repeat."""

import dramatiq
import structlog

from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    outbox,
    periodic,
    topics,
)
from marketplace.points import services

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=10, time_limit=3_600_000)
async def apply_grant(event_id: int, payload: dict) -> None:
    """Chunk by chunk; a retry picks up after the last committed chunk."""
    await services.apply_grant(topics.GrantCreated.read(payload).grant_id)


@dramatiq.actor(queue_name="default", max_retries=3)
async def expire_points() -> None:
    log.info("points_expired", points=await services.expire_points())


@dramatiq.actor(queue_name="default", max_retries=3)
async def remind_expiring_points() -> None:
    log.info("points_expiry_reminders_sent", members=await services.remind_expiring())


@dramatiq.actor(queue_name="default", max_retries=3)
async def reconcile_points() -> None:
    mismatched = await services.reconcile()
    log.info("points_reconciled", mismatched=len(mismatched))


outbox.subscribe(topics.GrantCreated, apply_grant)

periodic.every(expire_points, hours=1)
periodic.every(remind_expiring_points, hours=6)
periodic.every(reconcile_points, hours=24)
