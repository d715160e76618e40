"""The policy's release schedule and refund split reach the escrow (issue 17): each package
keeps what the policy said when it was bought, so a later version alters no one's purchase."""

import pytest

from evaluation.enforcement import policy
from marketplace.core import money
from marketplace.core.db import engine
from marketplace.prepaid import escrow, services
from marketplace.vouchers import services as vouchers
from tests.points.test_ledger import operator
from tests.prepaid.helpers import SHARE, SUBSIDY, balanced, buy, delist, ledger, member, prepaid_offer
from tests.prepaid.test_prepaid import stripe_refunded
from tests.vouchers.test_claims import staff_principal

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def publish_prepaid(world, **changes) -> None:
    rules = {**policy.DEFAULT_RULES, "prepaid": {**policy.DEFAULT_RULES["prepaid"], **changes}}
    await policy.publish_policy(await operator(world, "chaoyang"), world.nodes["chaoyang"], rules)


async def test_a_monthly_policy_releases_a_class_package_month_by_month_and_a_later_version_changes_nothing(world):
    await publish_prepaid(world, release="monthly")
    offer_id = await prepaid_offer(world, sessions=3, months=3)
    monthly = await buy(await member(world), offer_id)
    await publish_prepaid(world, release="per_session")  # a later version: only later purchases follow it
    per_session = await buy(await member(world), offer_id)
    assert (monthly["release"], per_session["release"]) == ("monthly", "per_session")

    staff = await staff_principal(world)
    first = await vouchers.redeem(staff, monthly["code"])
    assert (first.session, first.sessions_left) == (1, 2)
    row = await ledger(monthly["id"])
    assert (row["released_m"], row["released_s"], row["sessions_used"]) == (0, 0, 1)  # a use releases nothing
    await vouchers.redeem(staff, per_session["code"])
    assert (await ledger(per_session["id"]))["released_m"] == escrow.part(SHARE, 3, 1)

    async with engine().transaction() as transaction:
        released = await escrow.release_months(
            transaction.connection, monthly["id"], escrow.add_months(monthly["starts_at"], 1)
        )
        assert (
            await escrow.release_months(
                transaction.connection, per_session["id"], escrow.add_months(per_session["starts_at"], 1)
            )
            == 0
        )
    assert released == escrow.part(SHARE, 3, 1) + escrow.part(SUBSIDY, 3, 1)

    await vouchers.redeem(staff, monthly["code"])
    last = await vouchers.redeem(staff, monthly["code"])  # the last session: all that is left, at once
    assert last.sessions_left == 0
    row = await ledger(monthly["id"])
    assert balanced(row) and row["status"] == "used_up"
    assert (row["released_m"], row["released_s"], row["left_member_fen"]) == (SHARE, SUBSIDY, 0)
    assert await services.reconcile() == {}


async def test_the_unused_subsidy_goes_to_the_member_when_the_policy_says_so_never_more_than_they_paid(world):
    await publish_prepaid(world, refund_subsidy_to_node=False)
    offer_id = await prepaid_offer(world, sessions=3)
    buyer = await member(world)
    used = await buy(buyer, offer_id)
    unused = await buy(buyer, offer_id)
    await publish_prepaid(world, refund_subsidy_to_node=True)  # no one's purchase changes
    to_node = await buy(buyer, offer_id)
    assert (used["refund_subsidy_to_node"], to_node["refund_subsidy_to_node"]) == (False, True)
    staff = await staff_principal(world)
    await vouchers.redeem(staff, used["code"])
    await vouchers.redeem(staff, to_node["code"])

    assert await delist(world.providers["chaoyang"]["id"]) == 3
    left_member = SHARE - escrow.part(SHARE, 3, 1)
    left_subsidy = SUBSIDY - escrow.part(SUBSIDY, 3, 1)
    # One session used: the member gets their share left and the subsidy left with it.
    assert await stripe_refunded(used["payment"]) == left_member + left_subsidy
    # Never used: everything the member paid, and not a fen more (the subsidy goes to the union).
    assert await stripe_refunded(unused["payment"]) == SHARE
    # Sold when the subsidy went back to the union: the member's share only.
    assert await stripe_refunded(to_node["payment"]) == left_member
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT package, member_fen, subsidy_fen, subsidy_to_member_fen FROM prepaid_refund ORDER BY package"
        )
        messages = await transaction.connection.fetch(
            "SELECT params ->> 'amount' AS amount FROM notification WHERE member = $1 "
            "AND kind = 'prepaid_refunded_delisted'",
            buyer.id,
        )
    assert [(r["member_fen"], r["subsidy_fen"], r["subsidy_to_member_fen"]) for r in rows] == [
        (left_member, left_subsidy, left_subsidy),
        (SHARE, SUBSIDY, 0),
        (left_member, left_subsidy, 0),
    ]
    # The three refunds run at once: their messages come in any order, each with what went back.
    assert sorted(row["amount"] for row in messages) == sorted(
        money.yuan(fen) for fen in (left_member + left_subsidy, SHARE, left_member)
    )
    for package in (used, unused, to_node):
        assert balanced(await ledger(package["id"]))
    assert await services.reconcile() == {}
