"""Every `benefits bench …` command runs to the end at toy size, so none can rot again
(`bench search` once crashed on its last line, after minutes of measuring).

Each runs as the CLI does, in a subprocess, against the test session's components and
database, seeded small first. The components count as external for them, so that
`bench search` does not stop the session's engine to measure degraded mode."""

import os
import subprocess
import sys
import warnings

import pytest

from marketplace.runtime import components
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("clean_state")]

COMMANDS = {
    "search": ["--requests", "4", "--concurrency", "2", "--freshness", "1", "--time-limit", "5"],
    "relevance": [],
    "claims": ["--attempts", "20", "--stock", "5", "--concurrency", "4", "--rounds", "1"],
    "claim-cpu": ["--sessions", "20", "--calls", "20", "--batches", "1"],
    "delisting": ["--providers", "1"],
    "roster": ["--rows", "200"],
    "grant": ["--amount", "1"],
    "scorecards": [
        "--providers",
        "5",
        "--ratings",
        "50",
        "--complaints",
        "5",
        "--results",
        "5",
        "--freshness",
        "1",
        "--regenerate",
    ],
    "reports": ["--members", "200", "--vouchers", "500", "--loads", "1", "--regenerate"],
    "signin": ["--seconds", "1", "--signing-in", "2"],
    "draw": ["--entries", "80", "--through-service", "20", "--concurrency", "4"],
    "prepaid": ["--holders", "3", "--baseline", "2", "--concurrency", "2", "--refund-concurrency", "2"],
}


def benefits(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = os.environ.copy()
    # Every component as configured (the test database, not the embedded default one), and
    # none "embedded", so that no command stops or starts the session's components.
    env[components.EMBEDDED_ENV] = ""
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "marketplace.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_every_bench_command_is_covered():
    from marketplace.cli import bench

    assert set(bench.commands) == set(COMMANDS)


@pytest.fixture
def seeded():
    result = benefits("seed", "--members", "60", "--providers", "6", "--offers", "40")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_bench_command_runs_to_the_end_at_toy_size(seeded, command):
    try:
        result = benefits("bench", command, *COMMANDS[command])
    except subprocess.TimeoutExpired as hung:  # what it printed says how far it came
        pytest.fail(f"`bench {command}` hung; it printed:\n{_text(hung.stdout)[-3000:]}\n{_text(hung.stderr)[-3000:]}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    if "did not finish within" in output:
        # A phase stopped by its bound (benchmarks.common.bounded) is a finding of the
        # benchmark, reported with the tasks' stacks; at toy size on a shared machine it
        # is told here, not failed on.
        warnings.warn(f"`bench {command}`: a phase hung:\n{output[-4000:]}", stacklevel=1)


def _text(output: bytes | str | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""
