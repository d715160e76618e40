"""The job that keeps the report aggregates current. Safe to repeat: a run deletes and
recomputes the days it covers, under an advisory lock."""

import dramatiq
import structlog

from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    periodic,
)
from marketplace.reports import services

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=30 * 60 * 1000)
async def refresh_reports() -> None:
    """The last two days (and any since the last run), every 10 minutes."""
    result = await services.refresh()
    log.info(
        "reports_refreshed",
        from_day=result.from_day.isoformat(),
        seconds=round(result.seconds, 2),
        usage_rows=result.usage_rows,
        provider_rows=result.provider_rows,
        miss_rows=result.miss_rows,
    )


# The last two days, incrementally (full history: `benefits reports rebuild`).
periodic.every(refresh_reports, minutes=10)
