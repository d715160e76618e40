"""Prepaid Guard in a real browser: a member buys a class package on a phone (390x844),
reading its terms before paying, pays with the stand-in's test card; the cashier uses two
sessions at the counter; the provider is delisted; the member finds the refund of the
unused session in 我的套餐 and in Messages; the operator reads the escrow per provider and
the refund made (1440x900). Screenshots in tests/artifacts/screenshots/."""

import re

import pytest
from playwright.async_api import expect

from marketplace.core import money
from marketplace.prepaid import escrow
from tests.browser.conftest import PHONE, _context, _watch
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD
from tests.journeys.test_member_journeys import fill_card
from tests.prepaid.helpers import SHARE, SUBSIDY, delist, prepaid_offer

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]
CONSOLE = {"viewport": {"width": 1440, "height": 900}}


async def test_a_member_buys_a_package_uses_two_sessions_and_gets_the_rest_back_on_delisting(
    browser, live_server, phone_page, world, shots
):
    offer_id = await prepaid_offer(world, sessions=3)
    member = phone_page
    await member.goto("/login")
    await sign_in(member, world.members["chaoyang"][1], PASSWORD)
    await member.goto(f"/offers/{offer_id}")
    await expect(member.locator("[data-testid=package-size]")).to_contain_text("3 次课")
    await shots.take(member, "offer")
    await member.click("[data-testid=claim]")
    await expect(member.locator("[data-testid=prepaid-terms]")).to_contain_text("7天内未使用可全额退款")
    await shots.take(member, "terms-before-paying")
    async with member.expect_navigation():
        await member.click("[data-testid=prepaid-confirm-button]")
    await expect(member).to_have_url(re.compile(r"/payments/\d+$"))
    await fill_card(member, "4242 4242 4242 4242")
    await member.click("[data-testid=pay]")
    await member.wait_for_selector("[data-testid=payment-success]")
    await shots.take(member, "paid")

    await member.goto("/packages")
    await expect(member.locator("[data-testid=sessions-left]")).to_have_text("3")
    await expect(member.locator("[data-testid=take-back]")).to_be_visible()
    await shots.take(member, "my-packages")
    code = (await member.locator("[data-testid=package-voucher]").get_attribute("href")) or ""
    voucher_id = int(code.rsplit("/", 1)[-1])

    # The cashier, on the shop's phone, types the member's code twice.
    from marketplace.vouchers.tables import Voucher

    voucher_code = (await Voucher.select(Voucher.code).where(Voucher.id == voucher_id).first())["code"]
    desk_context = await _context(browser, live_server, PHONE)
    desk = await desk_context.new_page()
    _watch(desk)
    try:
        await desk.goto("/provider/login")
        await sign_in(desk, world.providers["chaoyang"]["staff"], PASSWORD)
        for session in (1, 2):
            await desk.goto("/provider/counter")
            await desk.fill("[data-testid=counter-code]", voucher_code)
            async with desk.expect_navigation():
                await desk.click("[data-testid=counter-check]")
            async with desk.expect_navigation():
                await desk.click("[data-testid=counter-redeem]")
            await expect(desk.locator("[data-testid=counter-session]")).to_contain_text(f"第 {session} 次")
        await shots.take(desk, "counter-second-session")
    finally:
        await desk_context.close()

    # The owner reads 预付资金: what is held, what reached the shop, what comes next.
    owner_context = await _context(browser, live_server, PHONE)
    owner = await owner_context.new_page()
    _watch(owner)
    try:
        await owner.goto("/provider/login")
        await sign_in(owner, world.providers["chaoyang"]["owner"], PASSWORD)
        await owner.goto("/provider/prepaid")
        released = (
            escrow.part(SHARE, 3, 1)
            + escrow.part(SHARE, 3, 2)
            + escrow.part(SUBSIDY, 3, 1)
            + escrow.part(SUBSIDY, 3, 2)
        )
        await expect(owner.locator("[data-testid=released-total]")).to_have_text(money.yuan(released))
        await expect(owner.locator("[data-testid=prepaid-packages]")).to_contain_text("1 次课")
        await shots.take(owner, "provider-funds")
    finally:
        await owner_context.close()

    assert await delist(world.providers["chaoyang"]["id"]) == 1
    refund = money.yuan(escrow.part(SHARE, 3, 3))
    await member.goto("/packages")
    await expect(member.locator("[data-testid=package-refunded]")).to_contain_text(refund)
    await expect(member.locator("[data-testid=package-refunded]")).to_contain_text("商家已被下架")
    await member.click("[data-testid=package] summary")
    await expect(member.locator("[data-testid=package-entry]")).to_have_count(4)  # paid, two sessions, refund
    await shots.take(member, "refunded")
    await member.goto("/messages")
    await expect(member.locator("body")).to_contain_text("您的套餐已退款")
    await expect(member.locator("body")).to_contain_text("商家已被下架")
    await expect(member.locator("body")).not_to_contain_text("delisted")
    await shots.take(member, "inbox")

    context = await _context(browser, live_server, CONSOLE)
    console = await context.new_page()
    _watch(console)
    try:
        await console.goto("/console/login")
        await sign_in(console, world.operators["beijing"], PASSWORD)
        await console.goto("/console/prepaid")
        await expect(console.locator("[data-testid=escrow-provider-row]")).to_have_count(1)
        await expect(console.locator("[data-testid=escrow-refund-row]").first).to_contain_text(refund)
        await expect(console.locator("[data-testid=cell-left]").first).to_have_text("¥0")
        await shots.take(console, "console-escrow")
    finally:
        await context.close()
