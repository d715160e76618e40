"""The console's queues with bulk actions (settlements, complaints, held ratings), the
scorecard ranking, and the owner's offer form with a subsidy the union sets, in a real
browser at each audience's size, in Chinese and in English. Screenshots under
tests/artifacts/screenshots/ for people to look at."""

import pytest
from playwright.async_api import expect

from tests.browser.conftest import PAGE_TIMEOUT_MS, _watch
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD
from tests.test_page_language import _seed

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]

DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


async def _page(browser, live_server, viewport, english=False):
    context = await browser.new_context(
        base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    if english:
        await context.add_cookies([{"name": "lang", "value": "en", "url": live_server}])
    page = await context.new_page()
    _watch(page)
    return context, page


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
async def test_console_queues_with_bulk_actions(browser, live_server, world, shots, english):
    await _seed(world)
    context, page = await _page(browser, live_server, DESK, english)
    try:
        await page.goto("/console/login")
        await sign_in(page, world.operators["chaoyang"], PASSWORD)
        await page.goto("/console/settlements")
        await expect(page.locator("[data-testid=statement-row]")).to_have_count(1)
        await shots.take(page, "settlements")
        await page.locator("[data-testid=row-check]").first.check()
        await page.fill("[data-testid=bulk-reason]", "十一月对账无误" if not english else "Checked against the ledger")
        await page.click("[data-testid=bulk-approve]")
        await expect(page.locator("[data-testid=confirm]")).to_be_visible()
        await shots.take(page, "settlements-confirm")

        await page.goto("/console/complaints")
        await expect(page.locator("[data-testid=bulk-bar]")).to_be_visible()
        await page.locator("[data-testid=check-all]").check()
        await shots.take(page, "complaints")
        await page.fill("[data-testid=bulk-reason]", "已与商户核实" if not english else "Checked with the provider")
        await page.click("[data-testid=bulk-close]")
        await expect(page.locator("[data-testid=confirm]")).to_be_visible()
        await shots.take(page, "complaints-confirm")

        await page.goto("/console/cases#held")
        await expect(page.locator("[data-testid=held-rating]")).to_have_count(1)
        await shots.take(page, "cases-held")

        await page.goto("/console/scorecards")
        await expect(page.locator("[data-testid=list-tools]")).to_be_visible()
        await shots.take(page, "scorecards")
        assert not page.problems, page.problems
    finally:
        await context.close()


@pytest.mark.parametrize(
    ("viewport", "english"), [(DESK, False), (PHONE, False), (DESK, True)], ids=["desk-zh", "phone-zh", "desk-en"]
)
async def test_offer_form_shows_the_unions_subsidy_read_only(browser, live_server, world, shots, viewport, english):
    await _seed(world)  # a running campaign pays the subsidy of the world's "public" offer
    context, page = await _page(browser, live_server, viewport, english)
    try:
        await page.goto("/provider/login")
        await sign_in(page, world.providers["chaoyang"]["owner"], PASSWORD)
        await page.goto(f"/provider/offers/{world.offers['public']}")
        field = page.locator("#subsidy_fen")
        await expect(field).to_have_attribute("readonly", "")
        await field.scroll_into_view_if_needed()
        await expect(page.locator("text=冬季健身补贴").first).to_be_visible()
        await shots.take(page, "offer-form")
        assert not page.problems, page.problems
    finally:
        await context.close()
