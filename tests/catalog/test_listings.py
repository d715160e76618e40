"""Listings through the API: validation, lifecycle, revisions, scope, images, outbox."""

from datetime import UTC, datetime, timedelta

import pytest

from catalog import services
from marketplace.core.db import engine
from marketplace.core.federation import services as federation
from tests.catalog.builders import (
    changed_events,
    count,
    offer_body,
    operator,
    owner,
    picture,
    staff,
)
from tests.test_errors import assert_problem

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

OFFERS = "/api/v1/provider/offers/"
QUEUE = "/api/v1/console/listings/"


async def create(client, world, headers, **changes) -> dict:
    response = await client.post(OFFERS, json=offer_body(world, **changes), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def published(client, world, headers, **changes) -> dict:
    offer = await create(client, world, headers, **changes)
    assert (await client.post(f"{OFFERS}{offer['id']}/submit", headers=headers)).status_code == 200
    response = await client.post(f"{QUEUE}{offer['id']}/approve", headers=await operator(client, world))
    assert response.status_code == 200, response.text
    return response.json()


# Bad input ------------------------------------------------------------------------------


def _slot(start_hours: int, end_hours: int, capacity: int = 10) -> dict:
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    return {
        "starts_at": (base + timedelta(hours=start_hours)).isoformat(),
        "ends_at": (base + timedelta(hours=end_hours)).isoformat(),
        "capacity": capacity,
    }


BAD_FIELDS = [
    ({"list_price_fen": -1}, "list_price_fen"),
    ({"member_price_fen": 40000}, "member_price_fen"),
    ({"subsidy_fen": 20000}, "subsidy_fen"),
    ({"stock_total": -5}, "stock_total"),
    ({"per_member_limit": 0}, "per_member_limit"),
    ({"limit_period": "decade"}, "limit_period"),
    ({"title_zh": "长" * 101}, "title_zh"),
    ({"title_zh": "   "}, "title_zh"),
    ({"title_en": "x" * 101}, "title_en"),
    ({"description_zh": ""}, "description_zh"),
    ({"kind": "points"}, "points_price"),
    ({"kind": "paid", "points_price": 100}, "points_price"),
    ({"points_price": 0, "kind": "points"}, "points_price"),
    ({"valid_from": "2027-01-02T00:00:00+08:00", "valid_to": "2027-01-01T00:00:00+08:00"}, "valid_from"),
    ({"valid_to": "2027-01-01T00:00:00"}, "valid_to"),
    ({"category_id": 999}, "category_id"),
    ({"category_id": 2**40}, "category_id"),
    ({"node_scope_id": 99999}, "node_scope_id"),
    ({"groups": ["astronauts"]}, "groups"),
    ({"tags": ["健身", "健身"]}, "tags"),
    ({"tags": ["x" * 33]}, "tags"),
    ({"location_ids": [99999]}, "location_ids"),
    ({"kind": "slot", "slots": []}, "slots"),
    ({"kind": "slot", "slots": [_slot(3, 2)]}, "slots"),
    ({"kind": "slot", "slots": [_slot(1, 2), _slot(1, 3)]}, "slots"),
    ({"kind": "slot", "slots": [_slot(1, 2, capacity=0)]}, "slots"),
    ({"kind": "paid", "slots": [_slot(1, 2)]}, "slots"),
    ({"surprise": 1}, "surprise"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_FIELDS, ids=[f for _, f in BAD_FIELDS])
async def test_every_bad_field_is_named_and_nothing_is_saved(client, world, changes, field):
    headers = await owner(client, world)
    before = await count("offer")
    response = await client.post(OFFERS, json=offer_body(world, **changes), headers=headers)
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    named = [error["field"] for error in body.get("errors") or []]
    assert field in named or field in body["detail"], body
    assert await count("offer") == before
    assert await count("offer_slot") == 0


async def test_scope_outside_the_providers_node_is_refused(client, world):
    headers = await owner(client, world)
    response = await client.post(OFFERS, json=offer_body(world, node_scope_id=world.nodes["haidian"]), headers=headers)
    body = assert_problem(response, 422, "invalid")
    assert body["errors"][0]["field"] == "node_scope_id"


async def test_another_providers_location_is_refused(client, world):
    location = (await engine().run_ddl(f"SELECT id FROM location WHERE provider = {world.providers['haidian']['id']}"))[
        0
    ]["id"]
    response = await client.post(
        OFFERS, json=offer_body(world, location_ids=[location]), headers=await owner(client, world)
    )
    assert assert_problem(response, 422, "invalid")["errors"][0]["field"] == "location_ids"


async def test_a_failed_edit_leaves_the_draft_as_it_was(client, world):
    headers = await owner(client, world)
    offer = await create(client, world, headers)
    response = await client.put(
        f"{OFFERS}{offer['id']}", headers=headers, json=offer_body(world, title_zh="新标题", member_price_fen=99999)
    )
    assert_problem(response, 422, "invalid")
    after = (await client.get(f"{OFFERS}{offer['id']}", headers=headers)).json()
    assert after["title_zh"] == "私教体验课" and after["member_price_fen"] == 19900


async def test_huge_path_id_is_a_4xx(client, world):
    response = await client.get(f"{OFFERS}{2**40}", headers=await owner(client, world))
    assert response.status_code == 400, response.text


# Lifecycle ----------------------------------------------------------------------------------


async def test_draft_to_published_to_paused_and_back(client, world):
    headers = await owner(client, world)
    location = (
        await engine().run_ddl(f"SELECT id FROM location WHERE provider = {world.providers['chaoyang']['id']}")
    )[0]["id"]
    offer = await create(client, world, headers, location_ids=[location], groups=["women"])
    assert offer["status"] == "draft" and offer["stock_left"] == 50 and offer["location_ids"] == [location]

    submitted = (await client.post(f"{OFFERS}{offer['id']}/submit", headers=headers)).json()
    assert submitted["status"] == "submitted"
    assert_problem(await client.post(f"{OFFERS}{offer['id']}/submit", headers=headers), 409, "not_a_draft")

    ops = await operator(client, world)
    queue = (await client.get(QUEUE, headers=ops)).json()
    assert [(item["offer_id"], item["revision_id"]) for item in queue] == [(offer["id"], None)]
    approved = (await client.post(f"{QUEUE}{offer['id']}/approve", headers=ops)).json()
    assert approved["status"] == "published" and approved["published_at"]
    assert (await client.get(QUEUE, headers=ops)).json() == []

    union = (await federation.get_node(world.nodes["cy_union"])).path
    women = await services.visible_offers(union, ("women",))
    assert offer["id"] in [row["id"] for row in women]

    paused = await client.post(f"{OFFERS}{offer['id']}/pause", headers=headers)
    assert paused.json()["status"] == "paused"
    assert offer["id"] not in [row["id"] for row in await services.visible_offers(union, ("women",))]
    assert_problem(await client.post(f"{OFFERS}{offer['id']}/pause", headers=headers), 409, "not_published")
    resumed = await client.post(f"{OFFERS}{offer['id']}/resume", headers=headers)
    assert resumed.json()["status"] == "published"
    assert await changed_events() == [offer["id"]] * 3  # approve, pause, resume


async def test_rejection_sends_the_draft_back_with_the_reason(client, world):
    headers = await owner(client, world)
    offer = await create(client, world, headers)
    await client.post(f"{OFFERS}{offer['id']}/submit", headers=headers)
    ops = await operator(client, world)
    blank = await client.post(f"{QUEUE}{offer['id']}/reject", json={"reason": ""}, headers=ops)
    assert "reason" in blank.json()["detail"]
    response = await client.post(f"{QUEUE}{offer['id']}/reject", json={"reason": "价格说明不清"}, headers=ops)
    assert response.json()["status"] == "draft"
    mine = (await client.get(f"{OFFERS}{offer['id']}", headers=headers)).json()
    assert mine["review_note"] == "价格说明不清"
    assert await changed_events() == []


async def test_expiry_moves_published_offers_past_their_window(client, world):
    headers = await owner(client, world)
    offer = await published(client, world, headers)
    await engine().run_ddl(
        f"UPDATE offer SET valid_from = now() - interval '2 days', valid_to = now() - interval '1 second' "
        f"WHERE id = {offer['id']}"
    )
    expired = await services.expire_offers()
    assert offer["id"] in expired
    assert (await client.get(f"{OFFERS}{offer['id']}", headers=headers)).json()["status"] == "expired"
    assert await services.expire_offers() == []  # safe to repeat
    assert (await changed_events())[-1] == offer["id"]
    assert (await changed_events()).count(offer["id"]) == 2  # approved, expired
    assert_problem(await client.post(f"{OFFERS}{offer['id']}/resume", headers=headers), 409, "not_paused")


async def test_an_inactive_provider_cannot_submit(client, world):
    headers = await owner(client, world)
    offer = await create(client, world, headers)
    await engine().run_ddl(f"UPDATE provider SET status = 'suspended' WHERE id = {world.providers['chaoyang']['id']}")
    assert_problem(await client.post(f"{OFFERS}{offer['id']}/submit", headers=headers), 409, "provider_not_active")


async def test_slot_offer_keeps_its_slots(client, world):
    headers = await owner(client, world)
    offer = await create(client, world, headers, kind="slot", slots=[_slot(1, 2), _slot(3, 4, capacity=5)])
    assert [slot["capacity"] for slot in offer["slots"]] == [10, 5]
    edited = await client.put(
        f"{OFFERS}{offer['id']}", headers=headers, json=offer_body(world, kind="slot", slots=[_slot(3, 4, capacity=8)])
    )
    assert [slot["capacity"] for slot in edited.json()["slots"]] == [8]


async def test_only_drafts_can_be_deleted(client, world):
    headers = await owner(client, world)
    draft = await create(client, world, headers, kind="slot", slots=[_slot(1, 2)])
    live = await published(client, world, headers)
    assert (await client.delete(f"{OFFERS}{draft['id']}", headers=headers)).status_code == 204
    assert_problem(await client.get(f"{OFFERS}{draft['id']}", headers=headers), 404, "offer_not_found")
    assert await count("offer_slot") == 0
    assert_problem(await client.delete(f"{OFFERS}{live['id']}", headers=headers), 409, "not_a_draft")
    assert_problem(await client.delete(f"{OFFERS}{live['id']}", headers=await staff(client, world)), 403, "owner_only")


# Revisions ------------------------------------------------------------------------------------


async def test_revision_keeps_the_live_version_until_approved(client, world):
    headers = await owner(client, world)
    offer = await published(client, world, headers)
    response = await client.put(
        f"{OFFERS}{offer['id']}", headers=headers, json=offer_body(world, title_zh="私教体验课(升级版)", stock_total=80)
    )
    assert response.status_code == 200, response.text
    live = response.json()
    assert live["status"] == "published" and live["title_zh"] == "私教体验课" and live["pending_revision_id"]
    again = await client.put(f"{OFFERS}{offer['id']}", headers=headers, json=offer_body(world))
    assert_problem(again, 409, "revision_pending")
    await engine().run_ddl(f"UPDATE offer SET stock_left = 45 WHERE id = {offer['id']}")  # 5 claimed

    ops = await operator(client, world)
    queue = (await client.get(QUEUE, headers=ops)).json()
    assert [(item["offer_id"], item["title_zh"]) for item in queue] == [(offer["id"], "私教体验课(升级版)")]
    detail = (await client.get(f"{QUEUE}{offer['id']}", headers=ops)).json()
    changes = {change["field"]: (change["live"], change["proposed"]) for change in detail["changes"]}
    assert changes == {"title_zh": ("私教体验课", "私教体验课(升级版)"), "stock_total": (50, 80)}

    events_before = len(await changed_events())
    approved = (await client.post(f"{QUEUE}{offer['id']}/approve", headers=ops)).json()
    assert approved["title_zh"] == "私教体验课(升级版)" and approved["status"] == "published"
    assert (approved["stock_total"], approved["stock_left"]) == (80, 75)
    assert approved["pending_revision_id"] is None
    assert len(await changed_events()) == events_before + 1


async def test_rejected_revision_leaves_the_offer_alone(client, world):
    headers = await owner(client, world)
    offer = await published(client, world, headers)
    await client.put(f"{OFFERS}{offer['id']}", headers=headers, json=offer_body(world, title_zh="改"))
    ops = await operator(client, world)
    rejected = (await client.post(f"{QUEUE}{offer['id']}/reject", json={"reason": "标题过短"}, headers=ops)).json()
    assert rejected["title_zh"] == "私教体验课" and rejected["review_note"] == "标题过短"
    assert_problem(await client.post(f"{QUEUE}{offer['id']}/approve", headers=ops), 409, "nothing_to_review")


# Scope and roles --------------------------------------------------------------------------------


async def test_operator_of_another_city_is_refused(client, world):
    headers = await owner(client, world)
    offer = await create(client, world, headers)
    await client.post(f"{OFFERS}{offer['id']}/submit", headers=headers)
    hebei = await operator(client, world, "shijiazhuang")
    assert (await client.get(QUEUE, headers=hebei)).json() == []
    # Another scope's offer is answered as a missing one (marketplace/core/federation/scope.py).
    assert_problem(await client.post(f"{QUEUE}{offer['id']}/approve", headers=hebei), 404, "offer_not_found")
    assert_problem(await client.get(f"{QUEUE}{offer['id']}", headers=hebei), 404, "offer_not_found")
    national = await operator(client, world, "national")
    assert [item["offer_id"] for item in (await client.get(QUEUE, headers=national)).json()] == [offer["id"]]


async def test_provider_cannot_touch_another_providers_offer(client, world):
    offer = await create(client, world, await owner(client, world))
    other = await owner(client, world, "haidian")
    assert_problem(await client.get(f"{OFFERS}{offer['id']}", headers=other), 404, "offer_not_found")
    assert_problem(
        await client.put(f"{OFFERS}{offer['id']}", json=offer_body(world), headers=other), 404, "offer_not_found"
    )
    assert_problem(await client.post(f"{OFFERS}{offer['id']}/submit", headers=other), 404, "offer_not_found")
    assert offer["id"] not in [row["id"] for row in (await client.get(OFFERS, headers=other)).json()]


async def test_staff_read_but_cannot_write(client, world):
    offer = await create(client, world, await owner(client, world))
    headers = await staff(client, world)
    assert offer["id"] in [row["id"] for row in (await client.get(OFFERS, headers=headers)).json()]
    assert (await client.get(f"{OFFERS}{offer['id']}", headers=headers)).status_code == 200
    assert_problem(await client.post(OFFERS, json=offer_body(world), headers=headers), 403, "owner_only")
    assert_problem(await client.post(f"{OFFERS}{offer['id']}/submit", headers=headers), 403, "owner_only")


async def test_members_and_providers_cannot_review(client, world):
    headers = await owner(client, world)
    assert_problem(await client.get(QUEUE, headers=headers), 403, "wrong_role")


# Images ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
async def test_real_pictures_are_resized_and_served(client, world, fmt):
    headers = await owner(client, world)
    offer = await create(client, world, headers)
    response = await client.post(
        f"{OFFERS}{offer['id']}/image",
        headers=headers,
        files={"image": ("cover.bin", picture(fmt), "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["cover_image"].startswith("offers/") and len(stored["cover_image"]) > 30
    import io

    from PIL import Image

    big = await client.get("/media/" + stored["cover_image"])
    thumb = await client.get("/media/" + stored["cover_thumbnail"])
    assert big.status_code == 200 and thumb.status_code == 200
    assert Image.open(io.BytesIO(big.content)).size == (1200, 675)
    assert Image.open(io.BytesIO(thumb.content)).size == (400, 225)


async def test_text_renamed_png_is_refused(client, world):
    headers = await owner(client, world)
    offer = await create(client, world, headers)
    response = await client.post(
        f"{OFFERS}{offer['id']}/image",
        headers=headers,
        files={"image": ("cover.png", b"not a picture at all\n" * 10, "image/png")},
    )
    assert assert_problem(response, 422, "invalid")["errors"][0]["field"] == "image"
    assert (await client.get(f"{OFFERS}{offer['id']}", headers=headers)).json()["cover_image"] is None


async def test_gif_is_refused(client, world):
    headers = await owner(client, world)
    offer = await create(client, world, headers)
    response = await client.post(
        f"{OFFERS}{offer['id']}/image",
        headers=headers,
        files={"image": ("cover.png", picture("GIF", (20, 20)), "image/png")},
    )
    assert assert_problem(response, 422, "invalid")["errors"][0]["field"] == "image"


async def test_oversized_picture_is_refused(client, world):
    headers = await owner(client, world)
    offer = await create(client, world, headers)
    import os

    content = picture("PNG", (10, 10)) + os.urandom(5 * 1024 * 1024)
    response = await client.post(
        f"{OFFERS}{offer['id']}/image", headers=headers, files={"image": ("cover.png", content, "image/png")}
    )
    assert 400 <= response.status_code < 500
    assert "image" in response.text or response.status_code == 413


async def test_missing_file_field_is_named(client, world):
    headers = await owner(client, world)
    offer = await create(client, world, headers)
    response = await client.post(
        f"{OFFERS}{offer['id']}/image", headers=headers, files={"picture": ("cover.png", picture("PNG"), "image/png")}
    )
    assert assert_problem(response, 422, "invalid")["errors"][0]["field"] == "image"
