"""When search may fall back to PostgreSQL: only while the engine is down, never because it is slow.

A slow engine is a busy one. Moving its load to PostgreSQL, which has no index for
Chinese text and shares the same cores, makes everything slower (measured: with 16
clients, 132 of 222 geo answers fell back while the engine still answered with p95
629 ms, and the API's p95 went to 8.5 s). So:

- errors (connection refused or reset, an error answer, no index) count as failures;
  `FAILURES_TO_OPEN` in a row open the breaker, and for `OPEN_SECONDS` every search
  answers from PostgreSQL (`degraded: true`) without waiting for the engine; then one
  search probes the engine (half-open): success closes the breaker, failure re-opens it;
- a timeout is ambiguous: the search is refused as busy (HTTP 503, try again), and a
  health check of the engine, which answers at once even under load, decides whether it
  was a failure;
- at most `MAX_IN_FLIGHT` searches per process wait for the engine; one that cannot get
  a place within `QUEUE_SECONDS` is refused as busy rather than piled on.
"""

import asyncio
import time

import structlog

log = structlog.get_logger(__name__)

FAILURES_TO_OPEN = 3
OPEN_SECONDS = 5.0
MAX_IN_FLIGHT = 64
QUEUE_SECONDS = 2.0


class Breaker:
    def __init__(self, failures_to_open: int = FAILURES_TO_OPEN, open_seconds: float = OPEN_SECONDS):
        self.failures_to_open = failures_to_open
        self.open_seconds = open_seconds
        self.failures = 0
        self.opened_at: float | None = None
        self.probing = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if time.monotonic() - self.opened_at >= self.open_seconds else "open"

    def allow(self) -> bool:
        """May this search ask the engine? While half-open, only one search at a time does."""
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self.probing:
            self.probing = True
            return True
        return False

    def succeeded(self) -> None:
        if self.opened_at is not None:
            log.info("search_breaker_closed")
        self.failures, self.opened_at, self.probing = 0, None, False

    def failed(self) -> None:
        self.failures += 1
        if self.probing or (self.opened_at is None and self.failures >= self.failures_to_open):
            if self.opened_at is None:
                log.warning("search_breaker_opened", failures=self.failures)
            self.opened_at = time.monotonic()
        self.probing = False

    def released(self) -> None:
        """A probe that ended neither way (busy): let the next search probe."""
        self.probing = False


class Gate:
    """At most `limit` searches of this process waiting for the engine at once."""

    def __init__(self, limit: int = MAX_IN_FLIGHT):
        self.limit = limit
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._semaphores:
            self._semaphores = {loop: asyncio.Semaphore(self.limit)}
        return self._semaphores[loop]


breaker = Breaker()
gate = Gate()
_health_checks: set[asyncio.Task] = set()


def check_health_after_timeout(healthy) -> None:
    """A search timed out: ask the engine's health endpoint (once at a time) whether it is
    up; if not, that counts as a failure."""
    if _health_checks:
        return

    async def check() -> None:
        if not await healthy():
            breaker.failed()

    task = asyncio.get_running_loop().create_task(check())
    _health_checks.add(task)
    task.add_done_callback(_health_checks.discard)
