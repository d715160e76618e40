"""The points ledger against the real PostgreSQL: spending points offers, refunds on
cancellation, expiry oldest first, reminders, bulk grants, operator corrections and a
race of many spends on few members."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from catalog.tables import Offer
from marketplace.core import notifications
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, NotFound
from marketplace.core.federation import services as federation
from marketplace.core.identity import services as identity
from marketplace.core.identity.tables import Operator
from marketplace.points import services as points
from marketplace.vouchers import services as vouchers
from marketplace.vouchers.tables import Voucher
from tests import factories
from tests.test_errors import assert_problem, bearer
from tests.vouchers.test_claims import RACERS, many_members, stock_left

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def give(member_id: int, amount: int, ref: str, now: datetime | None = None) -> int | None:
    async with engine().transaction() as transaction:
        return await points.credit(transaction.connection, member_id, "earn", amount, ref, now=now)


async def operator(world, key="beijing"):
    row = await Operator.select(Operator.id).where(Operator.username == world.operators[key]).first()
    return await identity.load_principal("operator", row["id"])


async def points_offer(world, price=300) -> int:
    offer_id = world.offers["public"]
    await Offer.update({Offer.kind: "points", Offer.points_price: price, Offer.per_member_limit: 5}).where(
        Offer.id == offer_id
    )
    return offer_id


async def test_a_points_offer_spends_points_and_cancelling_gives_them_back(client, world):
    member_id = world.members["chaoyang"][0]
    offer_id = await points_offer(world)
    headers = await bearer(client, "member", world.members["chaoyang"][1])
    # Not enough points: refused, and nothing is written.
    await give(member_id, 200, "welcome")
    body = assert_problem(
        await client.post(f"/api/v1/offers/{offer_id}/claims", headers=headers), 409, "insufficient_points"
    )
    assert body["points_price"] == 300
    assert await Voucher.count() == 0 and await stock_left(offer_id) == 100
    assert await points.balance_of(member_id) == 200

    await give(member_id, 200, "activity")
    response = await client.post(f"/api/v1/offers/{offer_id}/claims", headers=headers)
    assert response.status_code == 201, response.text
    voucher = response.json()
    assert await points.balance_of(member_id) == 100
    mine = (await client.get("/api/v1/points", headers=headers)).json()
    assert mine["balance"] == 100
    assert [(entry["kind"], entry["amount"]) for entry in mine["entries"]] == [
        ("spend", -300),
        ("earn", 200),
        ("earn", 200),
    ]

    response = await client.post(f"/api/v1/vouchers/{voucher['id']}/cancel", headers=headers)
    assert response.status_code == 200
    assert await points.balance_of(member_id) == 400
    assert await stock_left(offer_id) == 100
    # The refund went back into the lots the points came from; replaying it adds nothing.
    async with engine().transaction() as transaction:
        assert await points.refund_voucher(transaction.connection, voucher["id"]) == 0
    assert await points.balance_of(member_id) == 400
    assert await points.reconcile() == []


async def test_spending_takes_the_oldest_points_first_and_expiry_takes_the_rest(world):
    member_id = world.members["chaoyang"][0]
    long_ago = datetime.now(UTC) - timedelta(days=400)  # this lot is already past its time
    await give(member_id, 100, "old", now=long_ago)
    await give(member_id, 100, "new")
    async with engine().transaction() as transaction:
        assert await points.debit(transaction.connection, member_id, "spend", 60, "spend:1") == 140
    lots = await engine().run_ddl(f"SELECT remaining FROM points_lot WHERE member = {member_id} ORDER BY id")
    assert [row["remaining"] for row in lots] == [40, 100]
    assert await points.expire_points() == 40
    assert await points.balance_of(member_id) == 100
    assert await points.expire_points() == 0  # a second run finds nothing
    assert await points.reconcile() == []


async def test_members_are_reminded_once_before_points_expire(world):
    member_id = world.members["chaoyang"][0]
    await give(member_id, 80, "soon", now=datetime.now(UTC) - timedelta(days=350))
    await give(member_id, 50, "later")
    assert await points.remind_expiring() == 1
    assert await points.remind_expiring() == 0
    rows = await engine().run_ddl(f"SELECT kind, params FROM notification WHERE member = {member_id}")
    reminders = [
        notifications.render(row["kind"], row["params"])[1] for row in rows if row["kind"] == "points_expiring"
    ]
    assert len(reminders) == 1 and "80 积分" in reminders[0]


async def test_racing_spends_never_take_a_balance_below_zero(world):
    members = await many_members(world, 8)
    for member in members:
        await give(member.id, 1000, "grant")

    async def spend(member_id: int, attempt: int):
        async with RACERS, engine().transaction() as transaction:
            return await points.debit(transaction.connection, member_id, "spend", 100, f"spend:{attempt}")

    # 8 members × 25 attempts of 100 points, with 1,000 points each: 10 succeed per member.
    results = await asyncio.gather(*(spend(member.id, attempt) for attempt in range(25) for member in members))
    assert sum(result is not None for result in results) == 80
    assert [await points.balance_of(member.id) for member in members] == [0] * len(members)
    assert await points.reconcile() == []


async def test_racing_points_claims_spend_exactly_the_balance(world):
    offer_id = await points_offer(world, price=100)
    await Offer.update({Offer.per_member_limit: 50}).where(Offer.id == offer_id)
    member = await federation.member_principal(world.members["chaoyang"][0])
    await give(member.id, 700, "grant")

    async def attempt():
        async with RACERS:
            try:
                return await vouchers.claim(member, offer_id)
            except Conflict as error:
                return error.code

    results = await asyncio.gather(*(attempt() for _ in range(30)))
    assert sum(not isinstance(result, str) for result in results) == 7
    assert set(result for result in results if isinstance(result, str)) == {"insufficient_points"}
    assert await points.balance_of(member.id) == 0
    assert await stock_left(offer_id) == 93 and await Voucher.count() == 7


async def test_a_grant_reaches_every_member_of_the_subtree_once(world):
    chaoyang_members = await many_members(world, 30)
    beijing = await operator(world)
    # 300 × 31 points: under the four-eyes threshold (tests/points/test_four_eyes.py), queued at once.
    grant = await points.create_grant(beijing, world.nodes["chaoyang"], None, 300, "春节慰问积分")
    # Every active member of Chaoyang: the 30 and the world's own member there.
    assert grant.members_total == 31 and grant.status == "queued"
    # The outbox carries it to the job.
    rows = await engine().run_ddl("SELECT payload FROM outbox_event WHERE topic = 'points.grant_created'")
    assert json.loads(rows[0]["payload"]) == {"grant_id": grant.id}

    await points.apply_grant(grant.id)
    await points.apply_grant(grant.id)  # a redelivered job grants nothing twice
    done = await points.get_grant(beijing, grant.id)
    assert (done.status, done.members_done) == ("done", 31)
    assert {await points.balance_of(member.id) for member in chaoyang_members} == {300}
    assert await points.balance_of(world.members["haidian"][0]) == 0
    assert await points.reconcile() == []


async def test_a_grant_to_a_group_and_a_grant_replayed_chunk_by_chunk(world, monkeypatch):
    monkeypatch.setattr(points, "GRANT_CHUNK", 7)
    women = []
    for serial in range(200, 220):
        member_id, _ = await factories.add_member(
            world.nodes["cy_union"], serial, "赵敏", groups=("women",) if serial % 2 else ()
        )
        women.append(member_id) if serial % 2 else None
    beijing = await operator(world)
    grant = await points.create_grant(beijing, world.nodes["beijing"], "women", 50, "三八节")
    assert grant.members_total == 11  # ten here and the world's member, who is in the group
    assert await points.apply_grant_chunk(grant.id)
    # A job that dies after its first chunk starts again from the grant's progress.
    await engine().run_ddl(f"UPDATE points_grant SET last_member = 0 WHERE id = {grant.id}")
    await points.apply_grant(grant.id)
    assert {await points.balance_of(member_id) for member_id in women} == {50}
    entries = await engine().run_ddl(f"SELECT count(*) AS n FROM points_entry WHERE points_grant = {grant.id}")
    assert entries[0]["n"] == 11


async def test_grants_and_corrections_stay_in_the_operators_scope(client, world):
    hebei = await operator(world, "hebei")
    with pytest.raises(NotFound) as refused:  # as a union that does not exist
        await points.create_grant(hebei, world.nodes["chaoyang"], None, 10, "越权发放")
    assert (refused.value.code, refused.value.field) == ("node_not_found", "node_id")
    beijing = await operator(world)
    grant = await points.create_grant(beijing, world.nodes["chaoyang"], None, 10, "发放")
    with pytest.raises(Exception) as refused:
        await points.get_grant(hebei, grant.id)
    assert refused.value.code == "grant_not_found"

    headers = await bearer(client, "operator", world.operators["hebei"])
    member_id = world.members["chaoyang"][0]
    response = await client.post(
        f"/api/v1/console/points/members/{member_id}/adjustments",
        headers=headers,
        json={"amount": 10, "reason": "补偿"},
    )
    assert_problem(response, 404, "member_not_found")
    headers = await bearer(client, "operator", world.operators["chaoyang"])
    response = await client.post(
        f"/api/v1/console/points/members/{member_id}/adjustments",
        headers=headers,
        json={"amount": -10, "reason": "纠正"},
    )
    assert_problem(response, 409, "insufficient_points")
    response = await client.post(
        f"/api/v1/console/points/members/{member_id}/adjustments",
        headers=headers,
        json={"amount": 25, "reason": "活动补发"},
    )
    assert response.status_code == 201 and response.json() == {"member_id": member_id, "balance": 25}
    response = await client.post(
        "/api/v1/console/points/grants",
        headers=headers,
        json={"node_id": world.nodes["cy_union"], "amount": 0, "reason": "x"},
    )
    assert response.status_code in (400, 422) and response.json()["errors"][0]["field"] == "amount"
    response = await client.post(
        "/api/v1/console/points/grants",
        headers=headers,
        json={"node_id": world.nodes["cy_union"], "amount": 5, "reason": "发放", "member_group": "nobody"},
    )
    assert assert_problem(response, 422, "invalid")["errors"][0]["field"] == "member_group"


async def test_the_ledger_is_append_only(world):
    member_id = world.members["chaoyang"][0]
    await give(member_id, 10, "x")
    with pytest.raises(Exception, match="append-only"):
        await engine().run_ddl(f"UPDATE points_entry SET amount = 1000 WHERE member = {member_id}")
    with pytest.raises(Exception, match="append-only"):
        await engine().run_ddl(f"DELETE FROM points_entry WHERE member = {member_id}")
