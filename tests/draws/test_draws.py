"""Fair draws against the real PostgreSQL: creating one (refusals at their field), one
entry per member under a race, the claim's eligibility, the draw and its verification,
winners claiming through the normal claim, places going down the waitlist, the 公示."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from catalog.tables import Offer
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid, NotFound
from marketplace.core.federation import services as federation
from marketplace.core.identity import services as identity
from marketplace.core.identity.tables import Operator
from marketplace.draws import services as draws
from marketplace.vouchers import services as vouchers
from tests import factories

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def operator(world, key="beijing"):
    row = await Operator.select(Operator.id).where(Operator.username == world.operators[key]).first()
    return await identity.load_principal("operator", row["id"])


def window(**changes) -> dict:
    now = datetime.now(UTC)
    values = {
        "opens_at": now - timedelta(minutes=1),
        "closes_at": now + timedelta(days=1),
        "places": 2,
        "claim_hours": 24,
        "weights": {},
    }
    return {**values, **changes}


async def new_draw(world, offer="public", who="beijing", **changes) -> int:
    return await draws.create_draw(
        await operator(world, who), draws.DrawCreate(offer_id=world.offers[offer], **window(**changes))
    )


async def members(world, count: int, start: int = 100, groups=()) -> list:
    found = []
    for serial in range(start, start + count):
        member_id, _ = await factories.add_member(world.nodes["cy_union"], serial, "张三丰", groups=groups)
        found.append(await federation.member_principal(member_id))
    return found


async def entries(draw_id: int) -> list[dict]:
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT id, member, weight, rank, status, voucher FROM draw_entry WHERE draw = $1 ORDER BY rank, id",
            draw_id,
        )
    return [dict(row) for row in rows]


async def inbox_kinds(member_id: int) -> list[str]:
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT kind FROM notification WHERE member = $1 ORDER BY id", member_id
        )
    return [row["kind"] for row in rows]


async def test_creating_a_draw_refuses_at_the_field(world):
    cases = [
        ({"places": 101}, "places"),  # the offer has 100 left
        ({"closes_at": datetime.now(UTC) - timedelta(minutes=5)}, "closes_at"),
        ({"claim_hours": 0}, "claim_hours"),
        ({"weights": {"nobody": 2}}, "weights"),
        ({"weights": {"gig": 11}}, "weights"),
    ]
    for changes, field in cases:
        with pytest.raises(Invalid) as refused:
            await new_draw(world, **changes)
        assert refused.value.field == field, changes
    with pytest.raises(Invalid) as refused:  # Hebei's operator: Beijing's offer is not theirs
        await new_draw(world, who="hebei")
    assert refused.value.field == "offer_id"
    await new_draw(world)
    with pytest.raises(Conflict) as refused:
        await new_draw(world)
    assert refused.value.code == "draw_exists" and refused.value.field == "offer_id"


async def test_an_offer_by_draw_is_not_claimed_first_come(world):
    await new_draw(world)
    (member,) = await members(world, 1)
    with pytest.raises(Conflict) as refused:
        await vouchers.claim(member, world.offers["public"])
    assert refused.value.code == "by_draw"


async def test_entering_checks_the_claims_eligibility_and_the_window(world):
    women_draw = await new_draw(world, offer="women")
    haidian = await federation.member_principal(world.members["haidian"][0])
    with pytest.raises(NotFound):  # not in the women's group: could not claim it, cannot enter
        await draws.enter(haidian, women_draw)
    chaoyang = await federation.member_principal(world.members["chaoyang"][0])
    entered = await draws.enter(chaoyang, women_draw)
    assert entered["weight"] == 1
    later = await new_draw(world, opens_at=datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(Conflict) as refused:
        await draws.enter(chaoyang, later)
    assert refused.value.code == "draw_not_open"


async def test_a_member_who_holds_the_offer_up_to_its_limit_cannot_enter(world):
    (member,) = await members(world, 1)
    await vouchers.claim(member, world.offers["public"])  # claimed first come, before the draw (limit 1)
    draw_id = await new_draw(world)
    with pytest.raises(Conflict) as refused:
        await draws.enter(member, draw_id)
    assert refused.value.code == "limit_reached"


async def test_one_entry_per_member_under_a_race(world):
    draw_id = await new_draw(world)
    (member,) = await members(world, 1)

    async def attempt():
        try:
            return (await draws.enter(member, draw_id))["ticket"]
        except Conflict as error:
            return error.code

    outcomes = await asyncio.gather(*(attempt() for _ in range(20)))
    tickets = [outcome for outcome in outcomes if isinstance(outcome, int)]
    assert len(tickets) == 1 and outcomes.count("already_entered") == 19
    assert len(await entries(draw_id)) == 1
    assert (await inbox_kinds(member.id)).count("draw_entered") == 1


async def test_weights_come_from_the_members_groups(world):
    draw_id = await new_draw(world, weights={"gig": 3, "women": 2})
    chaoyang = await federation.member_principal(world.members["chaoyang"][0])  # women and gig
    assert (await draws.enter(chaoyang, draw_id))["weight"] == 3
    (plain,) = await members(world, 1)
    assert (await draws.enter(plain, draw_id))["weight"] == 1


async def test_the_draw_is_verifiable_winners_claim_normally_and_places_go_down_the_waitlist(world):
    draw_id = await new_draw(world, places=2)
    people = await members(world, 6)
    for person in people:
        await draws.enter(person, draw_id)
    admin = await operator(world)
    drawn = await draws.run_draw(admin, draw_id)
    assert drawn["status"] == "drawn" and drawn["seed"]
    assert await draws.run_draw(admin, draw_id) == await draws.get_draw(draw_id)  # once only
    result = await draws.published_result(draw_id)
    assert draws.verify(result) == []
    with pytest.raises(Conflict):  # entries are closed
        await draws.enter((await members(world, 1, start=200))[0], draw_id)

    rows = await entries(draw_id)
    assert [row["status"] for row in rows] == ["offered"] * 2 + ["waitlisted"] * 4
    assert [str(row["id"]) for row in rows] == result["order"]
    by_member = {person.id: person for person in people}
    first, second, third, fourth = (by_member[row["member"]] for row in rows[:4])
    assert (await inbox_kinds(first.id))[-1] == "draw_won"
    assert (await inbox_kinds(third.id))[-1] == "draw_waitlisted"

    # A winner claims through the normal claim: a voucher, one unit of stock.
    voucher = await draws.claim_place(first, draw_id)
    assert voucher.status == "issued" and voucher.offer_id == world.offers["public"]
    stock = await Offer.select(Offer.stock_left).where(Offer.id == world.offers["public"]).first()
    assert stock["stock_left"] == 99
    with pytest.raises(Conflict) as refused:  # once
        await draws.claim_place(first, draw_id)
    assert refused.value.code == "no_place"
    with pytest.raises(Conflict):  # a waitlisted member holds no place
        await draws.claim_place(third, draw_id)

    # The second gives the place up: the first of the waitlist is offered it.
    await draws.decline_place(second, draw_id)
    assert (await inbox_kinds(third.id))[-1] == "draw_place_offered"
    assert (await draws.my_entry(third, draw_id))["status"] == "offered"
    assert (await draws.my_entry(fourth, draw_id))["waiting_position"] == 1

    # The third lets it lapse: the job moves it on to the next.
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE draw_entry SET offered_until = now() - interval '1 minute' WHERE draw = $1 AND member = $2",
            draw_id,
            third.id,
        )
    assert await draws.tick() == {"drawn": 0, "lapsed": 1, "given_back": 0, "promoted": 1}
    assert (await draws.my_entry(third, draw_id))["status"] == "lapsed"
    assert (await draws.my_entry(fourth, draw_id))["status"] == "offered"
    await draws.claim_place(fourth, draw_id)
    statuses = [row["status"] for row in await entries(draw_id)]
    assert statuses.count("claimed") == 2 and statuses.count("offered") == 0  # never more than the places

    # The first winner cancels the voucher: the place goes to the last of the waitlist.
    fifth = by_member[rows[4]["member"]]
    await vouchers.cancel(first, voucher.id)
    assert await draws.tick() == {"drawn": 0, "lapsed": 0, "given_back": 1, "promoted": 1}
    assert (await draws.my_entry(first, draw_id))["status"] == "declined"
    assert (await draws.my_entry(fifth, draw_id))["status"] == "offered"
    assert await draws.tick() == {"drawn": 0, "lapsed": 0, "given_back": 0, "promoted": 0}  # once


async def test_claims_of_two_winners_race_for_the_last_unit_and_never_oversell(world):
    await Offer.update({Offer.stock_left: 2, Offer.stock_total: 2}).where(Offer.id == world.offers["public"])
    draw_id = await new_draw(world, places=2)
    people = await members(world, 2)
    for person in people:
        await draws.enter(person, draw_id)
    await draws.run_draw(await operator(world), draw_id)
    # Someone else took a unit meanwhile (an operator's correction): one left for two winners.
    await Offer.update({Offer.stock_left: 1}).where(Offer.id == world.offers["public"])

    async def attempt(person):
        try:
            return (await draws.claim_place(person, draw_id)).status
        except Conflict as error:
            return error.code

    outcomes = sorted(await asyncio.gather(*(attempt(person) for person in people)))
    assert outcomes == ["issued", "sold_out"]
    statuses = sorted(row["status"] for row in await entries(draw_id))
    assert statuses == ["claimed", "offered"]  # the refused claim left its place as it was


async def test_the_periodic_job_runs_a_draw_whose_entries_closed(world):
    draw_id = await new_draw(world)
    people = await members(world, 3)
    for person in people:
        await draws.enter(person, draw_id)
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE draw SET closes_at = now() - interval '1 second' WHERE id = $1", draw_id
        )
    assert (await draws.tick())["drawn"] == 1
    assert draws.verify(await draws.published_result(draw_id)) == []


async def test_the_notice_masks_members_and_drops_names_after_its_period(world):
    draw_id = await new_draw(world, places=1)
    chaoyang = await federation.member_principal(world.members["chaoyang"][0])
    await draws.enter(chaoyang, draw_id)
    before = await draws.notice(draw_id)
    assert before["winners"] == [] and before["draw"]["seed"] is None  # not revealed before the draw
    await draws.run_draw(await operator(world), draw_id)
    (winner,) = (await draws.notice(draw_id))["winners"]
    assert winner["name"] == "王*芳" and winner["phone"].startswith("139****")
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE draw SET notice_until = now() - interval '1 second' WHERE id = $1", draw_id
        )
    (winner,) = (await draws.notice(draw_id))["winners"]
    assert winner["name"] is None and winner["phone"] is None and winner["ticket"]
