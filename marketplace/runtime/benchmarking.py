"""What the benchmark commands share: latency statistics and the app's processes.

`benefits bench search` and `benefits bench claims` start the web app (and, for search,
a worker and the scheduler) as subprocesses against the data in BENEFITS_VAR, load
them from the benchmark process and stop them at the end, also on error.
"""

import asyncio
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx


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


def spawn(args: list[str], log_path: str) -> subprocess.Popen:
    """`python <args>` in a session of its own, so that stopping it also stops what it
    forks (Dramatiq and uvicorn workers)."""
    log = open(log_path, "ab")
    return subprocess.Popen([sys.executable, *args], env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
def stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            child.wait()
        # Stragglers of its session (forked workers) are stopped as well.
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


async def wait_ready(base: str, timeout: float = 90) -> None:
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
