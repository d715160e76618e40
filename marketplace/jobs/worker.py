"""What `dramatiq marketplace.jobs.worker` loads: the broker and every domain's actors.

Only the worker process imports this module: it gives the worker's event loop its own
database pool (tests run a worker beside their own loop and use no pool).
"""

from dramatiq import Middleware
from dramatiq.asyncio import get_event_loop_thread

from marketplace import db, logs
from marketplace.jobs import actors  # noqa: F401  (declares every actor)
from marketplace.jobs.broker import broker
from marketplace.settings import get_settings


class DatabasePool(Middleware):
    """Open the pool on the event loop that runs async actors (started by AsyncIO)."""

    def after_worker_boot(self, broker, worker):
        get_event_loop_thread().run_coroutine(db.open_pool())

    def before_worker_shutdown(self, broker, worker):
        get_event_loop_thread().run_coroutine(db.close_pool())


logs.configure(json=get_settings().app.log_json)
broker.add_middleware(DatabasePool())
