"""Jobs that keep scorecards current. Thin and safe to repeat (a recomputation reads the
data as it is; a message handled twice recomputes twice, to the same figures)."""

import dramatiq
import structlog

from evaluation.scorecards import services as scorecards
from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    outbox,
    periodic,
    topics,
)

log = structlog.get_logger(__name__)


async def on_rating_changed(event_id: int, payload: dict) -> bool:
    event = topics.RatingChanged.read(payload)
    return await outbox.consume_once(
        "scorecards.rating_changed", event_id, lambda: scorecards.recompute_provider(event.provider_id)
    )


async def on_results_applied(event_id: int, payload: dict) -> bool:
    event = topics.ResultsApplied.read(payload)
    return await outbox.consume_once(
        "scorecards.results_applied", event_id, lambda: scorecards.recompute_providers(event.provider_ids)
    )


@dramatiq.actor(queue_name="default", max_retries=10, min_backoff=500)
async def rating_changed(event_id: int, payload: dict) -> None:
    await on_rating_changed(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=10, min_backoff=500)
async def results_applied(event_id: int, payload: dict) -> None:
    await on_results_applied(event_id, payload)


@dramatiq.actor(queue_name="default", max_retries=1, time_limit=15 * 60 * 1000)
async def recompute_scorecards() -> None:
    """Every provider's scorecard over the rolling window (hourly)."""
    result = await scorecards.recompute_all()
    log.info("scorecards_recomputed", providers=result.providers, seconds=round(result.seconds, 2))


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=15 * 60 * 1000)
async def snapshot_last_month() -> None:
    """Last month's figures, kept for the trend charts (a rerun replaces the snapshot)."""
    month = scorecards.previous_month()
    providers = await scorecards.snapshot_month(month)
    log.info("scorecards_snapshot", month=month.isoformat(), providers=providers)


outbox.subscribe(topics.RatingChanged, rating_changed)
outbox.subscribe(topics.ResultsApplied, results_applied)

# Every provider hourly; last month's snapshot early on the 1st.
periodic.every(recompute_scorecards, hours=1)
periodic.cron(snapshot_last_month, day=1, hour=2, minute=30)
