"""The weekly job that draws follow-up samples for evaluators. Thin and safe to repeat."""

import dramatiq

from evaluation.evaluators import samples
from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    periodic,
)


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=3_600_000)
async def draw_follow_up_samples() -> None:
    """Draw this week's samples of recent redemptions for every evaluator organisation."""
    await samples.draw_samples()


# Follow-up samples, Monday 02:00 (a rerun that week draws nothing new).
periodic.cron(draw_follow_up_samples, day_of_week="mon", hour=2)
