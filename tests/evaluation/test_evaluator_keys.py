"""Evaluator API keys are issued, rotated and revoked from the console by an administrator
of the organisation's scope: shown once, stored hashed, every change audited."""

import hashlib

import pytest

from marketplace.core.db import engine
from marketplace.core.identity.tables import Operator
from tests.factories import now, password_hash
from tests.providers.test_pages import _login, _post
from tests.test_errors import assert_problem, bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def _fetch(sql: str, *args):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetch(sql, *args)


async def test_an_administrator_issues_rotates_and_revokes_keys(client, world):
    admin = await bearer(client, "operator", world.operators["beijing"])
    org = world.evaluator_org
    issued = await client.post(f"/api/v1/console/evaluators/{org}/keys", headers=admin)
    assert issued.status_code == 201 and issued.headers["cache-control"] == "no-store", issued.text
    key = issued.json()["key"]
    assert (
        key.startswith("ek_")
        and (await client.get("/api/v1/evaluator/me", headers={"Authorization": f"Bearer {key}"})).status_code == 200
    )
    stored = [dict(row) for row in await _fetch("SELECT prefix, key_hash FROM evaluator_api_key")]
    assert len(stored) == 2 and key not in str(stored)  # the world's key and this one, hashed
    assert hashlib.sha256(key.encode()).hexdigest() in {row["key_hash"] for row in stored}

    rotated = await client.post(f"/api/v1/console/evaluators/{org}/keys", headers=admin, json={"rotate": True})
    new_key = rotated.json()["key"]
    assert len(rotated.json()["revoked"]) == 2
    for old in (key, world.evaluator_key):
        assert (await client.get("/api/v1/evaluator/me", headers={"Authorization": f"Bearer {old}"})).status_code == 401
    assert (await client.get("/api/v1/evaluator/me", headers={"Authorization": f"Bearer {new_key}"})).status_code == 200

    listed = (await client.get("/api/v1/console/evaluators", headers=admin)).json()
    [live] = [k for k in listed[0]["keys"] if k["revoked_at"] is None]
    assert new_key not in str(listed)
    assert (await client.post(f"/api/v1/console/evaluators/keys/{live['id']}/revoke", headers=admin)).status_code == 200
    assert (await client.get("/api/v1/evaluator/me", headers={"Authorization": f"Bearer {new_key}"})).status_code == 401
    assert_problem(
        await client.post(f"/api/v1/console/evaluators/keys/{live['id']}/revoke", headers=admin),
        409,
        "evaluator_key_revoked",
    )

    events = await _fetch(
        "SELECT action, details::text AS details FROM audit_event WHERE action LIKE 'evaluator_key.%' ORDER BY id"
    )
    assert [e["action"] for e in events] == ["evaluator_key.issued", "evaluator_key.rotated", "evaluator_key.revoked"]
    assert not any(secret in e["details"] for e in events for secret in (key, new_key))


async def test_only_administrators_of_the_scope_manage_keys(client, world):
    await Operator.insert(
        Operator(
            username="bj_reviewer",
            display_name="审核员",
            node=world.nodes["beijing"],
            role="reviewer",
            password_hash=password_hash(),
            created_at=now(),
        )
    )
    reviewer = await bearer(client, "operator", "bj_reviewer")
    assert_problem(
        await client.post(f"/api/v1/console/evaluators/{world.evaluator_org}/keys", headers=reviewer),
        403,
        "role_required",
    )
    hebei = await bearer(client, "operator", world.operators["hebei"])
    assert_problem(
        await client.post(f"/api/v1/console/evaluators/{world.evaluator_org}/keys", headers=hebei),
        404,
        "evaluator_org_not_found",
    )
    assert (await client.get("/api/v1/console/evaluators", headers=hebei)).json() == []


async def test_the_console_page_shows_a_new_key_once(client, world):
    await _login(client, "console", world.operators["beijing"])
    page = await client.get("/console/evaluators")
    assert page.status_code == 200 and "评估机构密钥" in page.text and 'data-testid="key-row"' in page.text
    issued = await _post(client, f"/console/evaluators/{world.evaluator_org}/keys", {})
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    key = issued.text.split('data-testid="new-key">')[1].split("<")[0]
    assert key.startswith("ek_")
    again = await client.get("/console/evaluators")
    assert key not in again.text and again.text.count('data-testid="key-row"') == 2
