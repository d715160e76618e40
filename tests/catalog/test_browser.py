"""The owner creates and submits an offer in the portal; an operator approves it in the
console. Screenshots of every page go to tests/artifacts/screenshots/."""

import re
from datetime import datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]


async def _open(page: Page, path: str) -> None:
    """Go to a page and let its favicon and scripts finish, so leaving it aborts nothing."""
    await page.goto(path)
    await page.wait_for_load_state("networkidle")


async def _sign_in(page: Page, area: str, username: str) -> None:
    await _open(page, f"/{area}/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation():
        await page.click("[data-testid=login-submit]")


async def test_owner_lists_an_offer_and_an_operator_approves_it(desktop_page: Page, world, shots):
    page = desktop_page
    await _sign_in(page, "provider", world.providers["chaoyang"]["owner"])
    await _open(page, "/provider/offers")
    await expect(page.locator("[data-testid=offer-row]")).to_have_count(3)
    await shots.take(page, "offer-list")
    async with page.expect_navigation():
        await page.click("[data-testid=new-offer]")
    await shots.take(page, "new-offer")

    today = datetime.now()
    await page.select_option("#kind", "paid")
    await page.fill("#title_zh", "游泳月卡职工专享")
    await page.fill("#description_zh", "恒温泳池，月卡不限次数")
    await page.fill("#list_price_fen", "300")
    await page.fill("#member_price_fen", "400")  # above the list price: refused, naming the field
    await page.fill("#stock_total", "100")
    await page.fill("#per_member_limit", "1")
    await page.fill("#valid_from", today.strftime("%Y-%m-%d"))
    await page.fill("#valid_to", (today + timedelta(days=60)).strftime("%Y-%m-%d"))
    await page.check("input[name=location_ids]")
    async with page.expect_navigation():
        await page.click("[data-testid=save-offer]")
    await expect(page.locator("[data-testid=form-error]")).to_be_visible()
    await expect(page.locator("#member_price_fen-error")).to_contain_text("会员价")  # at the field, in Chinese
    await expect(page.locator("#member_price_fen")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#title_zh")).to_have_value("游泳月卡职工专享")
    await shots.take(page, "member-price-too-high")

    await page.fill("#member_price_fen", "199.9")
    async with page.expect_navigation():
        await page.click("[data-testid=save-offer]")
    await expect(page).to_have_url(re.compile(r"/provider/offers/\d+\?done=saved$"))
    await expect(page.locator("[data-testid=offer-status]")).to_have_text("草稿")
    await expect(page.locator("[data-testid=offer-done]")).to_have_text("已保存。")
    await shots.take(page, "draft")
    async with page.expect_navigation():
        await page.click("[data-testid=submit-offer]")
    await expect(page.locator("[data-testid=offer-status]")).to_have_text("审核中")
    await shots.take(page, "submitted")

    await _sign_in(page, "console", world.operators["chaoyang"])
    await _open(page, "/console/listings")
    row = page.locator("[data-testid=review-row]", has_text="游泳月卡职工专享")
    await expect(row).to_have_count(1)
    await shots.take(page, "review-queue")
    async with page.expect_navigation():
        await row.locator("a").click()
    await shots.take(page, "review-detail")
    async with page.expect_navigation():
        await page.click("[data-testid=approve]")
    await expect(page.locator("[data-testid=queue-empty]")).to_be_visible()
    await shots.take(page, "queue-empty")

    await _sign_in(page, "provider", world.providers["chaoyang"]["owner"])
    await _open(page, "/provider/offers")
    row = page.locator("[data-testid=offer-row]", has_text="游泳月卡职工专享")
    await expect(row.locator(".status")).to_have_text("已上架")
    await shots.take(page, "published")
    await page.wait_for_load_state("networkidle")
