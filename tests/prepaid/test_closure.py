"""A provider that closes its business (an operator's 关闭/停业 decision) refunds every unused
package balance like a delisting: providers publishes provider.closed, prepaid's actor
refunds through Stripe and tells each member in the inbox; in a real browser the operator
closes the shop on the console (1440x900) and the member reads the refund in 我的套餐 (390x844)."""

import pytest
from playwright.async_api import expect

from marketplace.core import money
from marketplace.core.db import engine
from marketplace.prepaid import actors, escrow, services
from marketplace.vouchers import actors as voucher_actors, services as vouchers
from providers import services as providers
from tests.browser.conftest import _context, _watch
from tests.browser.test_login import sign_in
from tests.evaluation.test_quality_loop import events
from tests.factories import PASSWORD
from tests.points.test_ledger import operator
from tests.prepaid.helpers import SHARE, balanced, buy, ledger, member, prepaid_offer
from tests.prepaid.test_prepaid import stripe_refunded
from tests.vouchers.test_claims import staff_principal

CONSOLE = {"viewport": {"width": 1440, "height": 900}}


async def closed_and_heard(provider_id: int) -> int:
    """The provider.closed event the decision published, delivered to prepaid's actor."""
    ((event_id, payload),) = await events("provider.closed")
    assert payload == {"provider_id": provider_id}
    return await actors.on_provider_closed(event_id, payload)


@pytest.mark.integration
@pytest.mark.usefixtures("clean_state")
async def test_closing_a_provider_cancels_its_issued_vouchers(world):
    """A closed shop cannot honour a voucher: every issued one is cancelled (and a paid one
    refunded) through the vouchers' own path, a redeemed one stays as it was."""
    holder = await member(world)
    kept = await vouchers.claim(holder, world.offers["public"])
    used = await vouchers.claim(await member(world, "haidian"), world.offers["public"])
    await vouchers.redeem(await staff_principal(world), used.code)
    provider_id = world.providers["chaoyang"]["id"]
    await events("provider.closed")
    await providers.decide(await operator(world, "chaoyang"), provider_id, "close", "门店已停业")
    ((event_id, payload),) = await events("provider.closed")
    assert await voucher_actors.on_provider_closed(event_id, payload) == 1
    async with engine().transaction() as transaction:
        statuses = dict(
            await transaction.connection.fetch(
                "SELECT code, status FROM voucher WHERE code = ANY($1::text[])", [kept.code, used.code]
            )
        )
    assert statuses == {kept.code: "cancelled", used.code: "redeemed"}


@pytest.mark.integration
@pytest.mark.usefixtures("clean_state")
async def test_closing_a_provider_refunds_every_unused_balance_and_tells_the_members(world):
    offer_id = await prepaid_offer(world, sessions=3)
    buyer = await member(world)
    used = await buy(buyer, offer_id)
    unused = await buy(buyer, offer_id)
    await vouchers.redeem(await staff_principal(world), used["code"])
    provider_id = world.providers["chaoyang"]["id"]
    await events("provider.closed")
    with pytest.raises(Exception) as refused:  # a closure needs its reason
        await providers.decide(await operator(world, "chaoyang"), provider_id, "close", "")
    assert getattr(refused.value, "field", None) == "reason"
    assert await providers.decide(await operator(world, "chaoyang"), provider_id, "close", "门店已停业") == "closed"

    assert await closed_and_heard(provider_id) == 2
    left = SHARE - escrow.part(SHARE, 3, 1)
    assert await stripe_refunded(used["payment"]) == left
    assert await stripe_refunded(unused["payment"]) == SHARE
    for package in (used, unused):
        row = await ledger(package["id"])
        assert balanced(row) and row["status"] == "refunded"
    async with engine().transaction() as transaction:
        told = await transaction.connection.fetch(
            "SELECT kind, link FROM notification WHERE member = $1 AND kind LIKE 'prepaid_refunded_%' ORDER BY id",
            buyer.id,
        )
        reasons = await transaction.connection.fetch("SELECT DISTINCT reason FROM prepaid_refund")
    assert [(row["kind"], row["link"]) for row in told] == [("prepaid_refunded_closed", "/packages")] * 2
    assert [row["reason"] for row in reasons] == ["closed"]
    # The event delivered again refunds nothing more.
    assert await actors.on_provider_closed(0, {"provider_id": provider_id}) == 0
    assert await stripe_refunded(used["payment"]) == left
    assert await services.reconcile() == {}


@pytest.mark.browser
@pytest.mark.usefixtures("clean_state")
async def test_an_operator_closes_the_shop_and_the_member_reads_the_refund(
    browser, live_server, phone_page, world, shots
):
    offer_id = await prepaid_offer(world, sessions=3)
    package = await buy(await member(world, "chaoyang"), offer_id)
    await vouchers.redeem(await staff_principal(world), package["code"])
    provider_id = world.providers["chaoyang"]["id"]
    await events("provider.closed")

    context = await _context(browser, live_server, CONSOLE)
    console = await context.new_page()
    _watch(console)
    try:
        await console.goto("/console/login")
        await sign_in(console, world.operators["chaoyang"], PASSWORD)
        await console.goto(f"/console/providers/{provider_id}")
        await console.fill("#reason", "门店已停业，场地退租")
        async with console.expect_navigation():
            await console.click("[data-testid=decide-close]")
        # Closing cannot be undone: asked once more, and nothing changed until then.
        await expect(console.locator("[data-testid=confirm]")).to_contain_text("门店已停业，场地退租")
        await expect(console.locator("[data-testid=provider-status]").first).not_to_contain_text("已关闭")
        await shots.take(console, "provider-close-confirm")
        assert await events("provider.closed") == []
        async with console.expect_navigation():
            await console.click("[data-testid=confirm-yes]")
        await expect(console.locator("[data-testid=provider-status]").first).to_contain_text("已关闭")
        await shots.take(console, "provider-closed")
    finally:
        await context.close()
    assert await closed_and_heard(provider_id) == 1

    phone = phone_page
    await phone.goto("/login")
    await sign_in(phone, world.members["chaoyang"][1], PASSWORD)
    await phone.goto("/packages")
    refund = money.yuan(SHARE - escrow.part(SHARE, 3, 1))
    await expect(phone.locator("[data-testid=package-refunded]")).to_contain_text(refund)
    await expect(phone.locator("[data-testid=package-refunded]")).to_contain_text("停业")
    await expect(phone.locator("[data-testid=sessions-used]")).to_have_text("1")
    await phone.click("[data-testid=package] summary")
    await shots.take(phone, "package-refunded-on-closure")
    await phone.goto("/messages")
    await expect(phone.locator("body")).to_contain_text("停业")
    await shots.take(phone, "inbox-closure-refund")
