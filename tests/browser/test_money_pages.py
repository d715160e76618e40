"""Money that moved in Stripe after the fact, in a real browser: a refund after approval
carried to the next statement (console and provider portal at 1440x900), a statement left
owing back closed with nothing to pay and its balance carried on, the console's
disputes (list and detail), and what the member sees on a phone (a disputed voucher, a
partly refunded order). Screenshots in tests/artifacts/screenshots/."""

import pytest
from playwright.async_api import expect

from catalog.tables import Offer
from marketplace.core.identity import approvals
from marketplace.payments import services as payments
from providers.settlements import drafting as statements, services as settlements
from tests.browser.conftest import PHONE, _context, _watch
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD
from tests.payments.test_money_after_settlement import (
    ACCOUNT,
    SHARE,
    _bought,
    _periods,
    _redeemed_in,
    _refund_in_stripe,
    _statement,
)
from tests.payments.test_payments import paid_offer
from tests.settlements.helpers import operator_principal, set_account

pytestmark = pytest.mark.browser
DESK = {"viewport": {"width": 1440, "height": 900}}


async def test_corrections_disputes_and_partial_refunds_on_their_pages(browser, live_server, world, shots):
    offer_id = await paid_offer(world)
    await Offer.update({Offer.per_member_limit: 5}).where(Offer.id == offer_id)
    earlier, last = _periods()
    first = await _bought(world)
    await _redeemed_in(world, first, earlier)
    await statements.draft_month(earlier)
    await set_account(world, ACCOUNT)
    await settlements.approve(await operator_principal(world, "chaoyang"), await _statement(world, earlier))
    assert await payments.refunded_in_stripe(await _refund_in_stripe(first["payment_intent"])) == "refunded_after_use"
    second = await _bought(world, "haidian")
    await _redeemed_in(world, second, last)
    assert (
        await payments.refunded_in_stripe(await _refund_in_stripe(second["payment_intent"], 2000))
        == "partial_refund_recorded"
    )
    await statements.draft_month(last)
    disputed = await _bought(world)
    assert (
        await payments.disputed_in_stripe(
            {
                "id": "dp_1QxYz",
                "payment_intent": disputed["payment_intent"],
                "amount": SHARE,
                "reason": "product_not_received",
                "status": "needs_response",
            }
        )
        == "flagged"
    )

    context = await _context(browser, live_server, DESK)
    page = await context.new_page()
    _watch(page)
    try:
        await page.goto("/console/login")
        await sign_in(page, world.operators["chaoyang"], PASSWORD)
        await expect(page.locator("main")).to_contain_text("待处理的支付争议")
        await shots.take(page, "console-home-todo")
        await page.goto(f"/console/settlements/{await _statement(world, last)}")
        await expect(page.locator("[data-testid=statement-adjustment]")).to_have_count(1)
        await shots.take(page, "statement-with-correction")
        await page.goto(f"/console/settlements/{await _statement(world, earlier)}")
        await expect(page.locator("[data-testid=later-correction]")).to_have_count(1)
        await shots.take(page, "approved-statement-corrected-later")
        await page.goto("/console/disputes")
        await expect(page.locator("[data-testid=dispute-row]")).to_have_count(1)
        await shots.take(page, "disputes")
        await page.goto(f"/console/disputes/{disputed['id']}")
        await expect(page.locator("[data-testid=dispute-member]")).to_have_text("王*芳")
        await shots.take(page, "dispute")

        await context.clear_cookies()
        await page.goto("/provider/login")
        await sign_in(page, world.providers["chaoyang"]["owner"], PASSWORD)
        await page.goto(f"/provider/settlements/{await _statement(world, last)}")
        await expect(page.locator("[data-testid=statement-adjustment]")).to_have_count(1)
        await shots.take(page, "provider-statement-with-correction")
    finally:
        await context.close()
    assert not page.problems, page.problems

    phone = await _context(browser, live_server, PHONE)
    page = await phone.new_page()
    _watch(page)
    try:
        await page.goto("/login")
        await sign_in(page, world.members["chaoyang"][1], PASSWORD)
        await page.goto(f"/vouchers/{disputed['voucher']}")
        await expect(page.locator("[data-testid=voucher-disputed]")).to_be_visible()
        # Held while the bank decides: never shown as ready to use.
        await expect(page.locator("[data-testid=voucher-status]")).to_have_text("争议处理中")
        await shots.take(page, "member-disputed-voucher")
        await phone.clear_cookies()
        await page.goto("/login")
        await sign_in(page, world.members["haidian"][1], PASSWORD)
        await page.goto(f"/payments/{second['id']}")
        await expect(page.locator("[data-testid=refunded-amount]")).to_have_text("¥20")
        await shots.take(page, "member-order-partly-refunded")
    finally:
        await phone.close()
    assert not page.problems, page.problems


async def test_a_statement_owing_back_is_closed_and_its_balance_carried_on(browser, live_server, world, shots):
    await paid_offer(world)
    earlier, last = _periods()
    first_month = settlements.previous_period(settlements.period_bounds(earlier)[0])
    first = await _bought(world)
    await _redeemed_in(world, first, first_month)
    await statements.draft_month(first_month)
    await set_account(world, ACCOUNT)
    await settlements.approve(await operator_principal(world, "chaoyang"), await _statement(world, first_month))
    assert await payments.refunded_in_stripe(await _refund_in_stripe(first["payment_intent"])) == "refunded_after_use"
    await statements.draft_month(earlier)
    owing = await _statement(world, earlier)

    context = await _context(browser, live_server, DESK)
    page = await context.new_page()
    _watch(page)
    try:
        await page.goto("/console/login")
        await sign_in(page, world.operators["chaoyang"], PASSWORD)
        await page.goto(f"/console/settlements/{owing}")
        await expect(page.locator("[data-testid=nothing-to-pay]")).to_be_visible()
        await shots.take(page, "statement-owing-back")
        await page.locator("[data-testid=close]").click()
        await expect(page.locator("[data-testid=pending-close]")).to_be_visible()
        await shots.take(page, "close-proposed")
        await page.goto("/console/approvals")
        await expect(page.locator("[data-testid=own-proposal]")).to_have_count(1)
        await shots.take(page, "approvals")

        pending = await approvals.in_scope(await operator_principal(world, "beijing"))
        await approvals.decide(await operator_principal(world, "beijing"), pending[0]["id"], True)
        second = await _bought(world, "haidian")
        await _redeemed_in(world, second, last)
        await statements.draft_month(last)
        await page.goto(f"/console/settlements/{owing}")
        await expect(page.locator("[data-testid=later-correction]")).to_have_count(1)
        await shots.take(page, "statement-closed")
        await page.goto(f"/console/settlements/{await _statement(world, last)}")
        await expect(page.locator("[data-testid=statement-adjustment]")).to_have_count(1)
        await shots.take(page, "balance-carried")

        await context.clear_cookies()
        await page.goto("/provider/login")
        await sign_in(page, world.providers["chaoyang"]["owner"], PASSWORD)
        await page.goto(f"/provider/settlements/{owing}")
        await expect(page.locator("[data-testid=later-correction]")).to_have_count(1)
        await shots.take(page, "provider-statement-closed")
        await page.goto("/provider/settlements")
        await shots.take(page, "provider-statements")
    finally:
        await context.close()
    assert not page.problems, page.problems
