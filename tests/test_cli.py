"""The `benefits` command: component management and a demo that cleans up after itself."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest
from click.testing import CliRunner

from marketplace.cli import main
from marketplace.runtime import components
from marketplace.seed import DEMO_ACCOUNTS

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HTTP_SECONDS = 60  # a demo's first pages and sign-ins (argon2: 0.9 s at load 13) on a busy machine


@pytest.mark.integration
def test_services_status_lists_every_component():
    result = CliRunner().invoke(main, ["services", "status"])
    assert result.exit_code == 0, result.output
    for name in ("postgres", "redis", "meilisearch", "stripe"):
        assert name in result.output
    assert "running" in result.output and "stopped" not in result.output


def _processes_using(path: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(path in part for part in process.info["cmdline"] or []):
                found.append(process)
        except psutil.Error:
            pass
    return found


def _run_demo_until_healthy(var_dir: str, port: int) -> tuple[subprocess.Popen, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "MEILI_URL",
            "MEILI_MASTER_KEY",
            "STRIPE_API_KEY",
            "STRIPE_API_BASE",
            "STRIPE_WEBHOOK_SECRET",
            components.EMBEDDED_ENV,
        }
    }
    env["BENEFITS_VAR"] = var_dir
    log_path = os.path.join(var_dir, "demo.log")
    with open(log_path, "a") as log:  # the demo keeps its own copy of the descriptor
        demo = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "marketplace.cli",
                "demo",
                "--port",
                str(port),
                "--members",
                "60",
                "--providers",
                "6",
                "--offers",
                "30",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # a process group of its own, like a command in a terminal
    # The demo starts its own components (a first initdb), seeds, then three processes that
    # each import the whole app: minutes on a machine that test workers share. The wait
    # ends as soon as it answers.
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert demo.poll() is None, Path(log_path).read_text()[-3000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return demo, log_path
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    demo.kill()
    raise AssertionError("demo did not become ready:\n" + Path(log_path).read_text()[-3000:])


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _interrupt_and_check_nothing_is_left(demo: subprocess.Popen, var_dir: str) -> None:
    children = psutil.Process(demo.pid).children(recursive=True)
    assert len(children) >= 3  # web, worker, scheduler (and the worker's own processes)
    os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole foreground group
    assert demo.wait(180) == 0
    # Interrupted too, the children end by themselves; give them time on a busy machine.
    _, alive = psutil.wait_procs(children, timeout=60)
    alive = [child for child in alive if _running(child)]
    assert alive == [], [child.cmdline() for child in alive]
    assert _processes_using(var_dir) == []


@pytest.mark.slow
@pytest.mark.integration
def test_demo_runs_stops_cleanly_on_ctrl_c_and_reuses_its_data():
    # Beside the session's var folder, not in tmp_path: as root, the embedded PostgreSQL
    # runs as its own user, who cannot enter pytest's private temporary folders.
    var_dir = str(Path(os.environ["BENEFITS_VAR"]).parent / f"demo-{uuid.uuid4().hex[:8]}")
    os.makedirs(var_dir)
    port = components.free_port()

    demo = None
    try:
        demo, log_path = _run_demo_until_healthy(var_dir, port)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=HTTP_SECONDS)
        assert page.status_code == 200 and "<html" in page.text
        for account in DEMO_ACCOUNTS:  # every sign-in the demo prints works
            response = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/auth/token",
                timeout=HTTP_SECONDS,
                json={"kind": account["kind"], "username": account["username"], "password": account["password"]},
            )
            assert response.status_code == 201, (account["username"], response.text)
        guide = Path(var_dir, "demo-guide.txt").read_text(encoding="utf-8")
        key = next(line.strip() for line in guide.splitlines() if line.strip().startswith("ek_"))
        assert key in Path(log_path).read_text()  # printed whole, not cut
        _interrupt_and_check_nothing_is_left(demo, var_dir)

        demo, log_path = _run_demo_until_healthy(var_dir, port)
        assert "reusing" in Path(log_path).read_text()
        # The same key at the next start of the same data, and it still works.
        assert key in Path(var_dir, "demo-guide.txt").read_text(encoding="utf-8")
        response = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/evaluator/batches",
            timeout=HTTP_SECONDS,
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200, response.text
        _interrupt_and_check_nothing_is_left(demo, var_dir)
    finally:
        # Whatever failed above, leave no demo behind for the rest of the session.
        leftovers = _processes_using(var_dir)
        if demo is not None and demo.poll() is None:
            leftovers += [*psutil.Process(demo.pid).children(recursive=True), psutil.Process(demo.pid)]
        for process in leftovers:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        shutil.rmtree(var_dir, ignore_errors=True)
