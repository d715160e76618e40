"""Test session: real PostgreSQL, Redis, Meilisearch and the Stripe stand-in.

Components come from the environment when configured; otherwise the session starts
its own embedded ones under var/test (apart from the demo's) and stops what it started.
The database is recreated and migrated once per session and emptied before each test.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("BENEFITS_VAR", str(REPO_ROOT / "var" / "test"))
os.environ.setdefault("MEILI_INDEX_PREFIX", "test_")
os.environ.setdefault("LOG_FORMAT", "json")

from marketplace.runtime import components  # noqa: E402

_ENV, _STARTED = components.ensure_up()
os.environ.update(_ENV)

ARTIFACTS = REPO_ROOT / "tests" / "artifacts"


def pytest_unconfigure(config):
    components.stop(_STARTED)


async def _recreate_database() -> None:
    import asyncpg
    from piccolo.apps.migrations.commands.forwards import run_forwards

    url = os.environ["DATABASE_URL"]
    admin = await asyncpg.connect(url.replace(f"/{components.DATABASE_NAME}?", "/postgres?", 1)
                                  if "?" in url else url.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            components.DATABASE_NAME)
        await admin.execute(f'DROP DATABASE IF EXISTS "{components.DATABASE_NAME}"')
        await admin.execute(f'CREATE DATABASE "{components.DATABASE_NAME}"')
    finally:
        await admin.close()
    result = await run_forwards(app_name="all")
    assert result.success, result.message


@pytest.fixture(scope="session", autouse=True)
async def database():
    if os.environ.get("BENEFITS_TEST_KEEP_DATABASE") != "1":
        await _recreate_database()
    yield


TABLES_TO_KEEP = {"piccolo_migration"}


@pytest.fixture(autouse=True)
async def clean_state(request, database):
    """Empty every table and Redis before each test that touches components."""
    if request.node.get_closest_marker("unit"):
        yield
        return
    from marketplace.db import engine
    from marketplace.kv import redis

    rows = await engine().run_ddl(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    tables = [row["tablename"] for row in rows if row["tablename"] not in TABLES_TO_KEEP]
    await engine().run_ddl(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    await redis().flushdb()
    yield


@pytest.fixture(scope="session")
def app():
    from marketplace.app import create_app

    return create_app()


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(database):
    """A real uvicorn server on loopback, for browser tests."""
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "live_server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "marketplace.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base_url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.terminate()
        raise RuntimeError("live server did not start; see tests/artifacts/live_server.log")
    yield base_url
    process.terminate()
    process.wait(10)
    log.close()


@pytest.fixture
async def world():
    """A small federation with one account of every kind; see tests/factories.py."""
    from tests import factories

    return await factories.build_world()

