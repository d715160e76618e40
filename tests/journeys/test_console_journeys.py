"""The operator's working day in the console at 1440 × 900, a screenshot per step:
the to-do home, a queue filtered and bulk-rejected after a confirmation, member search,
a points grant's preview, a case decided after a confirmation, the policy preview and the
audit log."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import PAGE_TIMEOUT_MS, _watch
from tests.browser.test_login import sign_in
from tests.console.helpers import submitted_offers
from tests.factories import PASSWORD, add_member
from tests.test_page_language import _seed

pytestmark = pytest.mark.browser

WIDE = {"viewport": {"width": 1440, "height": 900}}


@pytest.fixture
async def console_page(browser, live_server) -> Page:
    context = await browser.new_context(base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai", **WIDE)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = await context.new_page()
    _watch(page)
    yield page
    await context.close()
    assert not page.problems, page.problems


async def test_operator_works_through_the_day(console_page: Page, world, shots):
    page = console_page
    ids = await _seed(world)
    await submitted_offers(world, 24, "chaoyang", title="瑜伽私教体验课")
    await submitted_offers(world, 6, "chaoyang", title="羽毛球场地")
    for serial in range(40, 52):
        await add_member(
            world.nodes["cy_union"],
            serial,
            name=f"陈{'静' if serial % 2 else '磊'}{serial}",
            groups=("women",) if serial % 3 == 0 else (),
        )

    # 1. The day starts from the to-do list, with badges in the menu.
    await page.goto("/console/login")
    await sign_in(page, world.operators["chaoyang"], PASSWORD)
    await expect(page).to_have_url(re.compile(r"/console/$"))
    todo = page.locator("[data-testid=todo]")
    await expect(todo.locator("[data-testid=todo-listings] [data-testid=todo-count]")).to_have_text("31")
    await expect(todo.locator("[data-testid=todo-cases] [data-testid=todo-count]")).to_have_text(re.compile(r"^[1-9]"))
    await expect(page.locator("[data-testid=nav-badge-listings]")).to_have_text("31")
    await shots.take(page, "todo-home")

    # 2. The listing queue: filtered by a search, three ticked, sent back with one reason after confirming.
    await todo.locator("[data-testid=todo-listings]").click()
    await expect(page.locator("[data-testid=review-row]")).to_have_count(31)
    await page.fill("[data-testid=list-search]", "羽毛球")
    async with page.expect_navigation():
        await page.click("[data-testid=list-apply]")
    await expect(page.locator("[data-testid=review-row]")).to_have_count(6)
    await shots.take(page, "queue-filtered")
    boxes = page.locator("[data-testid=row-check]")
    for i in range(3):
        await boxes.nth(i).check()
    await page.fill("[data-testid=bulk-reason]", "场地照片不清晰，请补充场馆实景图后重新提交。")
    async with page.expect_navigation():
        await page.click("[data-testid=bulk-reject]")
    confirm = page.locator("[data-testid=confirm]")
    await expect(confirm).to_contain_text("确定退回这 3 条上架申请？")
    await expect(confirm.locator("[data-testid=confirm-items] li")).to_have_count(3)
    await shots.take(page, "bulk-reject-confirm")
    async with page.expect_navigation():
        await page.click("[data-testid=confirm-yes]")
    await expect(page.locator("[data-testid=bulk-done]")).to_contain_text("已退回 3 条")
    await expect(page.locator("[data-testid=review-row]")).to_have_count(3)  # still the filtered list
    await expect(page.locator("[data-testid=list-search]")).to_have_value("羽毛球")
    await shots.take(page, "bulk-reject-done")

    # 3. Member search: by phone (matched by its keyed hash), shown masked; actions on the member's page.
    _member_id, phone = world.members["chaoyang"]
    await page.goto(f"/console/nodes/{world.nodes['chaoyang']}/members")
    # The world's member, the draw entrant of test_page_language's seed and the twelve above.
    await expect(page.locator("[data-testid=member]")).to_have_count(14)
    await page.fill("[data-testid=list-search]", phone)
    async with page.expect_navigation():
        await page.click("[data-testid=list-apply]")
    await expect(page.locator("[data-testid=member]")).to_have_count(1)
    await expect(page.locator("[data-testid=member]")).to_contain_text("王*芳")
    await shots.take(page, "member-search")
    async with page.expect_navigation():
        await page.click("[data-testid=member-card-link]")
    await expect(page.locator("[data-testid=transfer-form]")).to_be_visible()
    await shots.take(page, "member-page")

    # 4. A points grant shows how many people and points before it runs.
    await page.goto("/console/points")
    await page.select_option("#node_id", str(world.nodes["chaoyang"]))
    await page.select_option("#member_group", "women")
    await page.fill("#amount", "100")
    await page.fill("#reason", "三八妇女节慰问")
    async with page.expect_navigation():
        await page.click("[data-testid=grant-preview]")
    await expect(page.locator("[data-testid=confirm]")).to_contain_text("人，共")
    await expect(page.locator("[data-testid=confirm]")).to_contain_text("女职工")
    await shots.take(page, "grant-preview")
    async with page.expect_navigation():
        await page.click("[data-testid=confirm-yes]")
    await expect(page.locator("[data-testid=granted]")).to_be_visible()
    await expect(page.locator("[data-testid=grant-row]").first).to_contain_text("三八妇女节慰问")
    await shots.take(page, "grant-done")

    # 5. The policy as a form, and who would change level before publishing.
    await page.goto("/console/policy")
    await shots.take(page, "policy-form")
    await page.fill("[data-testid='policy-warning.satisfaction_below']", "2.9")
    await page.fill("[data-testid='policy-probation.satisfaction_below']", "2.5")
    async with page.expect_navigation():
        await page.click("[data-testid=policy-check]")
    await expect(page.locator("[data-testid=policy-move]")).to_have_count(1)  # probation → watch
    await shots.take(page, "policy-preview")

    # 6. A case: the evidence in words, a reason, what the decision does, then confirmed.
    await page.goto("/console/cases?status=open")
    await shots.take(page, "cases")
    await page.goto(f"/console/cases/{ids['case_id']}")
    first_reason = page.locator("[data-testid=reasons] li").first
    await expect(first_reason).to_contain_text("满意度 3.00 分")
    await shots.take(page, "case-evidence")
    await page.fill("#explanation", "整改期满，满意度仍低于政策下限，且有逾期未答复的投诉。")
    await page.check("input[name=cancel_vouchers]")
    async with page.expect_navigation():
        await page.click("[data-testid=decide-delist]")
    confirm = page.locator("[data-testid=confirm]")
    await expect(confirm).to_contain_text("已发出的优惠券全部作废")
    await shots.take(page, "case-confirm")
    async with page.expect_navigation():
        await page.click("[data-testid=confirm-yes]")
    await expect(page.locator("[data-testid=case-status]")).to_have_text("已决定")
    await expect(page.locator("[data-testid=decision]")).to_contain_text("已下架")
    await shots.take(page, "case-decided")

    # 7. The audit log reads as sentences, filtered from menus.
    await page.goto("/console/audit")
    await expect(page.locator("[data-testid=audit-row]").first).to_be_visible()
    await shots.take(page, "audit-log")
    await page.select_option("[data-testid=filter-action]", "http.")
    async with page.expect_navigation():
        await page.click("[data-testid=list-apply]")
    whats = page.locator("[data-testid=audit-what]")
    await expect(whats.first).to_have_text("对处理案件作出了决定")  # the confirmed decision, not its preview
    await expect(whats.filter(has_text="做了其他修改")).to_have_count(0)
    await shots.take(page, "audit-filtered")

    # 8. The same home in English, once.
    await page.goto("/console/")
    async with page.expect_navigation():
        await page.click("header [data-testid=lang-switch]")
    await expect(page.locator("[data-testid=todo]")).to_contain_text("To do today")
    await shots.take(page, "todo-home-english")
    async with page.expect_navigation():
        await page.click("header [data-testid=lang-switch]")
