"""Form errors beside their field, in Chinese, in a real browser: the team page's two-factor
reset (1440x900, with its confirmation), a campaign refused (1440x900) and a member's
erasure confirmation (390x844), a provider's complaint answer refused (390x844).
Screenshots in tests/artifacts/screenshots/."""

import pytest
from playwright.async_api import expect

from marketplace.core import pii
from marketplace.core.db import engine
from marketplace.core.identity import totp
from tests.browser.conftest import _context, _watch
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
CONSOLE = {"viewport": {"width": 1440, "height": 900}}


async def test_console_forms_show_the_error_at_the_field(browser, live_server, world, shots):
    async with engine().transaction() as transaction:  # chaoyang's operator has an authenticator
        await transaction.connection.execute(
            "UPDATE operator SET totp_secret_cipher = $2 WHERE username = $1",
            world.operators["chaoyang"],
            pii.encrypt(totp.new_secret()),
        )
    context = await _context(browser, live_server, CONSOLE)
    page = await context.new_page()
    _watch(page)
    try:
        await page.goto("/console/login")
        await sign_in(page, world.operators["beijing"], PASSWORD)
        await page.goto("/console/team")
        reset = page.locator("[data-testid=operator-two-factor-reset]")
        await expect(reset).to_have_count(1)
        async with page.expect_navigation():
            await reset.locator("button").click()
        await expect(reset.locator("[data-testid=field-error]")).to_contain_text("审计日志")
        await shots.take(page, "team-reset-needs-reason")
        await reset.locator("input[name=reason]").fill("本人来电，已核对工号")
        async with page.expect_navigation():
            await reset.locator("button").click()
        await expect(page.locator("[data-testid=confirm]")).to_contain_text("本人来电，已核对工号")
        await shots.take(page, "team-reset-confirm")
        async with page.expect_navigation():
            await page.click("[data-testid=confirm-yes]")
        await expect(page.locator("[data-testid=team-done]")).to_be_visible()
        await shots.take(page, "team-reset-done")

        await page.goto("/console/campaigns")
        await page.fill("#name_zh", "春节消费补贴")
        await page.fill("#budget_yuan", "很多")
        await page.fill("#cap_yuan", "30")
        async with page.expect_navigation():
            await page.click("[data-testid=campaign-form] button[type=submit]")
        field = page.locator("#budget_yuan ~ [data-testid=field-error]")
        await expect(field).to_be_visible()
        await expect(page.locator("#budget_yuan")).to_have_value("很多")
        await shots.take(page, "campaign-refused")
    finally:
        await context.close()
    assert not page.problems, page.problems


async def test_a_member_form_shows_the_error_at_the_field(phone_page, world, shots):
    page = phone_page
    await page.goto("/login")
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    await page.goto("/me")
    await page.click("text=删除我的个人信息")
    await page.fill("#confirmation", "不要")
    async with page.expect_navigation():
        await page.click("[data-testid=deletion-form] button")
    await expect(page.locator("#confirmation ~ [data-testid=field-error]")).to_be_visible()
    await page.locator("#confirmation").scroll_into_view_if_needed()
    await shots.take(page, "member-erasure-unconfirmed")


async def test_a_refused_complaint_resolution_shows_at_its_field(browser, live_server, world, shots):
    """The console's close form of a complaint (1440x900): a one-character resolution is refused
    beside the field, in Chinese, with the text typed still there."""
    from evaluation.complaints import services as complaints
    from evaluation.schemas import ComplaintInput
    from tests.evaluation.test_quality_loop import redeemed_voucher

    member, voucher = await redeemed_voucher(world)
    await complaints.file(
        member,
        voucher.id,
        world.providers["chaoyang"]["id"],
        ComplaintInput(category="poor_service", text="服务态度很差，等了很久"),
    )
    context = await _context(browser, live_server, CONSOLE)
    page = await context.new_page()
    _watch(page)
    try:
        await page.goto("/console/login")
        await sign_in(page, world.operators["chaoyang"], PASSWORD)
        await page.goto("/console/complaints")
        form = page.locator("[data-testid=close-form]")
        await form.locator("textarea").fill("好")
        async with page.expect_navigation():
            await form.locator("button[type=submit]").click()
        await expect(form.locator("[data-testid=field-error]")).to_contain_text("请用 2 到 2000 字填写处理结果。")
        await expect(form.locator("textarea")).to_have_value("好")
        await shots.take(page, "complaint-resolution-refused")
    finally:
        await context.close()
    assert not page.problems, page.problems


async def test_a_refused_complaint_answer_shows_at_its_field(phone_page, world, shots):
    """The provider's answer to a complaint, on a phone (390x844): a one-character answer is
    refused beside that complaint's answer, in Chinese, with the text typed still there."""
    from evaluation.complaints import services as complaints
    from evaluation.schemas import ComplaintInput
    from tests.evaluation.test_quality_loop import redeemed_voucher

    member, voucher = await redeemed_voucher(world)
    await complaints.file(
        member,
        voucher.id,
        world.providers["chaoyang"]["id"],
        ComplaintInput(category="overcharge", text="结账时多收了二十元，店员不肯退"),
    )
    page = phone_page
    await page.goto("/provider/login")
    await sign_in(page, world.providers["chaoyang"]["owner"], PASSWORD)
    await page.goto("/provider/complaints")
    form = page.locator("[data-testid=answer-form]")
    await form.locator("textarea").fill("好")
    async with page.expect_navigation():
        await form.locator("button[type=submit]").click()
    await expect(form.locator("[data-testid=field-error]")).to_contain_text("请用 2 到 2000 字填写答复。")
    await expect(form.locator("textarea")).to_have_value("好")
    await expect(form.locator("textarea")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("[data-testid=form-error]")).to_contain_text("您的答复")
    await shots.take(page, "complaint-answer-refused")
