"""The console cases page with more held ratings than fit one page, and pages whose lists are
empty (a case's history, a member's reveals, a provider's standing) saying so in a sentence,
in a real browser at the operator's and the owner's desk size (1440x900).
Screenshots under tests/artifacts/screenshots/ for people to look at."""

import json

import pytest
from playwright.async_api import expect

from evaluation.tables import EnforcementCase
from tests.browser.conftest import PAGE_TIMEOUT_MS, SCREENSHOTS, _watch
from tests.browser.test_login import sign_in
from tests.console.test_cases_console import _held_ratings
from tests.factories import PASSWORD, now

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]


async def test_held_ratings_turn_their_own_pages_and_an_empty_history_reads_as_a_sentence(
    browser, live_server, world, shots
):
    await _held_ratings(world, 53)
    case_id = (
        await EnforcementCase.insert(
            EnforcementCase(
                provider=world.providers["chaoyang"]["id"],
                kind="delisting",
                status="open",
                figures=json.dumps({}),
                opened_at=now(),
                reasons=json.dumps([{"code": "manual", "text": "多名会员反映门店拒绝使用优惠券。"}]),
            )
        ).returning(EnforcementCase.id)
    )[0]["id"]
    context = await browser.new_context(
        base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1440, "height": 900}
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = await context.new_page()
    _watch(page)
    try:
        await page.goto("/console/login")
        await sign_in(page, world.operators["chaoyang"], PASSWORD)
        await page.goto("/console/cases#held")
        await expect(page.locator("[data-testid=held-rating]")).to_have_count(50)
        await expect(page.locator("[data-testid=held-count]")).to_have_text("53")
        # Fifty ratings make a very tall page: the shot is the first screen of the held panel.
        await page.evaluate("document.getElementById('held').scrollIntoView()")
        shots.count += 1
        await page.screenshot(path=str(SCREENSHOTS / f"{shots.prefix}-{shots.count:02d}-cases-held.png"))
        held = page.locator("#held")
        await held.locator("[data-testid=pager-next]").click()
        await expect(page.locator("[data-testid=held-rating]")).to_have_count(3)
        await expect(page).to_have_url(f"{live_server}/console/cases?held_page=2#held")
        await shots.take(page, "cases-held-page-2")
        await page.goto(f"/console/cases/{case_id}")
        await expect(page.locator("[data-testid=case-history-empty]")).to_be_visible()
        await shots.take(page, "case-empty-history")
        # The same pattern elsewhere: a member nobody has looked up, a provider whose standing never moved.
        await page.goto(f"/console/members/{world.members['chaoyang'][0]}")
        await expect(page.locator("[data-testid=reveals-empty]")).to_be_visible()
        await shots.take(page, "member-no-reveals")
        await page.context.clear_cookies()
        await page.goto("/provider/login")
        await sign_in(page, world.providers["chaoyang"]["owner"], PASSWORD)
        await page.goto("/provider/standing")
        await expect(page.locator("[data-testid=standing-history-empty]")).to_be_visible()
        await shots.take(page, "standing-no-history")
        assert not page.problems, page.problems
    finally:
        await context.close()
