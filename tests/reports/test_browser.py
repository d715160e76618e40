"""The reports dashboard draws its charts in a real browser (screenshots under
tests/artifacts/screenshots/): usage over time, by union, category and group, subsidy
burn, searches with no result and coverage, each with a table and a CSV link."""

import pytest
from playwright.async_api import Page, expect

from marketplace.reports import services
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD
from tests.reports.test_reports import NOW, small, voucher  # noqa: F401  (the small world)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]


async def _drawn(page: Page, testid: str, shape: str) -> int:
    figure = page.locator(f"[data-testid={testid}]")
    await expect(figure.locator("svg.chart-svg")).to_be_visible()
    count = await figure.locator(f"svg {shape}").count()
    assert count > 0, (testid, shape)
    label = await figure.locator("svg.chart-svg").get_attribute("aria-label")
    assert label and label.strip(), testid
    return count


async def test_the_dashboard_draws_its_charts(desktop_page: Page, live_server, world, small, shots):
    page = desktop_page
    await services.refresh(NOW)
    await page.goto("/console/login")
    await sign_in(page, world.operators["beijing"], PASSWORD)
    await page.goto("/console/reports")
    await expect(page.locator("h1")).to_have_text("报表")
    assert await _drawn(page, "chart-daily", "path.chart-line") == 2  # claims and redemptions
    assert await _drawn(page, "chart-children", "rect.chart-bar") >= 2  # Chaoyang and Haidian
    assert await _drawn(page, "chart-categories", "rect.chart-bar") >= 2
    assert await _drawn(page, "chart-groups", "rect.chart-bar") >= 3  # women, gig, migrant
    assert await _drawn(page, "chart-burn", "path.chart-line") >= 1
    assert await _drawn(page, "chart-misses", "rect.chart-bar") == 2  # 朝阳区, 海淀区
    await expect(page.locator("[data-testid=table-misses] tbody tr")).to_have_count(3)
    assert await _drawn(page, "chart-coverage", "rect.chart-bar") >= 1
    await expect(page.locator("[data-testid=table-coverage] tr[data-flagged]")).to_have_count(1)  # Haidian
    await expect(page.locator("[data-testid=csv-daily]")).to_have_attribute(
        "href", f"/console/reports/export/daily?node={world.nodes['beijing']}"
    )
    await shots.take(page, "reports-beijing")

    # Down to Chaoyang through the table of unions below.
    await page.click("[data-testid=table-children] a >> text=朝阳区总工会")
    await expect(page.locator("[data-testid=report-scope] h2")).to_have_text("朝阳区总工会")
    assert await _drawn(page, "chart-daily", "path.chart-line") == 2
    await shots.take(page, "reports-chaoyang")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.reload()
    assert await _drawn(page, "chart-categories", "rect.chart-bar") >= 2
    await shots.take(page, "reports-chaoyang-phone")
