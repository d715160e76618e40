"""Issue 16: reference data comes from data migrations, so `benefits migrate` on an empty
database yields a system with its categories, member groups and national node, without
the demo seed."""

import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from marketplace.core import reference_data as ref
from marketplace.runtime import components
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.integration]


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@pytest.fixture
async def empty_database():
    """A database of its own on the session's server, created empty and dropped after."""
    name = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/") + "_empty"
    admin = await asyncpg.connect(_with_database(os.environ["DATABASE_URL"], "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _with_database(os.environ["DATABASE_URL"], name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _benefits(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = os.environ.copy()
    env["DATABASE_URL"] = database_url
    env[components.EMBEDDED_ENV] = ""  # the session's components, as configured: none started or stopped
    return subprocess.run(
        [sys.executable, "-m", "marketplace.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


async def test_migrate_on_an_empty_database_creates_the_reference_data(empty_database):
    result = _benefits(empty_database, "migrate")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    connection = await asyncpg.connect(empty_database)
    try:
        categories = {
            row["code"]: (row["name_zh"], row["name_en"])
            for row in await connection.fetch("SELECT code, name_zh, name_en FROM category")
        }
        groups = {
            row["code"]: (row["name_zh"], row["name_en"])
            for row in await connection.fetch("SELECT code, name_zh, name_en FROM member_group")
        }
        nodes = await connection.fetch("SELECT id, level, code, name_zh, name_en, path, depth, parent FROM union_node")
        # The demo's data is not there: only what every deployment needs.
        assert await connection.fetchval("SELECT count(*) FROM member") == 0
        assert await connection.fetchval("SELECT count(*) FROM provider") == 0
    finally:
        await connection.close()
    # The migrations' rows are the ones the code and the demo use (reference_data.py).
    assert categories == {c["code"]: (c["name_zh"], c["name_en"]) for c in ref.CATEGORIES}
    assert groups == {g["code"]: (g["name_zh"], g["name_en"]) for g in ref.MEMBER_GROUPS}
    assert len(nodes) == 1
    (national,) = nodes
    assert (national["level"], national["code"], national["parent"], national["depth"]) == ("national", "CN", None, 0)
    assert national["path"] == f"/{national['id']}/"
    assert (national["name_zh"], national["name_en"]) == (ref.NATIONAL["name_zh"], ref.NATIONAL["name_en"])

    # Migrating again changes nothing (the rows are made once).
    again = _benefits(empty_database, "migrate")
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    connection = await asyncpg.connect(empty_database)
    try:
        assert await connection.fetchval("SELECT count(*) FROM category") == len(ref.CATEGORIES)
        assert await connection.fetchval("SELECT count(*) FROM union_node") == 1
    finally:
        await connection.close()
