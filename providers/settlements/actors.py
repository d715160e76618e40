"""The monthly job that drafts settlement statements. Thin and safe to repeat."""

import dramatiq

from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    periodic,
)
from providers.settlements import drafting as statements


@dramatiq.actor(queue_name="default", max_retries=3)
async def draft_last_month_statements() -> None:
    """Draft (or recompute) last month's statement of every provider with redemptions."""
    await statements.draft_last_month()


# Last month's statements, early on the 1st (a rerun only recomputes drafts).
periodic.cron(draft_last_month_statements, day=1, hour=3)
