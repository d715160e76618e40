import dramatiq
import structlog

from marketplace.core.identity import services
from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    periodic,
)

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=3)
async def purge_expired_sessions() -> None:
    removed = await services.purge_expired_sessions()
    log.info("sessions_purged", removed=removed)


periodic.every(purge_expired_sessions, hours=1)
