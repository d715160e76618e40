"""Temporary (not committed): screenshots of the pages whose modules moved (layout lane)."""
import pytest
from playwright.async_api import Page, expect

from tests.browser.test_login import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]


async def test_moved_pages(desktop_page: Page, browser, live_server, world, shots):
    page = desktop_page
    await page.goto("/console/login")
    await sign_in(page, world.operators["beijing"], PASSWORD)
    for path in ("/console/complaints", "/console/cases", "/console/roster", "/console/settlements",
                 "/console/scorecards", "/console/evaluators"):
        response = await page.goto(path)
        assert response.status == 200, path
        await expect(page.locator("h1")).to_be_visible()
        await shots.take(page, path.strip("/").replace("/", "-"))
    context = await browser.new_context(base_url=live_server, viewport={"width": 1440, "height": 900})
    provider = await context.new_page()
    await provider.goto("/provider/login")
    await sign_in(provider, world.providers["chaoyang"]["owner"], PASSWORD)
    for path in ("/provider/complaints", "/provider/standing", "/provider/settlements", "/provider/reviews"):
        response = await provider.goto(path)
        assert response.status == 200, path
        await shots.take(provider, path.strip("/").replace("/", "-"))
    await context.close()
