"""Prepaid packages through the real paid path (payments, the Stripe stand-in, PostgreSQL):
the hold on payment, sessions released one by one at the counter, the cooling-off refund,
refunds of every unused balance on delisting (through Stripe, the member told), settlements
holding the released parts to the fen, and races of the counter against a delisting."""

import asyncio

import pytest

from marketplace.core.db import engine
from marketplace.core.errors import Conflict
from marketplace.payments.services import stripe_client
from marketplace.prepaid import escrow, services
from marketplace.vouchers import services as vouchers
from providers.settlements import drafting
from tests.prepaid.helpers import SHARE, SUBSIDY, balanced, buy, delist, ledger, member, prepaid_offer
from tests.vouchers.test_claims import RACERS, many_members, staff_principal

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def stripe_refunded(payment_id: int) -> int:
    async with engine().transaction() as transaction:
        intent_id = await transaction.connection.fetchval(
            "SELECT payment_intent FROM payment WHERE id = $1", payment_id
        )
    refunds = await stripe_client().v1.refunds.list_async({"payment_intent": intent_id, "limit": 100})
    return sum(refund.amount for refund in refunds.data if refund.status == "succeeded")


async def test_paying_holds_both_shares_and_each_session_releases_its_part(world):
    offer_id = await prepaid_offer(world, sessions=3)
    package = await buy(await member(world), offer_id)
    assert (package["member_fen"], package["subsidy_fen"], package["status"]) == (SHARE, SUBSIDY, "active")
    assert package["terms_zh"] == "7天内未使用可全额退款。"  # the terms are kept with the purchase
    staff = await staff_principal(world)
    used = [await vouchers.redeem(staff, package["code"]) for _ in range(3)]
    assert [(u.session, u.sessions_left) for u in used] == [(1, 2), (2, 1), (3, 0)]
    assert used[-1].status == "redeemed"
    with pytest.raises(Conflict) as refused:
        await vouchers.redeem(staff, package["code"])
    assert refused.value.code in ("no_sessions_left", "not_issued")
    row = await ledger(package["id"])
    assert balanced(row) and row["releases"] == 3
    assert (row["released_m"], row["released_s"], row["left_member_fen"]) == (SHARE, SUBSIDY, 0)
    assert row["status"] == "used_up"
    assert await services.reconcile() == {}


async def test_cooling_off_takes_it_back_in_full_once_and_not_after_a_session(world):
    offer_id = await prepaid_offer(world, sessions=3)
    buyer = await member(world)
    package = await buy(buyer, offer_id)
    refund = await services.take_back(buyer, package["id"])
    assert (refund["refund_member_fen"], refund["refund_subsidy_fen"]) == (SHARE, SUBSIDY)
    assert await stripe_refunded(package["payment"]) == SHARE
    with pytest.raises(Conflict):
        await services.take_back(buyer, package["id"])
    assert await stripe_refunded(package["payment"]) == SHARE
    async with engine().transaction() as transaction:
        payment = await transaction.connection.fetchrow(
            "SELECT status, refunded_fen FROM payment WHERE id = $1", package["payment"]
        )
        voucher = await transaction.connection.fetchval("SELECT status FROM voucher WHERE id = $1", package["voucher"])
    assert (payment["status"], payment["refunded_fen"], voucher) == ("refunded", SHARE, "refunded")

    used = await buy(buyer, offer_id)
    await vouchers.redeem(await staff_principal(world), used["code"])
    with pytest.raises(Conflict) as refused:
        await services.take_back(buyer, used["id"])
    assert refused.value.code == "cooling_off_over"
    assert await services.reconcile() == {}


async def test_delisting_refunds_every_unused_balance_through_stripe_and_tells_the_member(world):
    offer_id = await prepaid_offer(world, sessions=3)
    buyer = await member(world)
    package = await buy(buyer, offer_id)
    staff = await staff_principal(world)
    await vouchers.redeem(staff, package["code"])
    await vouchers.redeem(staff, package["code"])
    assert await delist(world.providers["chaoyang"]["id"]) == 1
    row = await ledger(package["id"])
    assert balanced(row) and row["status"] == "refunded"
    left_member = SHARE - escrow.part(SHARE, 3, 1) - escrow.part(SHARE, 3, 2)
    assert row["refunded_m"] == left_member == escrow.part(SHARE, 3, 3)
    assert row["refunded_s"] == escrow.part(SUBSIDY, 3, 3)
    assert await stripe_refunded(package["payment"]) == left_member
    async with engine().transaction() as transaction:
        message = await transaction.connection.fetchrow(
            "SELECT kind, link FROM notification WHERE member = $1 ORDER BY id DESC LIMIT 1", buyer.id
        )
        payment = await transaction.connection.fetchrow(
            "SELECT status, refunded_fen FROM payment WHERE id = $1", package["payment"]
        )
    assert (message["kind"], message["link"]) == ("prepaid_refunded_delisted", "/packages")
    assert (payment["status"], payment["refunded_fen"]) == ("succeeded", left_member)
    # A second delivery of the event refunds nothing more.
    assert await services.refund_provider(world.providers["chaoyang"]["id"]) == 0
    assert await stripe_refunded(package["payment"]) == left_member
    assert await services.reconcile() == {}


