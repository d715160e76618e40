"""Prepaid Guard wired into buying (after merging prepaid-core): a frozen provider's packages
cannot be bought (holders keep using theirs and are told in the inbox), a freeze racing
purchases lets none through after it, the member's total cap and the cooling-off days come
from the published policy, and listing approval refuses a package outside the caps."""

import asyncio
from datetime import timedelta

import pytest

from catalog import services as catalog
from catalog.tables import Offer
from evaluation.enforcement import freeze, policy
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid
from marketplace.prepaid import escrow, services
from marketplace.vouchers import services as vouchers
from tests.console.helpers import post, web_login
from tests.evaluation.test_quality_loop import events
from tests.points.test_ledger import operator
from tests.prepaid.helpers import SHARE, buy, member, prepaid_offer
from tests.vouchers.test_claims import many_members, race, staff_principal

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def publish_prepaid(world, **changes) -> None:
    rules = {**policy.DEFAULT_RULES, "prepaid": {**policy.DEFAULT_RULES["prepaid"], **changes}}
    await policy.publish_policy(await operator(world, "chaoyang"), world.nodes["chaoyang"], rules)


async def test_a_frozen_provider_sells_no_package_and_holders_keep_theirs_and_are_told(world):
    offer_id = await prepaid_offer(world, sessions=3)
    provider = world.providers["chaoyang"]["id"]
    holder = await member(world)
    package = await buy(holder, offer_id)
    await events("prepaid.sales_frozen")
    await freeze.flag(await operator(world, "chaoyang"), provider, "门店将于下月搬迁，新址未定")
    (event_id, payload), *_ = await events("prepaid.sales_frozen")
    (newcomer,) = await many_members(world, 1)
    with pytest.raises(Conflict) as refused:
        await services.purchase(newcomer, offer_id)
    assert refused.value.code == "sales_frozen" and refused.value.extra["reason"] == "operator"
    assert "为保障会员资金安全" in refused.value.translated()
    # The holder keeps using the package.
    used = await vouchers.redeem(await staff_principal(world), package["code"])
    assert used.sessions_left == 2
    # ... and is told, once however often the event is delivered.
    assert await services.tell_holders_frozen(payload["provider_id"], event_id) == 1
    assert await services.tell_holders_frozen(payload["provider_id"], event_id) == 0
    rows = await engine().run_ddl("SELECT member, kind, params FROM notification WHERE kind = 'prepaid_sales_frozen'")
    assert [row["member"] for row in rows] == [holder.id]
    # Lifted: sales resume.
    (found,) = await freeze.open_freezes(provider)
    await freeze.lift_by_operator(await operator(world, "chaoyang"), found.id, "已核实新址，租约已签三年")
    assert (await services.purchase(newcomer, offer_id)).status == "pending"


async def test_a_freeze_racing_purchases_lets_none_through_after_it(world):
    offer_id = await prepaid_offer(world, sessions=3)
    await Offer.update({Offer.stock_left: 100, Offer.stock_total: 100}).where(Offer.id == offer_id)
    provider = world.providers["chaoyang"]["id"]
    buyers = await many_members(world, 12)
    chaoyang = await operator(world, "chaoyang")

    async def flag():
        await asyncio.sleep(0.01)
        await freeze.flag(chaoyang, provider, "教练团队集体离职，课程无法保证")
        return "flagged"

    results = await asyncio.gather(*(race(services.purchase, buyer, offer_id) for buyer in buyers), flag())
    outcomes = [getattr(result, "status", result) for result in results[:-1]]
    assert results[-1] == "flagged" and set(outcomes) <= {"pending", "sales_frozen"}, outcomes
    async with engine().transaction() as transaction:
        connection = transaction.connection
        since = await connection.fetchval("SELECT since FROM prepaid_freeze WHERE provider = $1", provider)
        reserved = await connection.fetchval(
            "SELECT count(*) FROM payment pay JOIN voucher v ON v.id = pay.voucher WHERE v.offer = $1", offer_id
        )
        # Every reservation that went through committed before the freeze did: none is newer
        # than the freeze's own transaction (each holds the shared lock the freeze waits for).
        # The voucher row is written once, by the reservation; the payment row is not (it gets
        # its PaymentIntent outside the reservation), so its xmin says nothing here.
        after = await connection.fetchval(
            "SELECT count(*) FROM voucher v "
            "WHERE v.offer = $1 AND v.xmin::text::bigint > (SELECT xmin::text::bigint FROM prepaid_freeze "
            "WHERE provider = $2)",
            offer_id,
            provider,
        )
    assert since is not None and reserved == outcomes.count("pending") and after == 0
    (late,) = await many_members(world, 1, start=500)
    with pytest.raises(Conflict):
        await services.purchase(late, offer_id)


async def test_the_members_total_cap_comes_from_the_policy(world):
    await publish_prepaid(world, package_max_fen=10000, membership_max_fen=10000, member_total_max_fen=15000)
    offer_id = await prepaid_offer(world, sessions=3)
    buyer = await member(world)
    await buy(buyer, offer_id)
    await services.purchase(buyer, offer_id)  # a payment under way counts too: 2 × ¥70.02 ≤ ¥150
    with pytest.raises(Conflict) as refused:
        await services.purchase(buyer, offer_id)
    assert refused.value.code == "prepaid_member_cap"
    assert refused.value.translated() == (
        f"每位会员持有的预付套餐合计不得超过 ¥150；您目前持有 ¥{2 * SHARE // 100}.{2 * SHARE % 100:02d}，"
        f"本套餐需 ¥{SHARE // 100}.{SHARE % 100:02d}。"
    )


async def test_the_cooling_off_days_come_from_the_policy_and_stay_with_the_package(world):
    await publish_prepaid(world, cooling_off_days=3)
    offer_id = await prepaid_offer(world, sessions=3)
    buyer = await member(world)
    package = await buy(buyer, offer_id)
    assert package["cooling_off_days"] == 3
    await publish_prepaid(world, cooling_off_days=10)  # a later version changes no one's purchase
    row = package
    assert escrow.in_cooling_off(row, row["created_at"] + timedelta(days=2, hours=23))
    assert not escrow.in_cooling_off(row, row["created_at"] + timedelta(days=3, minutes=1))
    (mine,) = await services.my_packages(buyer)
    assert mine["cooling_off_days"] == 3 and mine["cooling_off_until"] == package["created_at"] + timedelta(days=3)


async def test_listing_approval_refuses_a_package_outside_the_caps_naming_the_rule(client, world):
    offer_id = await prepaid_offer(world, sessions=80, months=36)
    await Offer.update({Offer.status: "submitted"}).where(Offer.id == offer_id)
    with pytest.raises(Invalid) as refused:
        await catalog.approve(await operator(world, "chaoyang"), offer_id)
    assert refused.value.extra["rule"] == "package_max_sessions"
    assert [v["rule"] for v in refused.value.extra["violations"]] == ["package_max_sessions", "membership_max_months"]
    await web_login(client, "console", world.operators["chaoyang"])
    page = await post(client, f"/console/listings/{offer_id}/approve", {})
    assert page.status_code == 422 and "课时包不得超过 60 节课（本套餐：80 节）" in page.text
    await Offer.update({Offer.package_sessions: 60, Offer.package_months: 24}).where(Offer.id == offer_id)
    assert (await catalog.approve(await operator(world, "chaoyang"), offer_id)).status == "published"
