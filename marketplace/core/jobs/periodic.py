"""Periodic jobs, registered by the actors module that declares them, as consumers are with
`outbox.subscribe`, so the scheduler never lists a domain's actors:

    periodic.every(expire_offers, minutes=5)
    periodic.cron(draft_last_month_statements, day=1, hour=3)  # in the configured zone

The scheduler (marketplace/core/jobs/scheduler.py) starts every registered job once the
shell has loaded the domains' actors (marketplace.core.domains.load_actors). A job is a
plain `actor.send`, so the work happens in the workers; every periodic actor is safe to
repeat, since a job may fire twice around a change of leader.
"""

from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from marketplace.core import dates

_jobs: dict[str, tuple[Any, BaseTrigger]] = {}  # actor name -> (actor, when)


def every(actor: Any, *, minutes: int = 0, hours: int = 0) -> None:
    """Run `actor` every so many minutes or hours."""
    _jobs[actor.actor_name] = (actor, IntervalTrigger(minutes=minutes, hours=hours))


def cron(actor: Any, **fields: Any) -> None:
    """Run `actor` at the cron `fields` (day, day_of_week, hour, minute...) in the
    configured time zone (TIME_ZONE), never a hard-coded one."""
    _jobs[actor.actor_name] = (actor, CronTrigger(**fields, timezone=dates.zone()))


def jobs() -> list[tuple[Any, BaseTrigger]]:
    """Every registered (actor, trigger)."""
    return list(_jobs.values())


def trigger_of(actor: Any) -> BaseTrigger | None:
    job = _jobs.get(actor.actor_name)
    return job[1] if job else None
