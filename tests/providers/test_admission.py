"""Applying to become a provider: every bad field named, nothing half-saved, phone encrypted."""

import pytest

from marketplace.core import pii
from marketplace.core.db import engine
from tests.providers.builders import VALID_CODE, application

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def _value(sql: str, *args):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


def _fields(body: dict) -> list[str]:
    return [error["field"] for error in body.get("errors") or []]


async def test_an_application_is_stored_applied_with_its_locations_owner_and_history(client, world):
    response = await client.post("/api/v1/providers/applications", json=application(world.nodes["chaoyang"]))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "applied"
    provider_id = response.json()["id"]
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow("SELECT * FROM provider WHERE id = $1", provider_id)
    assert row["status"] == "applied" and row["credit_code"] == VALID_CODE
    assert "contact_phone" not in dict(row)  # the clear-text column is gone
    assert row["contact_phone_masked"] == "138****5678"
    assert pii.decrypt(row["contact_phone_cipher"]) == "13812345678"
    assert await _value("SELECT count(*) FROM location WHERE provider = $1", provider_id) == 1
    assert await _value("SELECT role FROM provider_user WHERE username = 'jingti_owner'") == "owner"
    assert await _value("SELECT to_status FROM provider_status_change WHERE provider = $1", provider_id) == "applied"
    assert (
        await _value(
            "SELECT count(*) FROM outbox_event WHERE topic = 'provider.changed' "
            "AND (payload->>'provider_id')::int = $1",
            provider_id,
        )
        == 1
    )


def _bad(field: str, value):
    """An application with one field changed; dotted fields reach into the nested bodies."""

    def build(nodes: dict) -> dict:
        body = application(nodes["chaoyang"])
        if field == "node_id" and isinstance(value, str):
            body["node_id"] = nodes[value]
            return body
        target, *path = field.split(".")
        if target == "locations[0]":
            body["locations"][0][path[0]] = value
        elif target == "owner":
            body["owner"][path[0]] = value
        else:
            body[target] = value
        return body

    return build


BAD_FIELDS = [
    ("name", _bad("name", "   ")),
    ("name", _bad("name", "健" * 101)),
    ("credit_code", _bad("credit_code", "91350100M000100Y44")),
    ("credit_code", _bad("credit_code", "91350100M000100Y4")),
    ("credit_code", _bad("credit_code", "9" * 19)),
    ("kind", _bad("kind", "bank")),
    ("contact_name", _bad("contact_name", "")),
    ("contact_phone", _bad("contact_phone", "12345")),
    ("node_id", _bad("node_id", 999_999)),
    ("node_id", _bad("node_id", 2**31)),
    ("node_id", _bad("node_id", "cy_union")),  # a grassroots union does not admit providers
    ("node_id", _bad("node_id", "national")),
    ("locations", _bad("locations", [])),
    ("locations[0].latitude", _bad("locations[0].latitude", 10.0)),
    ("locations[0].longitude", _bad("locations[0].longitude", 140.0)),
    ("locations[0].address", _bad("locations[0].address", " ")),
    ("locations[0].opening_hours.mon", _bad("locations[0].opening_hours", {"mon": ["21:00", "09:00"]})),
    ("locations[0].opening_hours.tue", _bad("locations[0].opening_hours", {"tue": ["9am", "18:00"]})),
    ("locations[0].opening_hours.holiday", _bad("locations[0].opening_hours", {"holiday": ["09:00", "18:00"]})),
    ("owner.username", _bad("owner.username", "bad name!")),
    ("owner.password", _bad("owner.password", "short7!")),
    ("owner.password", _bad("owner.password", "password1")),
    ("owner.password", _bad("owner.password", "12345678")),
]


@pytest.mark.parametrize(("field", "build"), BAD_FIELDS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_FIELDS)])
async def test_every_bad_field_is_named_and_nothing_is_stored(client, world, field, build):
    before = await _value("SELECT count(*) FROM provider")
    response = await client.post("/api/v1/providers/applications", json=build(world.nodes))
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    named = _fields(body)
    # Our own checks name the field exactly; the framework's name the top-level key.
    assert field in named or field.split(".")[0].split("[")[0] in named, body
    assert await _value("SELECT count(*) FROM provider") == before
    assert await _value("SELECT count(*) FROM provider_user WHERE username = 'jingti_owner'") == 0


async def test_a_taken_username_or_credit_code_is_a_conflict_and_rolls_back(client, world):
    taken = application(
        world.nodes["chaoyang"],
        owner={"username": world.providers["chaoyang"]["owner"], "password": "Str0ng-Pass-2026"},
    )
    response = await client.post("/api/v1/providers/applications", json=taken)
    assert response.status_code == 409 and _fields(response.json()) == ["owner.username"]
    assert await _value("SELECT count(*) FROM provider WHERE credit_code = $1", VALID_CODE) == 0
    assert await _value("SELECT count(*) FROM location WHERE name = '三里屯店'") == 0

    assert (
        await client.post("/api/v1/providers/applications", json=application(world.nodes["chaoyang"]))
    ).status_code == 201
    again = application(world.nodes["chaoyang"], owner={"username": "other_owner", "password": "Str0ng-Pass-2026"})
    response = await client.post("/api/v1/providers/applications", json=again)
    assert response.status_code == 409 and _fields(response.json()) == ["credit_code"]
    assert await _value("SELECT count(*) FROM provider_user WHERE username = 'other_owner'") == 0


async def test_an_unknown_field_is_refused(client, world):
    response = await client.post(
        "/api/v1/providers/applications", json=application(world.nodes["chaoyang"], bank_account="123")
    )
    assert response.status_code == 400


async def test_the_api_is_documented_with_summaries(client):
    response = await client.get("/api/docs/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, method in [
        ("/api/v1/providers/applications", "post"),
        ("/api/v1/console/providers", "get"),
        ("/api/v1/console/providers/{provider_id}/decisions", "post"),
        ("/api/v1/provider/me/locations", "post"),
        ("/api/v1/provider/me/users", "post"),
    ]:
        assert paths[path][method]["summary"], path
