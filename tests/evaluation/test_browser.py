"""The scorecard charts render in a real browser: the console's trend line, category
distribution and complaint bars, and the provider's own trend charts (screenshots of each
page under tests/artifacts/screenshots/)."""

from datetime import date

import pytest
from playwright.async_api import Page, expect

from evaluation.scorecards import services as scorecards
from tests.browser.test_login import sign_in
from tests.evaluation.conftest import NOW, execute
from tests.factories import PASSWORD, add_provider

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]


@pytest.fixture
async def history(world, signals) -> dict:
    """Five months of ratings and complaints for three providers in two categories."""
    a, b = world.providers["chaoyang"]["id"], world.providers["haidian"]["id"]
    c = (await add_provider(world.nodes["chaoyang"], "老北京炸酱面", "91110105MA01XYZ93K"))["id"]
    await execute("UPDATE location SET district = '海淀区' WHERE provider = $1", b)
    for months_ago, (ga, gb, gc) in enumerate([(5, 4, 3), (4, 5, 4), (3, 5, 4), (4, 4, 2), (5, 5, 3)]):
        days = 3 + 30 * months_ago
        for i in range(4):
            await signals.rating(a, max(1, ga - i % 2), days_ago=days + i, honoured=i != 3)
            await signals.rating(b, gb, days_ago=days + i)
            await signals.rating(c, gc, days_ago=days + i, category="dining")
        await signals.complaint(a, days_ago=days, answer_after_hours=10)
        if months_ago % 2:
            await signals.complaint(c, days_ago=days)
    for month in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)):
        await scorecards.snapshot_month(month)
    await scorecards.recompute_all(NOW)
    return {"a": a, "b": b, "c": c}


async def _chart_drawn(page: Page, testid: str, shape: str) -> int:
    figure = page.locator(f"[data-testid={testid}]")
    await expect(figure.locator("svg.chart-svg")).to_be_visible()
    count = await figure.locator(f"svg {shape}").count()
    assert count > 0, (testid, shape)
    label = await figure.locator("svg.chart-svg").get_attribute("aria-label")
    assert label and label.strip(), testid
    return count


async def test_the_console_and_provider_scorecards_draw_their_charts(
    desktop_page: Page, browser, live_server, world, history, shots
):
    page = desktop_page
    await page.goto("/console/login")
    await sign_in(page, world.operators["beijing"], PASSWORD)
    await page.goto("/console/scorecards")
    await expect(page.locator("h1")).to_have_text("服务评分")
    assert await _chart_drawn(page, "chart-trend", "path.chart-line") == 1
    assert await _chart_drawn(page, "chart-trend", "circle.chart-dot") == 5  # four months and the current window
    assert await _chart_drawn(page, "chart-distribution", "rect.chart-bar") >= 2  # two categories
    assert await _chart_drawn(page, "chart-category-complaints", "rect.chart-bar") == 2
    await expect(page.locator("[data-testid=scorecard-row]")).to_have_count(3)
    await shots.take(page, "console-scorecards")

    await page.select_option("select[name=district]", "海淀区")
    async with page.expect_navigation():
        await page.click("[data-testid=list-apply]")
    await expect(page.locator("[data-testid=scorecard-row]")).to_have_count(1)
    await page.click("[data-testid=scorecard-row] a")
    await expect(page.locator("h1")).to_have_text("中关村体检中心")
    assert await _chart_drawn(page, "chart-satisfaction", "path.chart-line") == 2  # fair score and plain mean
    await shots.take(page, "console-provider-card")

    # The owner of Chaoyang's gym, in a context of its own.
    context = await browser.new_context(
        base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 800}
    )
    owner = await context.new_page()
    errors: list[str] = []
    owner.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await owner.goto("/provider/login")
        await sign_in(owner, world.providers["chaoyang"]["owner"], PASSWORD)
        await owner.goto("/provider/scorecard")
        await expect(owner.locator("[data-testid=fig-satisfaction]")).to_contain_text("条评价")
        assert await _chart_drawn(owner, "chart-satisfaction", "circle.chart-dot") >= 8
        assert await _chart_drawn(owner, "chart-complaints", "rect.chart-bar") == 5
        # The numbers are there without the drawing too.
        await owner.click("[data-testid=chart-complaints] summary")
        await expect(owner.locator("[data-testid=chart-complaints] table tbody tr")).to_have_count(5)
        await shots.take(owner, "provider-scorecard")
        await owner.set_viewport_size({"width": 390, "height": 844})
        await owner.reload()
        assert await _chart_drawn(owner, "chart-satisfaction", "path.chart-line") == 2
        await shots.take(owner, "provider-scorecard-phone")
    finally:
        await context.close()
    assert not errors, errors
