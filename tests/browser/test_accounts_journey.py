"""Account pages in a real browser: a member activates with a text-message code, signs in
by code, changes the password and resets a forgotten one (390x844); an operator turns on
two-factor sign-in, keeps the recovery codes and resets a colleague's password (1440x900).
Screenshots go to tests/artifacts/screenshots/test_<journey>-NN-<step>.png."""

import re
import time

import pytest
from playwright.async_api import Page, expect

from marketplace.core.identity import totp
from marketplace.core.kv import redis
from tests.factories import PASSWORD, add_member
from tests.federation.test_activation import imported
from tests.test_sms import last_sms_code

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Lantern-Festival-2027"
CONSOLE = {"width": 1440, "height": 900}


async def submit(page: Page, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def test_member_activates_signs_in_by_code_and_changes_password(phone_page: Page, world, shots):
    page = phone_page
    person = await imported(world)

    await page.goto("/activate")
    await page.fill("#name", person["name"])
    await page.fill("#id_number", person["id_number"])
    await page.fill("#phone", person["phone"])
    await shots.take(page, "activate-details")
    await submit(page, "[data-testid=activate-send]")
    await expect(page.locator("[data-testid=code-sent]")).to_contain_text("137****0070")
    await shots.take(page, "activate-code")
    code = await last_sms_code(person["phone"])
    await page.goto("/dev/sms")
    await expect(page.locator("[data-testid=dev-sms-text]").first).to_contain_text(code)
    await shots.take(page, "dev-sms")
    await page.go_back()
    await page.fill("#code", code)
    await page.fill("#password", NEW_PASSWORD)
    await page.fill("#password_again", NEW_PASSWORD)
    await submit(page, "[data-testid=activate-submit]")
    await expect(page).to_have_url(re.compile(r"/$"))

    # Sign out, then in again with a code instead of the password.
    await page.goto("/me")
    await expect(page.locator("[data-testid=account-password]")).to_have_text("修改密码")
    await shots.take(page, "account")
    async with page.expect_navigation():
        await page.click("main [data-testid=logout]")
    await page.goto("/login")
    await expect(page.locator("[data-testid=sms-login-link]")).to_have_text("短信验证码登录")
    await shots.take(page, "login")
    await page.click("[data-testid=sms-login-link]")
    await redis().delete(*await redis().keys("sms:cooldown:*"))  # as if the minute since activation had passed
    await page.fill("#phone", person["phone"])
    await submit(page, "[data-testid=send-code]")
    await page.fill("#code", "000000" if (code := await last_sms_code(person["phone"])) != "000000" else "111111")
    await submit(page, "[data-testid=code-submit]")
    await expect(page.locator("[data-testid=field-error]")).to_contain_text("验证码错误或已过期")
    await shots.take(page, "sms-login-wrong-code")
    await page.fill("#code", code)
    await submit(page, "[data-testid=code-submit]")
    await expect(page).to_have_url(re.compile(r"/$"))

    # Change the password from the account page.
    await page.goto("/me/password")
    await page.fill("#current_password", "not-my-password")
    await page.fill("#password", "Dragon-Boat-2028")
    await page.fill("#password_again", "Dragon-Boat-2028")
    await submit(page, "[data-testid=password-submit]")
    await expect(page.locator("#current_password-error")).to_contain_text("当前密码不正确")
    await shots.take(page, "password-wrong-current")
    await page.fill("#current_password", NEW_PASSWORD)
    await page.fill("#password", "Dragon-Boat-2028")
    await page.fill("#password_again", "Dragon-Boat-2028")
    await submit(page, "[data-testid=password-submit]")
    await expect(page.locator("[data-testid=password-changed]")).to_be_visible()
    await shots.take(page, "password-changed")


async def test_member_resets_a_forgotten_password(phone_page: Page, world, shots):
    page = phone_page
    _, phone = await add_member(world.nodes["cy_union"], 90, "陈静")
    await page.goto("/login")
    await page.click("[data-testid=reset-link]")
    await expect(page.locator("h1")).to_have_text("忘记密码")
    await page.fill("#phone", phone)
    await shots.take(page, "reset-phone")
    await submit(page, "[data-testid=send-code]")
    await page.fill("#code", await last_sms_code(phone))
    await page.fill("#password", "12345678")
    await page.fill("#password_again", "12345678")
    await shots.take(page, "reset-code")
    await submit(page, "[data-testid=reset-submit]")
    await expect(page.locator("[data-testid=field-error]")).to_be_visible()
    await shots.take(page, "reset-weak-password")
    await page.fill("#password", NEW_PASSWORD)
    await page.fill("#password_again", NEW_PASSWORD)
    await submit(page, "[data-testid=reset-submit]")
    await expect(page.locator("[data-testid=password-changed]")).to_contain_text("新密码已设置")
    await shots.take(page, "reset-done")
    # Once in English.
    await page.goto("/lang/en")
    await page.goto("/reset")
    await expect(page.locator("h1")).to_have_text("Forgot your password")
    await shots.take(page, "reset-english")


async def test_member_sees_the_wait_in_chinese(phone_page: Page, world, shots):
    page = phone_page
    phone = world.members["chaoyang"][1]
    await page.goto("/login")
    for _ in range(10):  # the waits grow (1, 2, 4 s ...) until one outlasts the typing
        await page.fill("#username", phone)
        await page.fill("#password", "wrong-password")
        await submit(page, "[data-testid=login-submit]")
        if "秒后再试" in await page.locator("[data-testid=login-error]").inner_text():
            break
    await expect(page.locator("[data-testid=login-error]")).to_contain_text(re.compile(r"请 \d+ 秒后再试"))
    await shots.take(page, "login-wait")


async def test_operator_turns_on_two_factor_and_resets_a_colleague(desktop_page: Page, world, shots):
    page = desktop_page
    await page.set_viewport_size(CONSOLE)
    await page.goto("/console/login")
    await page.fill("#username", world.operators["beijing"])
    await page.fill("#password", PASSWORD)
    await submit(page, "[data-testid=login-submit]")
    await page.goto("/console/security")
    await expect(page.locator("[data-testid=totp-qr] svg")).to_be_visible()
    await shots.take(page, "security")
    secret = (await page.locator("[data-testid=totp-secret]").inner_text()).strip()
    await page.fill("#code", totp.code_at(secret, time.time()))
    await submit(page, "[data-testid=totp-enable] button")
    await expect(page.locator("[data-testid=recovery-code]")).to_have_count(10)
    await shots.take(page, "recovery-codes")
    await page.goto("/console/security")
    await expect(page.locator("[data-testid=totp-on]")).to_be_visible()
    await shots.take(page, "security-on")

    await page.goto("/console/team")
    row = page.locator("[data-testid=operator-row]", has_text=world.operators["chaoyang"])
    await submit(
        page,
        f"[data-testid=operator-row]:has-text('{world.operators['chaoyang']}') "
        "[data-testid=operator-password-reset] button",
    )
    await expect(page.locator("[data-testid=temporary-password]")).to_have_text(re.compile(r"^\w{4}-\w{4}-\w{4}$"))
    await shots.take(page, "temporary-password")
    assert row is not None

    await page.goto("/console/password")
    await expect(page.locator("h1")).to_have_text("修改密码")
    await shots.take(page, "password")


async def test_staff_whose_password_was_reset_chooses_a_new_one(phone_page: Page, new_phone_page, world, shots):
    owner = phone_page
    await owner.goto("/provider/login")
    await owner.fill("#username", world.providers["chaoyang"]["owner"])
    await owner.fill("#password", PASSWORD)
    await submit(owner, "[data-testid=login-submit]")
    await owner.goto("/provider/staff")
    await shots.take(owner, "staff")
    await submit(owner, "[data-testid=user-row] [data-testid=staff-password-reset] button")
    temporary = (await owner.locator("[data-testid=temporary-password]").inner_text()).strip()
    await shots.take(owner, "temporary-password")

    counter = await new_phone_page()
    await counter.goto("/provider/login")
    await counter.fill("#username", world.providers["chaoyang"]["staff"])
    await counter.fill("#password", temporary)
    await submit(counter, "[data-testid=login-submit]")
    await expect(counter).to_have_url(re.compile(r"/provider/password$"))
    await expect(counter.locator("[data-testid=password-forced]")).to_be_visible()
    await shots.take(counter, "forced-change")
    await counter.fill("#current_password", temporary)
    await counter.fill("#password", NEW_PASSWORD)
    await counter.fill("#password_again", NEW_PASSWORD)
    await submit(counter, "[data-testid=password-submit]")
    await expect(counter.locator("[data-testid=password-changed]")).to_be_visible()
    await shots.take(counter, "changed")
    await counter.goto("/provider/counter")
    await expect(counter).to_have_url(re.compile(r"/provider/counter$"))
