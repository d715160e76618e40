"""Apply through the public form, an operator approves in the console, the owner sees
the provider active. Screenshots of every page go to tests/artifacts/screenshots/."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]

OWNER_PASSWORD = "Str0ng-Pass-2026"


async def _sign_in(page: Page, area: str, username: str, password: str) -> None:
    await page.goto(f"/{area}/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    async with page.expect_navigation():
        await page.click("[data-testid=login-submit]")


async def test_apply_approve_and_see_active(desktop_page: Page, world, shots):
    page = desktop_page
    await page.goto("/provider/apply")
    await shots.take(page, "apply-form")
    await page.fill("#name", "京体健身(三里屯店)")
    await page.fill("#credit_code", "91350100M000100Y44")  # a wrong check character first
    await page.select_option("#kind", "gym")
    await page.select_option("#node_id", str(world.nodes["chaoyang"]))
    await page.fill("#contact_name", "赵敏")
    await page.fill("#contact_phone", "13812345678")
    await page.fill("#location_name", "三里屯店")
    await page.fill("#address", "北京市朝阳区三里屯路19号")
    await page.select_option("#district", "朝阳区")  # the federation's districts
    await page.fill("#latitude", "39.936")
    await page.fill("#longitude", "116.455")
    await page.fill("input[name=open_mon]", "09:00")
    await page.fill("input[name=close_mon]", "21:00")
    await page.fill("#username", "jingti_owner")
    await page.fill("#password", OWNER_PASSWORD)
    async with page.expect_navigation():
        await page.click("[data-testid=apply-submit]")
    error = page.locator("[data-testid=form-error]")
    await expect(error).to_be_visible()
    await expect(page.locator("#credit_code-error")).to_contain_text("统一社会信用代码")  # at the field
    await expect(page.locator("#credit_code")).to_have_attribute("aria-invalid", "true")
    await shots.take(page, "apply-wrong-credit-code")
    # The form kept what was typed, except the password.
    await expect(page.locator("#name")).to_have_value("京体健身(三里屯店)")
    await page.fill("#credit_code", "91350100M000100Y43")
    await page.fill("#password", OWNER_PASSWORD)
    async with page.expect_navigation():
        await page.click("[data-testid=apply-submit]")
    await expect(page.locator("[data-testid=applied]")).to_be_visible()
    await shots.take(page, "applied")

    await _sign_in(page, "console", world.operators["chaoyang"], PASSWORD)
    await page.goto("/console/providers")
    row = page.locator("[data-testid=provider-row]", has_text="京体健身")
    await expect(row).to_have_count(1)
    await shots.take(page, "review-queue")
    async with page.expect_navigation():
        await row.locator("a").click()
    await expect(page.locator("[data-testid=contact-phone]")).to_have_text("138****5678")
    await shots.take(page, "review-detail")
    async with page.expect_navigation():
        await page.click("[data-testid=decide-approve]")
    await expect(page.locator("[data-testid=provider-status]")).to_have_text("正常营业")
    await expect(page.locator("[data-testid=status-history] li")).to_have_count(2)
    await shots.take(page, "approved")

    await _sign_in(page, "provider", "jingti_owner", OWNER_PASSWORD)
    await expect(page).to_have_url(re.compile(r"/provider/$"))
    await page.goto("/provider/profile")
    await expect(page.locator("[data-testid=provider-status]")).to_have_text("正常营业")
    await shots.take(page, "owner-profile")
    await page.goto("/provider/locations")
    await expect(page.locator("[data-testid=location]")).to_have_count(1)
    await shots.take(page, "owner-locations")
    await page.goto("/provider/staff")
    await expect(page.locator("[data-testid=user-row]")).to_have_count(1)
    await shots.take(page, "owner-staff")
