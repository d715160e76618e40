"""A member gets a voucher on a phone, free, for points or paid with Stripe.js, and
shows its QR code; the provider's front desk types the code, sees the masked member and
redeems it; the member answers "was the discount honoured?" (screenshots of each step)."""

import re

import pytest
from playwright.async_api import Page, expect

from catalog.tables import Offer
from marketplace.points import services as points
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD
from tests.points.test_ledger import give

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]


async def _claim_free(member: Page, world, shots) -> None:
    async with member.expect_navigation():
        await member.click("[data-testid=claim]")


async def _claim_for_points(member: Page, world, shots) -> None:
    await expect(member.locator("[data-testid=price-pay]")).to_have_text("300 积分 + ¥69")  # a cash part too
    await member.click("[data-testid=claim]")  # asks first, with the balance
    async with member.expect_navigation():
        await member.click("[data-testid=exchange-confirm-button]")
    assert await points.balance_of(world.members["chaoyang"][0]) == 200


async def _buy(member: Page, world, shots) -> None:
    async with member.expect_navigation():
        await member.click("[data-testid=claim]")
    await expect(member).to_have_url(re.compile(r"/payments/\d+$"))
    await expect(member.locator("[data-testid=price-pay]")).to_have_text("¥69")
    await shots.take(member, "payment")
    # The Stripe stand-in's test card form, as a member fills it: a card whose bank asks
    # for 3-D Secure (nothing is attached server-side).
    await member.fill("[data-testid=card-number]", "4000002760003184")
    await member.fill("[data-testid=card-expiry]", "12/30")
    await member.fill("[data-testid=card-cvc]", "123")
    await member.click("[data-testid=pay]")
    async with member.expect_navigation(url=re.compile(r"/payments/\d+$")):
        await member.click("[data-testid=three-d-secure-ok]")  # the bank's 3-D Secure step
    async with member.expect_navigation(url=re.compile(r"/vouchers/\d+$")):
        await member.click("[data-testid=show-voucher]")


KINDS = {"voucher": _claim_free, "points": _claim_for_points, "paid": _buy}


@pytest.mark.parametrize("kind", KINDS)
async def test_get_a_voucher_show_the_code_redeem_at_the_counter_and_answer(
    kind, phone_page: Page, new_phone_page, world, shots
):
    await Offer.update({Offer.kind: kind, Offer.points_price: 300 if kind == "points" else None}).where(
        Offer.id == world.offers["public"]
    )
    if kind == "points":
        await give(world.members["chaoyang"][0], 500, "campaign")
    member = phone_page
    await member.goto("/login")
    await sign_in(member, world.members["chaoyang"][1], PASSWORD)
    await member.goto(f"/offers/{world.offers['public']}")
    await KINDS[kind](member, world, shots)
    await expect(member).to_have_url(re.compile(r"/vouchers/\d+(\?done=\w+)?$"))
    qr = member.locator("[data-testid=voucher-qr] svg")
    await expect(qr).to_be_visible()
    assert (await qr.bounding_box())["width"] >= 250  # large enough to scan from a phone screen
    code = (await member.locator("[data-testid=voucher-code]").inner_text()).strip()
    await shots.take(member, "voucher-qr")

    desk = await new_phone_page()
    await desk.goto("/provider/login")
    await sign_in(desk, world.providers["chaoyang"]["staff"], PASSWORD)
    await desk.goto("/provider/counter")
    await desk.fill("[data-testid=counter-code]", code.lower().replace("-", " "))  # as typed at the counter
    async with desk.expect_navigation():
        await desk.click("[data-testid=counter-check]")
    await expect(desk.locator("[data-testid=counter-member]")).to_have_text("王*芳")
    await shots.take(desk, "counter-checked")
    async with desk.expect_navigation():
        await desk.click("[data-testid=counter-redeem]")
    await expect(desk.locator("[data-testid=counter-redeemed]")).to_be_visible()
    await shots.take(desk, "counter-redeemed")
    # Checking the same code again shows it used, with no redeem button.
    await desk.fill("[data-testid=counter-code]", code)
    async with desk.expect_navigation():
        await desk.click("[data-testid=counter-check]")
    await expect(desk.locator("[data-testid=counter-state]")).to_have_text("已使用")
    await expect(desk.locator("[data-testid=counter-redeem]")).to_have_count(0)

    await member.reload()
    await expect(member.locator("[data-testid=voucher-redeemed]")).to_be_visible()
    await shots.take(member, "voucher-used")
    async with member.expect_navigation():
        await member.click("[data-testid=honoured-yes]")
    await expect(member.locator("[data-testid=honoured-answer]")).to_be_visible()
    await member.goto("/vouchers?tab=used")
    await expect(member.locator("[data-testid=voucher-status]").first).to_have_text("已使用")
    await shots.take(member, "wallet")


async def test_a_sold_out_claim_says_why(phone_page: Page, world, shots):
    page = phone_page
    await page.goto("/login")
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    await page.goto(f"/offers/{world.offers['public']}")
    await Offer.update({Offer.stock_left: 0}).where(Offer.id == world.offers["public"])
    async with page.expect_navigation():
        await page.click("[data-testid=claim]")
    await expect(page.locator("[data-testid=claim-refused]")).to_contain_text("该优惠已领完")
    await shots.take(page, "sold-out")
