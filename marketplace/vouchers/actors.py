"""Periodic jobs of claims and vouchers. Thin and safe to repeat."""

import dramatiq
import structlog

from marketplace.idempotency import services as idempotency_keys
from marketplace.jobs import broker  # noqa: F401  (sets the broker before actors are declared)
from marketplace.vouchers import services

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=3)
async def expire_vouchers() -> None:
    """Issued vouchers past their expiry become expired (an expired one is not picked again)."""
    log.info("vouchers_expired", count=await services.expire_vouchers())


@dramatiq.actor(queue_name="default", max_retries=3)
async def purge_idempotency_keys() -> None:
    log.info("idempotency_keys_purged", count=await idempotency_keys.purge_expired())
