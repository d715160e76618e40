"""The worker process's broker middleware; `dramatiq marketplace.worker` (the shell)
imports it with every composed domain's actors.

Only the worker process imports this module: it gives the worker's event loop its own
database pool (tests run a worker beside their own loop and use no pool).
"""

import logging
import threading

import structlog
from dramatiq import Middleware
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread

from marketplace.core import db, logs
from marketplace.core.jobs.broker import HEARTBEAT_SECONDS, broker
from marketplace.core.settings import get_settings

log = structlog.get_logger(__name__)


def _event_loop() -> EventLoopThread:
    """The loop of async actors, which Dramatiq's AsyncIO middleware starts before ours."""
    loop = get_event_loop_thread()
    if loop is None:
        raise RuntimeError("the AsyncIO middleware has not started its event loop")
    return loop


class DatabasePool(Middleware):
    """Open the pool on the event loop that runs async actors (started by AsyncIO, whose
    middleware comes first), before the worker threads start taking messages, and close
    it after they have stopped.

    Dramatiq starts its consumers and worker threads between `before_worker_boot` and
    `after_worker_boot`, and stops them between `before_worker_shutdown` and
    `after_worker_shutdown`. Opened after boot, a job already queued when the worker
    started ran its transaction on a connection of its own (no pool yet) and gave it back
    to the pool opened meanwhile: asyncpg's "Pool.release() received invalid connection",
    logged by the search actors' `outbox.consume_once` whenever the demo's worker started
    with events waiting."""

    def before_worker_boot(self, broker, worker):
        _event_loop().run_coroutine(db.open_pool())

    def after_worker_shutdown(self, broker, worker):
        # Emitted in reverse order of the middleware: before AsyncIO stops its event loop.
        _event_loop().run_coroutine(db.close_pool())


class Heartbeat(Middleware):
    """Tell Redis every HEARTBEAT_SECONDS that this worker lives, also while all its
    threads are busy with long jobs (Dramatiq itself beats only when it fetches), so its
    messages are not handed to another worker as if it had died."""

    def after_worker_boot(self, broker, worker):
        self.stopped = threading.Event()
        threading.Thread(target=self._beat, args=(broker,), name="heartbeat", daemon=True).start()

    def before_worker_shutdown(self, broker, worker):
        self.stopped.set()

    def _beat(self, broker) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            try:
                broker.do_qsize("default")  # every broker command records the heartbeat
            except Exception as error:  # Redis away: the consumers notice and reconnect
                log.warning("worker_heartbeat_failed", error=type(error).__name__)


logs.configure(json=get_settings().app.log_json)
# Dramatiq sets the root logger to INFO, at which httpx (and httpx2, the Meilisearch
# SDK's) logs every request: the search index sync's 10 ms polls of the engine's task
# were a log line each, CPU that the worker's other jobs waited for.
for name in ("httpx", "httpx2"):
    logging.getLogger(name).setLevel(logging.WARNING)
broker.add_middleware(DatabasePool())
broker.add_middleware(Heartbeat())
