"""What the benchmark commands share: latency statistics and waiting for the web app.

`benefits bench search` and `benefits bench claims` start the web app (and, for search,
a worker and the scheduler) with `marketplace.runtime.processes` against the data in
BENEFITS_VAR, load them from the benchmark process and stop them at the end.
"""

import asyncio
import io
import math
import os
import sys
import time
from dataclasses import dataclass, field

import httpx

from marketplace.runtime import processes


@dataclass
class Stats:
    name: str
    target: str  # what was measured: "api", "engine", "sql"
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    degraded: int = 0
    wall_s: float = 0.0

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        values = sorted(self.latencies_ms)
        return values[min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))]  # nearest rank

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0


def percentile(values: list[float], p: float) -> float:
    stats = Stats("", "")
    stats.latencies_ms = values
    return stats.pct(p)


async def wait_ready(base: str, timeout: float = 300) -> None:
    """Until the web app started for a benchmark answers /ready. A new web process imports
    the whole app and loads its word lists first: over 90 s, and /ready answers slower than
    2 s, while test workers share two cores (the bench smoke tests failed so, 4 of 12).
    When it never comes, the error says what the app last answered."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    async with httpx.AsyncClient(timeout=10) as http:
        while time.monotonic() < deadline:
            try:
                response = await http.get(base + "/ready")
                if response.status_code == 200:
                    return
                last = response.text[:500]
            except httpx.HTTPError as error:
                last = repr(error)
            await asyncio.sleep(0.3)
    raise RuntimeError(f"the web app at {base} did not become ready within {timeout:.0f}s; it last said: {last}")


async def bounded(name: str, awaitable, seconds: float, notes: list[str]):
    """`awaitable`'s result, or None when it has not finished within `seconds`: then every
    task's stack goes to stderr (where it waited), the phase is cancelled and a note says
    so. A benchmark must end and report what hung, not hang its caller (a CI run once
    waited 15 minutes on `bench search` at toy size and showed nothing of where)."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        return task.result()
    stacks = io.StringIO()
    for other in asyncio.all_tasks():
        other.print_stack(limit=12, file=stacks)
    print(f"--- {name}: not finished after {seconds:.0f} s; the tasks' stacks:\n{stacks.getvalue()}", file=sys.stderr)
    notes.append(f"{name} did not finish within {seconds:.0f} s and was stopped (the tasks' stacks are on stderr)")
    task.cancel()
    await asyncio.wait({task}, timeout=10)
    return None


def logs_folder(chosen: str | None = None) -> str:
    """Where the processes a benchmark starts write their logs (made if missing)."""
    folder = chosen or os.path.join(os.environ.get("BENEFITS_VAR", "var"), "bench-logs")
    os.makedirs(folder, exist_ok=True)
    return folder


def spawn_web(port: int, log_path: str, *options: str, profile: str | None = None):
    """The web app under uvicorn on 127.0.0.1:`port`, a child process writing to `log_path`;
    `options` are uvicorn's further ones (workers, event loop). With `profile`, uvicorn runs
    under cProfile (benchmarks/profiled_web.py), which writes its statistics to that file
    when the process stops."""
    server = ["-m", "benchmarks.profiled_web", profile] if profile else ["-m", "uvicorn"]
    command = [*server, "marketplace.app:create_app", "--factory", "--host", "127.0.0.1"]
    return processes.spawn([*command, "--port", str(port), "--no-access-log", *options], log_path)


def spawn_jobs(log_dir: str, suffix: str = "") -> list:
    """The worker and the scheduler, child processes writing to `<role><suffix>.log` in `log_dir`."""
    return [
        processes.spawn(["-m", "marketplace.cli", role], os.path.join(log_dir, f"{role}{suffix}.log"))
        for role in ("worker", "scheduler")
    ]
