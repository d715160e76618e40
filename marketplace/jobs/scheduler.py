"""The scheduler process: sends periodic jobs to the workers and relays the outbox.

Only one scheduler runs per deployment. Periodic jobs are plain `actor.send` calls,
so the work itself happens in the workers and is safe to repeat.
"""

import asyncio
import signal

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from marketplace import db, logs
from marketplace.jobs import actors, outbox
from marketplace.settings import get_settings

log = structlog.get_logger(__name__)

# How long an idle relay waits before looking again: an event waits at most this long
# before it is handed over. The look is an index-only scan of the pending rows.
RELAY_IDLE_SECONDS = 0.05

PERIODIC_JOBS = [
    (actors.identity.purge_expired_sessions, IntervalTrigger(hours=1)),
    (actors.housekeeping.purge_outbox, IntervalTrigger(hours=1)),
    (actors.search.reconcile_index, IntervalTrigger(minutes=10)),
    (actors.catalog.expire_offers, IntervalTrigger(minutes=5)),
    (actors.vouchers.expire_vouchers, IntervalTrigger(minutes=5)),
    (actors.vouchers.purge_idempotency_keys, IntervalTrigger(hours=1)),
    # Last month's settlement statements, early on the 1st in Shanghai (a rerun only recomputes drafts).
    (actors.settlements.draft_last_month_statements, CronTrigger(day=1, hour=3, timezone="Asia/Shanghai")),
    (actors.payments.release_expired_holds, IntervalTrigger(minutes=1)),
    (actors.points.expire_points, IntervalTrigger(hours=1)),
    (actors.points.remind_expiring_points, IntervalTrigger(hours=6)),
    (actors.points.reconcile_points, IntervalTrigger(hours=24)),
    (actors.evaluation.send_due_surveys, IntervalTrigger(minutes=5)),
    (actors.evaluation.apply_enforcement_policy, IntervalTrigger(hours=1)),
    (actors.privacy.anonymise_left_members, IntervalTrigger(hours=24)),
    (actors.campaigns.release_expired_spend, IntervalTrigger(minutes=5)),
    # Report aggregates: the last two days, incrementally (full history: `benefits reports rebuild`).
    (actors.reports.refresh_reports, IntervalTrigger(minutes=10)),
    # Scorecards: every provider hourly; last month's snapshot early on the 1st in Shanghai.
    (actors.scorecards.recompute_scorecards, IntervalTrigger(hours=1)),
    (actors.scorecards.snapshot_last_month, CronTrigger(day=1, hour=2, minute=30, timezone="Asia/Shanghai")),
    # Follow-up samples for evaluators, Monday 02:00 in Shanghai (a rerun that week draws nothing new).
    (actors.evaluation_samples.draw_follow_up_samples,
     CronTrigger(day_of_week="mon", hour=2, timezone="Asia/Shanghai")),
]


async def relay_forever(stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            delivered = await outbox.relay_once()
        except Exception as error:  # the database is down: wait and try again
            log.warning("outbox_relay_error", error=type(error).__name__)
            delivered = 0
        if delivered == 0:
            try:
                await asyncio.wait_for(stop.wait(), RELAY_IDLE_SECONDS)
            except asyncio.TimeoutError:
                pass


async def run() -> None:
    logs.configure(json=get_settings().app.log_json)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await db.open_pool()
    scheduler = AsyncIOScheduler(timezone="UTC")
    for actor, trigger in PERIODIC_JOBS:
        scheduler.add_job(actor.send, trigger, id=actor.actor_name, coalesce=True, max_instances=1)
    scheduler.start()
    log.info("scheduler_started", jobs=[actor.actor_name for actor, _ in PERIODIC_JOBS])
    try:
        await relay_forever(stop)
    finally:
        scheduler.shutdown(wait=False)
        await db.close_pool()
        log.info("scheduler_stopped")
