"""An operator funds a campaign with two unions (1440x900): rows of union, part and budget,
a confirmation naming what each union commits, the detail page with each share's budget,
spent and left; a member claims on a phone (390x844); the report shows both unions' parts,
exact to the fen. Screenshots in tests/artifacts/screenshots/."""

import re

import pytest
from playwright.async_api import expect

from catalog.tables import Offer
from tests.browser.conftest import _context, _watch
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]
CONSOLE = {"viewport": {"width": 1440, "height": 900}}


async def test_an_operator_funds_a_campaign_with_two_unions(browser, live_server, world, phone_page, shots):
    offer_id = world.offers["public"]
    category = (await Offer.select(Offer.category).where(Offer.id == offer_id).first())["category"]
    await Offer.update({Offer.subsidy_fen: 1001}).where(Offer.id == offer_id)  # ¥10.01: 60/40 is 6.01 + 4.00
    context = await _context(browser, live_server, CONSOLE)
    page = await context.new_page()
    _watch(page)
    try:
        await page.goto("/console/login")
        await sign_in(page, world.operators["beijing"], PASSWORD)
        await page.goto("/console/campaigns")
        form = page.locator("[data-testid=campaign-form]")
        await form.locator("#node_id").select_option(str(world.nodes["cy_union"]))
        await page.fill("#name_zh", "快递小哥暖心补贴")
        await form.locator("#share_node_0").select_option(str(world.nodes["beijing"]))
        await page.fill("#share_value_0", "60")
        await page.fill("#share_budget_0", "1000")
        assert await form.locator(f"#share_node_1 option[value='{world.nodes['hebei']}']").count() == 0  # not in scope
        await form.locator("#share_node_1").select_option(str(world.nodes["chaoyang"]))
        await page.fill("#share_value_1", "40")
        await page.fill("#share_budget_1", "500")
        await page.fill("#cap_yuan", "50")
        await form.locator(f"input[name=category_ids][value='{category}']").check()
        await form.locator("input[name=policy][value=cover]").check()
        await form.locator("#share_node_1").scroll_into_view_if_needed()
        await shots.take(page, "funding-form")
        # Haidian pays for none of the couriers' union: refused beside the second union, in Chinese.
        await form.locator("#share_node_1").select_option(str(world.nodes["haidian"]))
        async with page.expect_navigation():
            await form.locator("button[type=submit]").click()
        refused = page.locator("#share_node_1 ~ [data-testid=field-error]")
        await expect(refused).to_contain_text("上级工会")
        # The alert above the form points to that field, not to the union served (both are `node_id`s).
        await expect(page.locator("[data-testid=form-error]")).not_to_contain_text("服务的工会")
        await expect(page.locator("#share_value_1")).to_have_value("40")
        await page.locator("#share_node_1").scroll_into_view_if_needed()
        await shots.take(page, "funding-refused")

        await page.locator("#share_node_1").select_option(str(world.nodes["chaoyang"]))
        async with page.expect_navigation():
            await page.locator("[data-testid=campaign-form] button[type=submit]").click()
        confirm = page.locator("[data-testid=confirm]")
        await expect(confirm).to_contain_text("北京市总工会 承担每次补贴的 60 %，预算 ¥1000。")
        await expect(confirm).to_contain_text("朝阳区总工会 承担每次补贴的 40 %，预算 ¥500。")
        await expect(confirm).to_contain_text("由其他出资工会补足")
        await shots.take(page, "funding-confirm")
        async with page.expect_navigation():
            await page.click("[data-testid=confirm-yes]")
        await expect(page.locator("[data-testid=campaign-done]")).to_be_visible()
        await expect(page.locator("[data-testid=campaign-share]")).to_have_count(2)
        await shots.take(page, "funding-created")
        campaign_url = page.url.split("?")[0]

        member = phone_page
        await member.goto("/login")
        await sign_in(member, world.members["chaoyang"][1], PASSWORD)
        await member.goto(f"/offers/{offer_id}")
        async with member.expect_navigation():
            await member.click("[data-testid=claim]")
        await expect(member).to_have_url(re.compile(r"/vouchers/\d+(\?done=\w+)?$"))
        await shots.take(member, "funding-member-voucher")

        await page.goto(campaign_url)
        shares = page.locator("[data-testid=campaign-share]")
        await expect(shares.nth(0).locator("[data-testid=share-spent]")).to_have_text("¥6.01")
        await expect(shares.nth(1).locator("[data-testid=share-spent]")).to_have_text("¥4")
        await expect(shares.nth(1).locator("[data-testid=share-remaining]")).to_have_text("¥496")
        await page.locator("[data-testid=campaign-shares]").scroll_into_view_if_needed()
        await shots.take(page, "funding-shares-spent")

        await page.goto("/console/reports")
        section = page.locator("[data-testid=section-funding]")
        rows = section.locator("[data-testid=table-funding] tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.nth(0)).to_contain_text("北京市总工会")
        await expect(rows.nth(0)).to_contain_text("6.01")
        await expect(rows.nth(1)).to_contain_text("朝阳区总工会")
        await expect(rows.nth(1)).to_contain_text("4.00")
        await section.scroll_into_view_if_needed()
        await shots.take(page, "funding-report")
    finally:
        await context.close()
    assert not page.problems, page.problems
