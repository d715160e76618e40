"""`benefits create-admin`: the first administrator of a deployment that only the migrations
filled, at the national node, with a password that is not easy to guess."""

import os
import subprocess
import sys

import pytest

from marketplace.core import db, reference_data as ref
from marketplace.core.federation import services as federation
from tests.test_errors import bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRONG = "Quanzong-Admin-2026!"


def _create_admin(*args: str, stdin: str) -> subprocess.CompletedProcess:
    # A session of its own: no terminal, so a prompt reads standard input as a pipe would.
    return subprocess.run(
        [sys.executable, "-m", "marketplace.cli", "create-admin", *args],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )


async def _national() -> int:
    """The national node the migrations make (the tests empty every table before each test)."""
    node = await federation.create_node(
        None, "national", ref.NATIONAL["code"], ref.NATIONAL["name_zh"], ref.NATIONAL["name_en"]
    )
    return node.id


async def test_create_admin_makes_an_administrator_of_the_national_node_who_signs_in(client):
    national = await _national()
    made = _create_admin("quanzong_admin", "全总管理员", "--password-stdin", stdin=STRONG + "\n")
    assert made.returncode == 0, made.stdout + made.stderr
    assert "quanzong_admin" in made.stdout
    [row] = await db.fetch("SELECT username, display_name, node, role, active FROM operator")
    assert row == {
        "username": "quanzong_admin",
        "display_name": "全总管理员",
        "node": national,
        "role": "administrator",
        "active": True,
    }
    [event] = await db.fetch("SELECT actor_kind, action FROM audit_event WHERE subject_kind = 'operator'")
    assert event == {"actor_kind": "system", "action": "operator.created"}
    # The new administrator signs in and manages accounts of the whole federation.
    headers = await bearer(client, "operator", "quanzong_admin", STRONG)
    listed = await client.get("/api/v1/console/operators", headers=headers)
    assert listed.status_code == 200 and [o["username"] for o in listed.json()] == ["quanzong_admin"]

    again = _create_admin("quanzong_admin", "又一个", "--password-stdin", stdin=STRONG + "\n")
    assert again.returncode != 0 and "This username is taken." in again.stderr


async def test_create_admin_refuses_a_weak_password_and_a_database_without_the_national_node():
    missing = _create_admin("quanzong_admin", "全总管理员", "--password-stdin", stdin=STRONG + "\n")
    assert missing.returncode != 0 and "benefits migrate" in missing.stderr
    await _national()
    for weak in ("password123", "short", "quanzong_admin-2026"):
        refused = _create_admin("quanzong_admin", "全总管理员", "--password-stdin", stdin=weak + "\n")
        assert refused.returncode != 0, weak
        assert "password" in refused.stderr, refused.stderr
    assert await db.fetch("SELECT id FROM operator") == []


async def test_create_admin_prompts_for_the_password_twice():
    await _national()
    mismatch = _create_admin("quanzong_admin", "全总管理员", stdin=f"{STRONG}\nsomething-else-2026\n")
    assert mismatch.returncode != 0
    made = _create_admin("quanzong_admin", "全总管理员", stdin=f"{STRONG}\n{STRONG}\n")
    assert made.returncode == 0, made.stdout + made.stderr
    assert [row["username"] for row in await db.fetch("SELECT username FROM operator")] == ["quanzong_admin"]
