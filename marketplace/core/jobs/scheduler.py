"""The scheduler process: sends periodic jobs to the workers and relays the outbox.

Several may run (on several machines, or a second one by mistake); exactly one acts.
Each holds a connection of its own to PostgreSQL and asks for a session-level advisory
lock on it. The one that gets it leads: it starts the periodic jobs and the outbox relay.
The others stand by and ask again every LEADER_RETRY_SECONDS. PostgreSQL releases the
lock when the leader's connection ends, however the process died (a kill -9 closes its
socket), so a standby takes over within seconds. The leader checks its connection every
LEADER_CHECK_SECONDS and steps down when it is gone (the database restarted or the
network failed), since the lock may then be someone else's. In the short overlap this
allows, nothing breaks: the relay takes rows with SKIP LOCKED and every job is safe to
repeat. Which process leads shows in `pg_stat_activity` (application name
`benefits-scheduler <host>:<pid>`) beside its lock in `pg_locks`.

Periodic jobs are plain `actor.send` calls, so the work itself happens in the workers.
Each domain's actors module registers its own (marketplace/core/jobs/periodic.py); the
command (`benefits scheduler`) loads the composed domains' actors before `run`.
"""

import asyncio
import contextlib
import os
import signal
import socket

import asyncpg
import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from marketplace.core import db, logs
from marketplace.core.jobs import outbox, periodic
from marketplace.core.settings import get_settings

log = structlog.get_logger(__name__)

# How long an idle relay waits before looking again: an event waits at most this long
# before it is handed over. The look is an index-only scan of the pending rows.
RELAY_IDLE_SECONDS = 0.05

# The advisory lock's key (any bigint; this one is "benefits" in ASCII).
LEADER_LOCK_KEY = 0x62656E6566697473
LEADER_RETRY_SECONDS = 2.0
LEADER_CHECK_SECONDS = 2.0
# How long the check may take before the connection counts as hanging; its own constant,
# so that a test checking often does not also give a busy database a tenth of a second.
LEADER_CHECK_TIMEOUT_SECONDS = 2.0
APPLICATION_NAME = f"benefits-scheduler {socket.gethostname()}:{os.getpid()}"


async def relay_forever(stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            delivered = await outbox.relay_once()
        except Exception as error:  # the database is down: wait and try again
            log.warning("outbox_relay_error", error=type(error).__name__)
            delivered = 0
        if delivered == 0:
            await _wait(stop, RELAY_IDLE_SECONDS)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


async def _lock_connection() -> asyncpg.Connection:
    return await asyncpg.connect(get_settings().database.url, server_settings={"application_name": APPLICATION_NAME})


async def become_leader(stop: asyncio.Event) -> asyncpg.Connection | None:
    """Wait until this process holds the leader lock; the connection that holds it, or
    None when asked to stop first."""
    connection = None
    standing_by = False
    while not stop.is_set():
        try:
            if connection is None:
                connection = await _lock_connection()
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK_KEY):
                return connection
            if not standing_by:
                log.info("scheduler_standby", process=APPLICATION_NAME)
                standing_by = True
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("scheduler_lock_error", error=type(error).__name__)  # the database is away
            if connection is not None:
                connection.terminate()
            connection = None
        await _wait(stop, LEADER_RETRY_SECONDS)
    if connection is not None:
        connection.terminate()
    return None


async def hold_leadership(connection: asyncpg.Connection, step_down: asyncio.Event) -> None:
    """Set `step_down` as soon as the lock's connection no longer answers."""
    while not step_down.is_set():
        await _wait(step_down, LEADER_CHECK_SECONDS)
        try:
            await asyncio.wait_for(connection.fetchval("SELECT 1"), LEADER_CHECK_TIMEOUT_SECONDS)
        except Exception as error:  # closed, broken or hanging: the lock can no longer be trusted
            log.warning("scheduler_leadership_lost", process=APPLICATION_NAME, error=type(error).__name__)
            step_down.set()


async def lead(connection: asyncpg.Connection, stop: asyncio.Event) -> None:
    """Run the periodic jobs and the relay until asked to stop or the lock is lost."""
    step_down = asyncio.Event()

    async def on_stop() -> None:
        await stop.wait()
        step_down.set()

    watchers = [asyncio.create_task(on_stop()), asyncio.create_task(hold_leadership(connection, step_down))]
    scheduler = AsyncIOScheduler(timezone="UTC")
    jobs = periodic.jobs()
    for actor, trigger in jobs:
        scheduler.add_job(actor.send, trigger, id=actor.actor_name, coalesce=True, max_instances=1)
    scheduler.start()
    log.info("scheduler_leading", process=APPLICATION_NAME, jobs=[actor.actor_name for actor, _ in jobs])
    try:
        await relay_forever(step_down)
    finally:
        scheduler.shutdown(wait=False)
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)


async def run() -> None:
    logs.configure(json=get_settings().app.log_json)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await db.open_pool()
    log.info("scheduler_started", process=APPLICATION_NAME)
    try:
        while not stop.is_set():
            connection = await become_leader(stop)
            if connection is None:
                break
            try:
                await lead(connection, stop)
            finally:
                # Ends the session, which releases the lock for a standby; never waits on
                # a connection that may be broken.
                connection.terminate()
    finally:
        await db.close_pool()
        log.info("scheduler_stopped", process=APPLICATION_NAME)
