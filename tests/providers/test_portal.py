"""The provider's own portal API: owners manage locations and staff, staff only read."""

import pytest

from marketplace.core.db import engine
from tests.providers.builders import location
from tests.test_errors import assert_problem, bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def _value(sql: str, *args):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


async def _events(provider_id: int) -> int:
    return await _value(
        "SELECT count(*) FROM outbox_event WHERE topic = 'provider.changed' AND (payload->>'provider_id')::int = $1",
        provider_id,
    )


async def test_owner_adds_edits_and_removes_locations_announcing_each(client, world):
    provider = world.providers["chaoyang"]
    owner = await bearer(client, "provider", provider["owner"])
    added = await client.post("/api/v1/provider/me/locations", json=location(), headers=owner)
    assert added.status_code == 201, added.text
    location_id = added.json()["id"]
    assert await _events(provider["id"]) == 1
    edited = await client.put(
        f"/api/v1/provider/me/locations/{location_id}",
        json=location(name="工体旗舰店", opening_hours={"sat": ["07:30", "22:00"]}),
        headers=owner,
    )
    assert edited.json()["name"] == "工体旗舰店" and edited.json()["opening_hours"] == {"sat": ["07:30", "22:00"]}
    assert await _events(provider["id"]) == 2
    bad = await client.put(f"/api/v1/provider/me/locations/{location_id}", json=location(latitude=60.0), headers=owner)
    assert assert_problem(bad, 422, "invalid")["errors"][0]["field"] == "latitude"
    assert (await client.delete(f"/api/v1/provider/me/locations/{location_id}", headers=owner)).status_code == 204
    assert await _events(provider["id"]) == 3
    profile = (await client.get("/api/v1/provider/me/profile", headers=owner)).json()
    assert [loc["name"] for loc in profile["locations"]] == ["望京店"]


async def test_the_last_location_cannot_be_removed(client, world):
    provider = world.providers["chaoyang"]
    owner = await bearer(client, "provider", provider["owner"])
    only = await _value("SELECT id FROM location WHERE provider = $1", provider["id"])
    assert_problem(await client.delete(f"/api/v1/provider/me/locations/{only}", headers=owner), 409, "last_location")
    assert await _value("SELECT count(*) FROM location WHERE provider = $1", provider["id"]) == 1
    assert await _events(provider["id"]) == 0


async def test_an_owner_cannot_touch_another_providers_location(client, world):
    owner = await bearer(client, "provider", world.providers["chaoyang"]["owner"])
    theirs = await _value("SELECT id FROM location WHERE provider = $1", world.providers["haidian"]["id"])
    response = await client.put(f"/api/v1/provider/me/locations/{theirs}", json=location(), headers=owner)
    assert_problem(response, 404, "location_not_found")
    assert_problem(
        await client.delete(f"/api/v1/provider/me/locations/{theirs}", headers=owner), 404, "location_not_found"
    )


async def test_staff_cannot_manage_staff_or_locations(client, world):
    provider = world.providers["chaoyang"]
    staff = await bearer(client, "provider", provider["staff"])
    assert (await client.get("/api/v1/provider/me/profile", headers=staff)).status_code == 200
    only = await _value("SELECT id FROM location WHERE provider = $1", provider["id"])
    for response in [
        await client.post("/api/v1/provider/me/locations", json=location(), headers=staff),
        await client.put(f"/api/v1/provider/me/locations/{only}", json=location(), headers=staff),
        await client.delete(f"/api/v1/provider/me/locations/{only}", headers=staff),
        await client.get("/api/v1/provider/me/users", headers=staff),
        await client.post(
            "/api/v1/provider/me/users",
            headers=staff,
            json={"username": "sneaky", "password": "Str0ng-Pass-2026", "display_name": "X"},
        ),
    ]:
        assert_problem(response, 403, "owner_only")
    assert await _value("SELECT count(*) FROM location WHERE provider = $1", provider["id"]) == 1
    assert await _value("SELECT count(*) FROM provider_user WHERE username = 'sneaky'") == 0


async def test_owner_adds_and_deactivates_staff(client, world):
    provider = world.providers["chaoyang"]
    owner = await bearer(client, "provider", provider["owner"])
    weak = await client.post(
        "/api/v1/provider/me/users",
        headers=owner,
        json={"username": "cashier2", "password": "password", "display_name": "刘洋"},
    )
    assert assert_problem(weak, 422, "weak_password")["errors"][0]["field"] == "password"
    taken = await client.post(
        "/api/v1/provider/me/users",
        headers=owner,
        json={"username": provider["staff"], "password": "Str0ng-Pass-2026", "display_name": "刘洋"},
    )
    assert_problem(taken, 409, "username_taken")
    added = await client.post(
        "/api/v1/provider/me/users",
        headers=owner,
        json={"username": "cashier2", "password": "Str0ng-Pass-2026", "display_name": "刘洋"},
    )
    assert added.status_code == 201 and added.json()["role"] == "staff"
    cashier = await bearer(client, "provider", "cashier2", "Str0ng-Pass-2026")
    assert (await client.get("/api/v1/provider/me", headers=cashier)).status_code == 200
    users = (await client.get("/api/v1/provider/me/users", headers=owner)).json()
    assert [u["username"] for u in users] == [provider["owner"], provider["staff"], "cashier2"]
    response = await client.post(f"/api/v1/provider/me/users/{added.json()['id']}/deactivate", headers=owner)
    assert response.status_code == 204
    assert (await client.get("/api/v1/provider/me", headers=cashier)).status_code == 401
    refused = await client.post(
        "/api/v1/auth/token", json={"kind": "provider", "username": "cashier2", "password": "Str0ng-Pass-2026"}
    )
    assert refused.status_code == 401
    owner_id = users[0]["id"]
    assert_problem(
        await client.post(f"/api/v1/provider/me/users/{owner_id}/deactivate", headers=owner), 404, "user_not_found"
    )
