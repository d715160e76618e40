"""A member on a phone searches "健身" and opens an offer (screenshots of each step)."""

import asyncio
import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_login import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]


async def engine_answers(page: Page) -> None:
    """The live server's breaker may still be open after an earlier test left the engine
    failing (an index deleted between tests): its searches answer degraded until a probe
    succeeds, OPEN_SECONDS later. This journey is about the engine's answers: wait for one."""
    for _ in range(60):
        body = await (await page.request.get("/api/v1/search", params={"q": "健身"})).json()
        if not body.get("degraded"):
            return
        await asyncio.sleep(0.5)
    raise AssertionError("search stayed degraded for 30 s")


async def test_member_searches_and_opens_an_offer(phone_page: Page, world, offers, shots):
    page = phone_page
    await page.goto("/login")
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.locator("[data-testid=category-tile]").first).to_be_visible()
    await shots.take(page, "home")

    await engine_answers(page)
    await page.fill("[data-testid=home-search] input[name=q]", "健身")
    # A search page can take over the context's 10 s on a machine running two test workers.
    async with page.expect_navigation(timeout=30_000):
        await page.press("[data-testid=home-search] input[name=q]", "Enter", timeout=30_000)
    await expect(page).to_have_url(re.compile(r"/search\?q="))
    cards = page.locator("[data-testid=offer-card]")
    await expect(cards.first).to_be_visible()
    await expect(page.locator("main")).to_contain_text("健身月卡women")
    await expect(page.locator("main")).not_to_contain_text("健身月卡haidian_only")
    await expect(page.locator("[data-testid=facets]")).to_be_visible()
    await expect(cards.first.locator("mark").first).to_be_visible()
    await shots.take(page, "results")

    await page.locator("[data-testid=facet-category]").first.click()
    await expect(page).to_have_url(re.compile(r"category=fitness"))
    await shots.take(page, "results-fitness")

    async with page.expect_navigation():
        await cards.first.click()
    await expect(page).to_have_url(re.compile(r"/offers/\d+"))
    await expect(page.locator("[data-testid=offer-detail]")).to_be_visible()
    await expect(page.locator("[data-testid=stock-left]")).not_to_be_empty()
    await expect(page.locator("[data-testid=location]").first).to_be_visible()
    await shots.take(page, "offer")

    async with page.expect_navigation():
        await page.click("[data-testid=provider-link]")
    await expect(page.locator("[data-testid=provider-page]")).to_be_visible()
    await shots.take(page, "provider")
