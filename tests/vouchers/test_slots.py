"""Booking offers: a booking takes one place of the chosen slot, atomically, like stock."""

import asyncio
from datetime import timedelta

import pytest

from catalog.tables import Offer, OfferSlot
from marketplace.core.errors import Conflict
from marketplace.vouchers import services
from tests import factories
from tests.providers.test_pages import _post
from tests.test_errors import assert_problem, bearer
from tests.vouchers.test_claims import RACERS, many_members

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def booking_offer(world, capacity=3) -> tuple[int, int, int]:
    offer_id = world.offers["public"]
    await Offer.update({Offer.kind: "slot"}).where(Offer.id == offer_id)
    start = factories.now() + timedelta(days=2)
    slots = []
    for hours in (0, 3):
        slots.append(
            (
                await OfferSlot.insert(
                    OfferSlot(
                        offer=offer_id,
                        starts_at=start + timedelta(hours=hours),
                        ends_at=start + timedelta(hours=hours + 1),
                        capacity=capacity,
                    )
                ).returning(OfferSlot.id)
            )[0]["id"]
        )
    return offer_id, slots[0], slots[1]


async def booked(slot_id: int) -> int:
    return (await OfferSlot.select(OfferSlot.booked).where(OfferSlot.id == slot_id).first())["booked"]


async def test_a_booking_names_its_slot_and_expires_when_the_slot_ends(client, world):
    offer_id, first, _ = await booking_offer(world)
    headers = await bearer(client, "member", world.members["chaoyang"][1])
    body = assert_problem(await client.post(f"/api/v1/offers/{offer_id}/claims", headers=headers), 422, "slot_required")
    assert body["errors"][0]["field"] == "slot_id"
    response = await client.post(f"/api/v1/offers/{offer_id}/claims", headers=headers, json={"slot_id": first})
    assert response.status_code == 201, response.text
    slot = await OfferSlot.select().where(OfferSlot.id == first).first()
    assert response.json()["expires_at"].startswith(slot["ends_at"].isoformat()[:19])
    assert await booked(first) == 1
    await client.post(f"/api/v1/vouchers/{response.json()['id']}/cancel", headers=headers)
    assert await booked(first) == 0
    # Another offer's slot is refused.
    other = world.offers["women"]
    await Offer.update({Offer.kind: "slot"}).where(Offer.id == other)
    assert_problem(
        await client.post(f"/api/v1/offers/{other}/claims", headers=headers, json={"slot_id": first}), 409, "slot_full"
    )
    await client.get("/login")
    await _post(client, "/login", {"username": world.members["chaoyang"][1], "password": factories.PASSWORD})
    page = await client.get(f"/offers/{offer_id}")
    assert 'data-testid="slots"' in page.text and f'value="{first}"' in page.text


async def test_racing_bookings_never_overfill_a_slot(world):
    offer_id, first, second = await booking_offer(world, capacity=3)
    members = await many_members(world, 20)

    async def book(member, slot_id):
        async with RACERS:
            try:
                return await services.claim(member, offer_id, slot_id)
            except Conflict as error:
                return error.code

    results = await asyncio.gather(
        *(book(member, first if index % 2 else second) for index, member in enumerate(members))
    )
    assert sum(not isinstance(result, str) for result in results) == 6
    assert {result for result in results if isinstance(result, str)} == {"slot_full"}
    assert (await booked(first), await booked(second)) == (3, 3)
