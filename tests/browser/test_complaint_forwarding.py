"""Forwarding a complaint and filtering held ratings, in a real browser at the operator's desk
(1440x900): the city's operator forwards a complaint to the provider's district union with a
reason; the district's operator finds it on the to-do list, reads its history and closes it.
Screenshots under tests/artifacts/screenshots/ for people to look at."""

import pytest
from playwright.async_api import expect

from tests.browser.test_login import sign_in, sign_out
from tests.browser.test_queue_pages import DESK, _page
from tests.factories import PASSWORD
from tests.test_page_language import _seed

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]


async def test_a_complaint_is_forwarded_found_on_the_receivers_to_do_list_and_closed(
    browser, live_server, world, shots
):
    ids = await _seed(world)
    context, page = await _page(browser, live_server, DESK)
    try:
        await page.goto("/console/login")
        await sign_in(page, world.operators["beijing"], PASSWORD)
        await page.goto("/console/complaints")
        await page.click("[data-testid=complaint-link]")
        await expect(page.locator("[data-testid=forward-form]")).to_be_visible()
        await shots.take(page, "complaint-page")
        await page.check("[data-testid=forward-to-operator]")
        await page.select_option("[data-testid=forward-operator]", label="操作员op_chaoyang · 朝阳区总工会 · 管理员")
        await page.fill("#forward-reason", "属地工会先行调解，请联系商户核实")
        await page.click("[data-testid=forward]")
        await expect(page.locator("[data-testid=forward-done]")).to_contain_text("操作员op_chaoyang")
        await expect(page.locator("[data-testid=history-forwarded]")).to_contain_text("属地工会先行调解")
        await shots.take(page, "forwarded")
        # A reason of blanks passes the browser's length check and is refused at the field.
        await page.check("[data-testid=forward-to-operator]")
        await page.fill("#forward-reason", "   ")
        await page.click("[data-testid=forward]")
        await expect(page.locator("[data-testid=field-error]")).to_be_visible()
        await shots.take(page, "forward-refused")
        await sign_out(page)

        await page.goto("/console/login")
        await sign_in(page, world.operators["chaoyang"], PASSWORD)
        await page.goto("/console/")
        todo = page.locator("a[href='/console/complaints?forwarded=me']").first
        await expect(todo).to_be_visible()
        await shots.take(page, "receiver-todo")
        await todo.click()
        await expect(page.locator("[data-testid=complaint]")).to_have_count(1)
        await expect(page.locator("[data-testid=complaint-holder]")).to_contain_text("操作员op_chaoyang")
        await shots.take(page, "forwarded-to-me")
        await page.goto(f"/console/complaints/{ids['complaint_id']}")
        await page.fill("#resolution", "商户已退还多收的二十元")
        await page.click("[data-testid=close-form] button[type=submit]")
        await expect(page.locator("[data-testid=close-done]")).to_be_visible()
        await expect(page.locator("[data-testid=history-closed]")).to_contain_text("商户已退还多收的二十元")
        await shots.take(page, "closed-with-history")

        # Held ratings: their own search and filter on the enforcement page.
        await page.goto("/console/cases?held_reason=burst_new_accounts#held")
        await expect(page.locator("[data-testid=held-rating]")).to_have_count(0)
        await page.select_option("[data-testid=held-reason]", "burst_one_network")
        await page.click("[data-testid=held-apply]")
        await expect(page.locator("[data-testid=held-rating]")).to_have_count(1)
        await page.evaluate("document.getElementById('held').scrollIntoView()")
        await shots.take(page, "held-filtered")
        assert not page.problems, page.problems
    finally:
        await context.close()
