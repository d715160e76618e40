"""The console pages of separation of duties, in a real browser at 1440x900: a proposed
payout account waiting on 待审批, approved by a second operator; a points adjustment over
the threshold; evaluator keys issued once. Screenshots in tests/artifacts/screenshots/."""

import pytest
from playwright.async_api import expect

from providers.settlements import services as settlements
from tests.browser.conftest import _context, _watch
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD
from tests.settlements.helpers import operator_principal

pytestmark = pytest.mark.browser
CONSOLE = {"viewport": {"width": 1440, "height": 900}}


async def test_a_second_operator_approves_money_changes_and_keys_are_shown_once(browser, live_server, world, shots):
    from marketplace.points import services as points

    beijing = await operator_principal(world, "beijing")
    await settlements.set_payout_account(beijing, world.providers["chaoyang"]["id"], "acct_1Nv0FGQ9RKHgCVdK")
    await points.adjust(beijing, world.members["chaoyang"][0], 20_000, "年度先进个人奖励")

    context = await _context(browser, live_server, CONSOLE)
    page = await context.new_page()
    _watch(page)
    try:
        await page.goto("/console/login")
        await sign_in(page, world.operators["beijing"], PASSWORD)
        await page.goto("/console/approvals")
        await expect(page.locator("h1")).to_have_text("待审批")
        await expect(page.locator("[data-testid=own-proposal]")).to_have_count(2)
        await shots.take(page, "approvals-own")

        await page.goto("/console/evaluators")
        await expect(page.locator("h1")).to_have_text("评估机构密钥")
        async with page.expect_navigation():
            await page.click("[data-testid=issue-key]")
        await expect(page.locator("[data-testid=new-key]")).to_contain_text("ek_")
        await shots.take(page, "evaluator-key-issued")

        await context.clear_cookies()
        await page.goto("/console/login")
        await sign_in(page, world.operators["chaoyang"], PASSWORD)
        await page.goto("/console/approvals")
        await expect(page.locator("[data-testid=approval-row]")).to_have_count(2)
        await expect(page.locator("main")).to_contain_text("力美健健身(望京店) 的收款账户")
        await expect(page.locator("main")).to_contain_text("+20,000 积分")
        await shots.take(page, "approvals-second-operator")
        async with page.expect_navigation():
            await page.locator("[data-testid=approve]").first.click()
        await expect(page.locator("[data-testid=approval-row]")).to_have_count(1)
        await shots.take(page, "approvals-one-approved")
    finally:
        await context.close()
    assert not page.problems, page.problems
