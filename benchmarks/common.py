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


async def wait_ready(base: str, timeout: float = 200) -> None:
    # Long enough for two of /ready's Stripe checks: on a loaded machine the first one, made as
    # the app starts, can time out, and its answer is kept for STRIPE_CHECK_SECONDS (60 s).
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(base + "/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise RuntimeError(f"the web app at {base} did not become ready within {timeout:.0f}s")


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
