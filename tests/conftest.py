"""Test session: real PostgreSQL, Redis, Meilisearch and the Stripe stand-in.

Components come from the environment when configured; otherwise the session starts
its own embedded ones under var/test (apart from the demo's) and stops what it started.
The tests use their own database, `<name>_test` beside the configured one, recreated
and migrated once per session and emptied before each test; they never touch another.

`make test` runs them in two pytest-xdist workers: each worker has a database, a Redis
database and a search index prefix of its own on the shared components, which the
controlling process starts (it imports this file first) and stops. Tests marked
`exclusive` stop a shared component, so they run afterwards, alone.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import hypothesis
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# "gw0", "gw1", ... in a pytest-xdist worker; "" in a plain run and in the controlling process.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
os.environ.setdefault("BENEFITS_VAR", str(REPO_ROOT / "var" / "test"))
os.environ.setdefault("LOG_FORMAT", "json")
# Administrators and reviewers must use two-factor sign-in (identity.two_factor); the suite's
# operators sign in with passwords only, and tests/test_totp.py turns the rule on itself.
os.environ.setdefault("TOTP_REQUIRED_ROLES", "")
# A worker inherits the controller's environment, so its own names are set, not defaulted.
os.environ["MEILI_INDEX_PREFIX"] = f"test_{WORKER}_" if WORKER else os.environ.get("MEILI_INDEX_PREFIX", "test_")

# Hypothesis times each example (200 ms by default) and its data generation: on two cores
# shared by test workers, servers and browsers a process can stall longer than that in any
# example, and Hypothesis then fails the test as "unreliable timings". Timing is what other
# tests measure; property tests check properties.
hypothesis.settings.register_profile(
    "shared_machine", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.load_profile("shared_machine")

from marketplace import composition  # noqa: E402, F401  (registers the domains, as every process does)
from marketplace.runtime import components  # noqa: E402

_ENV, _STARTED = components.ensure_up()
os.environ.update(_ENV)


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _with_redis_database(url: str, number: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        # Not urlunsplit: it drops the empty host, and "unix:/path" is no URL Redis reads.
        return f"unix://{parts.path}?db={number}"
    return urlunsplit(parts._replace(path=f"/{number}"))


_CONFIGURED_DATABASE = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/").removesuffix(f"_{WORKER}")
TEST_DATABASE = _CONFIGURED_DATABASE if _CONFIGURED_DATABASE.endswith("_test") else _CONFIGURED_DATABASE + "_test"
if WORKER:
    TEST_DATABASE += f"_{WORKER}"
    os.environ["REDIS_URL"] = _with_redis_database(os.environ["REDIS_URL"], 1 + int(WORKER.removeprefix("gw")))
os.environ["DATABASE_URL"] = _with_database(os.environ["DATABASE_URL"], TEST_DATABASE)

ARTIFACTS = REPO_ROOT / "tests" / "artifacts"


def pytest_unconfigure(config):
    components.stop(_STARTED)


async def _recreate_database() -> None:
    import asyncpg
    from piccolo.apps.migrations.commands.forwards import run_forwards

    assert "_test" in TEST_DATABASE
    admin = await asyncpg.connect(_with_database(os.environ["DATABASE_URL"], "postgres"))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            TEST_DATABASE,
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}"')
        await admin.execute(f'CREATE DATABASE "{TEST_DATABASE}"')
    finally:
        await admin.close()
    result = await run_forwards(app_name="all")
    assert result.success, result.message


_database_ready = False


async def prepare_database() -> None:
    """Recreate and migrate the test database, once per session (unit tests never ask)."""
    global _database_ready
    if not _database_ready and os.environ.get("BENEFITS_TEST_KEEP_DATABASE") != "1":
        await _recreate_database()
    _database_ready = True


# Piccolo records applied migrations in `migration`: a command run in a subprocess (`benefits
# seed`, `benefits backup`) would otherwise see none applied.
TABLES_TO_KEEP = {"migration"}


@pytest.fixture(autouse=True)
async def clean_state(request):
    """Empty every table and Redis before each test that touches components."""
    if request.node.get_closest_marker("unit"):
        yield
        return
    await prepare_database()
    from marketplace.core.db import engine
    from marketplace.core.kv import redis

    rows = await engine().run_ddl("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    tables = [row["tablename"] for row in rows if row["tablename"] not in TABLES_TO_KEEP]
    await engine().run_ddl(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    await redis().flushdb()
    # Ids start again at 1: what this process remembered of the last test's offers is void.
    from catalog import services as catalog
    from catalog.search import breaker

    catalog.forget_sold_out()
    # Searches of an earlier test without an index count as engine failures: three open this
    # process's breaker, and the next test's searches would answer degraded for seconds.
    breaker.breaker = breaker.Breaker()
    yield


@pytest.fixture(scope="session", autouse=True)
async def search_clients():
    """The session's loop opens an HTTP session to the engine on its first search; close it."""
    yield
    from catalog.search import index

    await index.close_clients()


@pytest.fixture(scope="session")
def app():
    from marketplace.app import create_app

    return create_app()


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _serve(name: str) -> tuple[str, subprocess.Popen]:
    """Start a real uvicorn server on loopback (logged to tests/artifacts/<name>.log); its URL."""
    port = components.free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"{name}{'-' + WORKER if WORKER else ''}.log"
    with open(log_path, "w") as log:  # the server keeps its own copy of the descriptor
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "marketplace.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                # As `benefits serve` runs it (marketplace/cli.py).
                *("--loop", "uvloop", "--http", "marketplace.core.web.server:OneWriteHttpToolsProtocol"),
            ],
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
    return f"http://127.0.0.1:{port}", process


def _wait_ready(servers: list[tuple[str, subprocess.Popen]]) -> None:
    deadline = time.monotonic() + 120  # a shared, busy machine can take long to import the app
    for base_url, _ in servers:
        while time.monotonic() < deadline:
            try:
                if httpx.get(base_url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            _stop(servers)
            raise RuntimeError(f"server {base_url} did not start; see tests/artifacts/")


def _stop(servers: list[tuple[str, subprocess.Popen]]) -> None:
    for _, process in servers:
        process.terminate()
    for _, process in servers:
        process.wait(10)


@pytest.fixture(scope="session")
async def live_server():
    """A real uvicorn server on loopback, for browser tests."""
    await prepare_database()
    servers = [_serve("live_server")]
    _wait_ready(servers)
    yield servers[0][0]
    _stop(servers)


@pytest.fixture(scope="session")
async def two_web_processes():
    """Two web processes on one database, as two workers or two machines run: their URLs."""
    await prepare_database()
    servers = [_serve("web_process_a"), _serve("web_process_b")]
    _wait_ready(servers)
    yield [base_url for base_url, _ in servers]
    _stop(servers)


@pytest.fixture
async def world():
    """A small federation with one account of every kind; see tests/factories.py."""
    from tests import factories

    return await factories.build_world()
