"""Operators review providers in their scope; every transition is recorded and announced."""

import asyncio

import pytest

from marketplace.core.db import engine
from tests.providers.builders import application
from tests.test_errors import assert_problem, bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

OWNER_PASSWORD = "Str0ng-Pass-2026"


async def _value(sql: str, *args):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


async def _events(provider_id: int) -> int:
    return await _value(
        "SELECT count(*) FROM outbox_event WHERE topic = 'provider.changed' AND (payload->>'provider_id')::int = $1",
        provider_id,
    )


async def _apply(client, world) -> int:
    response = await client.post("/api/v1/providers/applications", json=application(world.nodes["chaoyang"]))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _decide(client, headers, provider_id, action, reason=""):
    return await client.post(
        f"/api/v1/console/providers/{provider_id}/decisions", json={"action": action, "reason": reason}, headers=headers
    )


async def test_the_queue_lists_applications_in_scope_with_masked_phone(client, world):
    provider_id = await _apply(client, world)
    beijing = await bearer(client, "operator", world.operators["beijing"])
    queue = (await client.get("/api/v1/console/providers", headers=beijing)).json()
    assert [item["id"] for item in queue["items"]] == [provider_id] and queue["total"] == 1
    active = (await client.get("/api/v1/console/providers?status=active", headers=beijing)).json()
    assert {item["id"] for item in active["items"]} == {
        world.providers["chaoyang"]["id"],
        world.providers["haidian"]["id"],
    }
    hebei = await bearer(client, "operator", world.operators["hebei"])
    assert (await client.get("/api/v1/console/providers", headers=hebei)).json()["items"] == []
    detail = (await client.get(f"/api/v1/console/providers/{provider_id}", headers=beijing)).json()
    assert detail["contact_phone"] == "138****5678"
    assert detail["locations"][0]["opening_hours"] == {"mon": ["09:00", "21:00"], "sat": ["10:00", "18:00"]}


async def test_approve_then_suspend_and_reinstate_with_history_and_events(client, world):
    provider_id = await _apply(client, world)
    operator = await bearer(client, "operator", world.operators["chaoyang"])
    approved = await _decide(client, operator, provider_id, "approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    assert_problem(await _decide(client, operator, provider_id, "suspend"), 422, "reason_required")
    suspended = await _decide(client, operator, provider_id, "suspend", "Complaints about hygiene")
    assert suspended.json()["status"] == "suspended"
    reinstated = await _decide(client, operator, provider_id, "reinstate", "Inspection passed")
    history = reinstated.json()["history"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "applied"),
        ("applied", "active"),
        ("active", "suspended"),
        ("suspended", "active"),
    ]
    assert history[2]["reason"] == "Complaints about hygiene" and history[2]["actor_kind"] == "operator"
    assert await _events(provider_id) == 4  # the application and each of three decisions
    # A decision that does not fit the current status is a conflict and changes nothing.
    assert_problem(await _decide(client, operator, provider_id, "approve"), 409, "status_conflict")
    assert await _events(provider_id) == 4


async def test_reject_needs_a_reason_and_the_owner_can_no_longer_sign_in(client, world):
    provider_id = await _apply(client, world)
    operator = await bearer(client, "operator", world.operators["beijing"])
    body = assert_problem(await _decide(client, operator, provider_id, "reject", "  "), 422, "reason_required")
    assert body["errors"] == [{"field": "reason", "message": body["detail"]}]
    rejected = await _decide(client, operator, provider_id, "reject", "Not a fitness business")
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["history"][-1]["reason"] == "Not a fitness business"
    response = await client.post(
        "/api/v1/auth/token", json={"kind": "provider", "username": "jingti_owner", "password": OWNER_PASSWORD}
    )
    assert (
        response.status_code in (401, 403)
        or (
            await client.get("/api/v1/provider/me", headers={"Authorization": f"Bearer {response.json()['token']}"})
        ).status_code
        == 401
    )


async def test_request_changes_then_the_owner_edits_and_resubmits(client, world):
    provider_id = await _apply(client, world)
    operator = await bearer(client, "operator", world.operators["chaoyang"])
    await _decide(client, operator, provider_id, "request_changes", "Use the name on the business licence")
    owner = await bearer(client, "provider", "jingti_owner", OWNER_PASSWORD)
    profile = (await client.get("/api/v1/provider/me/profile", headers=owner)).json()
    assert profile["status"] == "changes_requested"
    assert profile["history"][-1]["reason"] == "Use the name on the business licence"
    details = {
        "name": "北京京体健身有限公司三里屯分公司",
        "kind": "gym",
        "contact_name": "赵敏",
        "contact_phone": "13900001111",
    }
    bad = await client.post("/api/v1/provider/me/resubmit", json={**details, "contact_phone": "1"}, headers=owner)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "contact_phone"
    assert await _value("SELECT status FROM provider WHERE id = $1", provider_id) == "changes_requested"
    resubmitted = await client.post("/api/v1/provider/me/resubmit", json=details, headers=owner)
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["status"] == "applied"
    assert resubmitted.json()["name"] == details["name"] and resubmitted.json()["contact_phone"] == "139****1111"
    assert resubmitted.json()["history"][-1]["actor_kind"] == "provider"
    again = await client.post("/api/v1/provider/me/resubmit", json=details, headers=owner)
    assert_problem(again, 409, "status_conflict")
    assert (await _decide(client, operator, provider_id, "approve")).json()["status"] == "active"
    assert await _events(provider_id) == 4


async def test_two_operators_deciding_at_once_exactly_one_wins(client, world):
    provider_id = await _apply(client, world)
    first = await bearer(client, "operator", world.operators["chaoyang"])
    second = await bearer(client, "operator", world.operators["beijing"])
    responses = await asyncio.gather(
        _decide(client, first, provider_id, "approve"),
        _decide(client, second, provider_id, "reject", "Duplicate of another application"),
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert await _value("SELECT count(*) FROM provider_status_change WHERE provider = $1", provider_id) == 2
    winner = next(r for r in responses if r.status_code == 200).json()["status"]
    assert await _value("SELECT status FROM provider WHERE id = $1", provider_id) == winner


async def test_an_operator_of_another_city_is_refused(client, world):
    provider_id = await _apply(client, world)
    outsider = await bearer(client, "operator", world.operators["shijiazhuang"])
    # Another scope's provider is answered as a missing one (marketplace/core/federation/scope.py).
    assert_problem(await _decide(client, outsider, provider_id, "approve"), 404, "provider_not_found")
    assert_problem(
        await client.get(f"/api/v1/console/providers/{provider_id}", headers=outsider), 404, "provider_not_found"
    )
    assert await _value("SELECT status FROM provider WHERE id = $1", provider_id) == "applied"
    sibling = await bearer(client, "operator", world.operators["chaoyang"])
    haidian = world.providers["haidian"]["id"]
    assert_problem(await _decide(client, sibling, haidian, "suspend", "x"), 404, "provider_not_found")


async def test_bad_ids_and_actions_are_4xx(client, world):
    operator = await bearer(client, "operator", world.operators["beijing"])
    assert (await _decide(client, operator, 2**31, "approve")).status_code == 400
    assert_problem(await _decide(client, operator, 999_999, "approve"), 404, "provider_not_found")
    response = await _decide(client, operator, world.providers["chaoyang"]["id"], "delist")
    assert response.status_code == 400
    long = await _decide(client, operator, world.providers["chaoyang"]["id"], "suspend", "x" * 501)
    assert long.status_code == 400
    member = await client.get("/api/v1/console/providers")
    assert member.status_code == 401
