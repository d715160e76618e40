"""Jobs that keep the job machinery's own tables small. Thin and safe to repeat."""

from datetime import timedelta

import dramatiq
import structlog

from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    outbox,
    periodic,
)
from marketplace.core.settings import get_settings

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=3_600_000)
async def purge_outbox() -> None:
    days = get_settings().jobs.outbox_retention_days
    events, markers = await outbox.purge(timedelta(days=days))
    log.info("outbox_purged", events=events, markers=markers, retention_days=days)


periodic.every(purge_outbox, hours=1)