async def test_settlements_hold_the_released_parts_to_the_fen(world):
    offer_id = await prepaid_offer(world, sessions=3)
    package = await buy(await member(world), offer_id)
    staff = await staff_principal(world)
    await vouchers.redeem(staff, package["code"])
    await vouchers.redeem(staff, package["code"])
    async with engine().transaction() as transaction:
        start, end = await transaction.connection.fetchrow("SELECT now() - interval '1 day', now() + interval '1 day'")
    lines = await drafting.redeemed_lines(world.providers["chaoyang"]["id"], start, end)
    assert len(lines) == 2 and all(line.escrow_entry for line in lines)
    assert sum(line.paid_fen for line in lines) == escrow.part(SHARE, 3, 1) + escrow.part(SHARE, 3, 2)
    assert sum(line.subsidy_fen for line in lines) == escrow.part(SUBSIDY, 3, 1) + escrow.part(SUBSIDY, 3, 2)
    row = await ledger(package["id"])
    assert sum(line.paid_fen + line.subsidy_fen for line in lines) == row["released_m"] + row["released_s"]


async def test_a_period_membership_releases_month_by_month_pro_rata(world):
    offer_id = await prepaid_offer(world, sessions=None, months=3)
    package = await buy(await member(world), offer_id)
    staff = await staff_principal(world)
    visit = await vouchers.redeem(staff, package["code"])  # a visit: nothing released, still valid
    assert visit.sessions_left is None and visit.status == "issued"
    later = escrow.add_months(package["starts_at"], 2)
    async with engine().transaction() as transaction:
        released = await escrow.release_months(transaction.connection, package["id"], later)
        again = await escrow.release_months(transaction.connection, package["id"], later)
    total = SHARE + SUBSIDY
    assert released == escrow.part(SHARE, 3, 1) + escrow.part(SHARE, 3, 2) + escrow.part(SUBSIDY, 3, 1) + escrow.part(
        SUBSIDY, 3, 2
    )
    assert again == 0
    row = await ledger(package["id"])
    assert balanced(row) and row["left_member_fen"] + row["left_subsidy_fen"] == total - released


async def test_racing_sessions_and_a_delisting_release_each_session_once_and_refund_the_rest_exactly(world):
    offer_id = await prepaid_offer(world, sessions=5)
    buyers = await many_members(world, 4)
    packages = [await buy(buyer, offer_id) for buyer in buyers]
    staff = [await staff_principal(world, role=role) for role in ("staff", "owner")]

    async def scan(index: int, code: str):
        async with RACERS:
            try:
                return await vouchers.redeem(staff[index % 2], code)
            except Conflict as error:
                return error.code

    async def delisting():
        await asyncio.sleep(0.05)
        return await delist(world.providers["chaoyang"]["id"])

    scans = [scan(i, package["code"]) for package in packages for i in range(8)]
    results = await asyncio.gather(*scans, delisting())
    assert results[-1] == 4 or results[-1] <= 4  # some may be used up before the delisting
    for package in packages:
        row = await ledger(package["id"])
        assert balanced(row)
        assert row["releases"] == row["sessions_used"] <= 5
        releases = [escrow.part(SHARE, 5, k) for k in range(1, row["sessions_used"] + 1)]
        assert row["released_m"] == sum(releases)
        if row["status"] == "refunded":
            assert row["refunded_m"] == SHARE - sum(releases)
            assert await stripe_refunded(package["payment"]) == SHARE - sum(releases)
        else:
            assert row["status"] == "used_up" and row["refunded_m"] == 0
    async with engine().transaction() as transaction:
        duplicates = await transaction.connection.fetchval(
            "SELECT count(*) FROM (SELECT package, ref FROM prepaid_entry GROUP BY 1, 2 HAVING count(*) > 1) d"
        )
    assert duplicates == 0
    assert await services.reconcile() == {}
