"""Signing in and out of every web area in a real browser, the language switch, and
an operator refused a node outside their scope. Screenshots of every page visited go
to tests/artifacts/screenshots/."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


async def sign_in(page: Page, username: str | None, password: str) -> None:
    if username is not None:
        await page.fill("#username", username)
    await page.fill("#password", password)
    async with page.expect_navigation():
        await page.click("[data-testid=login-submit]")


async def sign_out(page: Page) -> None:
    """The sign-out button of the page's header (a POST form)."""
    async with page.expect_navigation():
        await page.click("header [data-testid=logout]")


async def assert_htmx_loaded(page: Page) -> None:
    assert await page.evaluate("typeof window.htmx") == "object", "htmx did not load from /static/vendor/"


# Member site (phone) -----------------------------------------------------------------


async def test_member_login_and_logout(phone_page: Page, world, shots):
    page = phone_page
    _member_id, phone = world.members["chaoyang"]

    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    await expect(page.locator(".tabbar")).to_contain_text("首页")
    await assert_htmx_loaded(page)
    await shots.take(page, "home-anonymous")

    await page.goto("/login")
    await expect(page.locator("h1")).to_have_text("会员登录")
    phone_input = page.locator("#username")
    await expect(phone_input).to_have_attribute("inputmode", "tel")
    await expect(phone_input).to_have_attribute("autocomplete", "username")
    await expect(page.locator("#password")).to_have_attribute("autocomplete", "current-password")
    await expect(page.locator("label[for=username]")).to_have_text("手机号")
    await shots.take(page, "login")

    await sign_in(page, phone, PASSWORD)
    await expect(page).to_have_url(re.compile(r"/$"))
    # The member sees the offers of their union, including the one for women workers;
    # not the one scoped to another district.
    cards = page.locator("[data-testid=offer-card]")
    await expect(cards).to_have_count(2)
    await expect(page.locator("main")).to_contain_text("健身月卡women")
    await expect(page.locator("main")).not_to_contain_text("健身月卡haidian_only")
    first = cards.first
    # What the member pays: the member price ¥99 less the union's ¥30 (catalog/pricing.py).
    await expect(first.locator(".price-member")).to_contain_text("¥69")
    await expect(first.locator(".price-list")).to_contain_text("¥199")
    await expect(first.locator("[data-testid=subsidy]")).to_have_text("工会补贴 ¥30")
    await expect(page.locator(".hero-kicker")).to_contain_text("王*芳")
    await shots.take(page, "home-signed-in")

    await page.locator(".tabbar").get_by_role("link", name="我的", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/me$"))
    await expect(page.locator("[data-testid=member-name]")).to_have_text("王小芳")
    await expect(page.locator("[data-testid=member-node]")).to_have_text("朝阳区快递行业联合工会")
    await expect(page.locator("main")).to_contain_text("女职工")
    await expect(page.locator("main")).to_contain_text("新就业形态劳动者")
    await shots.take(page, "account")

    await sign_out(page)
    await expect(page).to_have_url(re.compile(r"/login$"))
    await shots.take(page, "signed-out")
    await page.goto("/me")
    await expect(page).to_have_url(re.compile(r"/login\?next=/me$"))


async def test_member_wrong_password_shows_error(phone_page: Page, world, shots):
    page = phone_page
    _, phone = world.members["chaoyang"]
    await page.goto("/login")
    await sign_in(page, phone, "not-the-password")
    error = page.locator("[data-testid=login-error]")
    await expect(error).to_have_text("账号或密码错误。")
    await expect(page.locator("#username")).to_have_value(phone)
    await expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    await shots.take(page, "wrong-password")
    await page.goto("/me")
    await expect(page).to_have_url(re.compile(r"/login\?next=/me$"))


async def test_language_switch(phone_page: Page, world, shots):
    page = phone_page
    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    await expect(page.locator("[data-testid=header-login]")).to_have_text("登录")
    await shots.take(page, "chinese")

    await page.click("[data-testid=lang-switch]")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.locator("[data-testid=header-login]")).to_have_text("Sign in")
    await expect(page.locator(".tabbar")).to_contain_text("Home")
    await expect(page.locator("main")).to_contain_text("Monthly pass public")  # title_en of the offer
    await shots.take(page, "english")

    # The choice sticks across pages (a cookie) ...
    await page.goto("/login")
    await expect(page.locator("h1")).to_have_text("Member sign-in")
    await expect(page.locator("label[for=username]")).to_have_text("Mobile number")
    await shots.take(page, "english-login")

    # ... and the error message of a failed sign-in is English too.
    await sign_in(page, world.members["chaoyang"][1], "wrong")
    await expect(page.locator("[data-testid=login-error]")).to_have_text("The account or password is wrong.")

    await page.click("[data-testid=lang-switch]")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    await expect(page.locator("h1")).to_have_text("会员登录")
    await shots.take(page, "chinese-again")


# Provider portal ---------------------------------------------------------------------


async def test_provider_owner_login_and_logout(desktop_page: Page, world, shots):
    page = desktop_page
    provider = world.providers["chaoyang"]
    await page.goto("/provider/")
    await expect(page).to_have_url(re.compile(r"/provider/login$"))
    await expect(page.locator("h1")).to_have_text("商户登录")
    await shots.take(page, "login")

    await sign_in(page, provider["owner"], PASSWORD)
    await expect(page).to_have_url(re.compile(r"/provider/$"))
    await expect(page.locator("[data-testid=provider-name]")).to_have_text("力美健健身(望京店)")
    await expect(page.locator("[data-testid=provider-status]")).to_have_text("正常营业")
    await expect(page.locator("[data-testid=current-user] .role-badge")).to_have_text("负责人")
    await expect(page.locator("[data-testid=location]")).to_contain_text("北京市朝阳区阜通东大街6号")
    await expect(page.locator("[data-testid=location]")).to_contain_text("周一")
    await expect(page.locator("[data-testid=offer-row]")).to_have_count(3)
    await expect(page.locator("[data-testid=staff-notice]")).to_have_count(0)
    await assert_htmx_loaded(page)
    await shots.take(page, "dashboard")

    await sign_out(page)
    await expect(page).to_have_url(re.compile(r"/provider/login$"))
    await shots.take(page, "signed-out")
    await page.goto("/provider/")
    await expect(page).to_have_url(re.compile(r"/provider/login$"))


async def test_provider_staff_login_and_logout(desktop_page: Page, new_phone_page, world, shots):
    provider = world.providers["chaoyang"]
    page = desktop_page
    await page.goto("/provider/login")
    await sign_in(page, provider["staff"], PASSWORD)
    await expect(page).to_have_url(re.compile(r"/provider/counter$"))  # staff land on the counter
    await expect(page.locator("[data-testid=current-user] .role-badge")).to_have_text("前台员工")
    await shots.take(page, "counter")
    await sign_out(page)
    await expect(page).to_have_url(re.compile(r"/provider/login$"))

    # Front-desk staff often use a phone at the counter.
    phone = await new_phone_page()
    await phone.goto("/provider/login")
    await shots.take(phone, "phone-login")
    await sign_in(phone, provider["staff"], PASSWORD)
    await expect(phone.locator("[data-testid=counter-code]")).to_be_visible()
    await shots.take(phone, "phone-counter")
    await sign_out(phone)
    await expect(phone).to_have_url(re.compile(r"/provider/login$"))


async def test_provider_wrong_password(desktop_page: Page, world, shots):
    page = desktop_page
    await page.goto("/provider/login")
    await sign_in(page, world.providers["chaoyang"]["owner"], "wrong-password")
    await expect(page.locator("[data-testid=login-error]")).to_have_text("账号或密码错误。")
    await expect(page.locator("#username")).to_have_value(world.providers["chaoyang"]["owner"])
    await shots.take(page, "wrong-password")


# Operator console --------------------------------------------------------------------


async def test_operator_login_and_logout(desktop_page: Page, world, shots):
    page = desktop_page
    await page.goto("/console/login")
    await expect(page.locator("h1")).to_have_text("工作人员登录")
    await shots.take(page, "login")

    await sign_in(page, world.operators["beijing"], PASSWORD)
    await expect(page).to_have_url(re.compile(r"/console/$"))
    await expect(page.locator("[data-testid=node-name]")).to_have_text("北京市总工会")
    await expect(page.locator("[data-testid=member-count]")).to_have_text("2")
    # The national federation is above this operator's scope: shown, not linked.
    breadcrumb = page.locator("[data-testid=breadcrumb]")
    await expect(breadcrumb).to_contain_text("中华全国总工会")
    await expect(breadcrumb.locator("a")).to_have_count(0)
    children = page.locator("[data-testid=child-link]")
    await expect(children).to_have_count(2)
    await assert_htmx_loaded(page)
    await shots.take(page, "dashboard")

    await children.filter(has_text="朝阳区总工会").click()
    await expect(page).to_have_url(re.compile(rf"/console/nodes/{world.nodes['chaoyang']}$"))
    await expect(page.locator("[data-testid=node-name]")).to_have_text("朝阳区总工会")
    await expect(breadcrumb.locator("a")).to_have_text(["北京市总工会"])
    await shots.take(page, "district")

    await sign_out(page)
    await expect(page).to_have_url(re.compile(r"/console/login$"))
    await shots.take(page, "signed-out")
    await page.goto("/console/")
    await expect(page).to_have_url(re.compile(r"/console/login$"))


async def test_operator_wrong_password(desktop_page: Page, world, shots):
    page = desktop_page
    await page.goto("/console/login")
    await sign_in(page, world.operators["chaoyang"], "nope")
    await expect(page.locator("[data-testid=login-error]")).to_have_text("账号或密码错误。")
    await shots.take(page, "wrong-password")


async def test_district_operator_cannot_open_another_district(desktop_page: Page, world, shots):
    page = desktop_page
    await page.goto("/console/login")
    await sign_in(page, world.operators["chaoyang"], PASSWORD)
    await expect(page.locator("[data-testid=node-name]")).to_have_text("朝阳区总工会")
    await shots.take(page, "own-district")

    response = await page.goto(f"/console/nodes/{world.nodes['haidian']}")
    # Out of scope answers as a missing node does (docs/architecture.md, "Scope: 403 or 404").
    assert response is not None and response.status == 404
    error = page.locator("[data-testid=error-page]")
    await expect(error).to_have_attribute("data-status", "404")
    await expect(error).to_contain_text("该工会组织不存在。")
    await expect(page.locator("main")).not_to_contain_text("海淀区总工会")
    await shots.take(page, "forbidden")

    # Nor the parent city's node.
    response = await page.goto(f"/console/nodes/{world.nodes['beijing']}")
    assert response is not None and response.status == 404


# Evaluator desk ----------------------------------------------------------------------


async def test_evaluator_login_and_logout(desktop_page: Page, world, shots):
    page = desktop_page
    await page.goto("/evaluator/login")
    await expect(page.locator("h1")).to_have_text("评价机构登录")
    await expect(page.locator("#username")).to_have_count(0)
    await shots.take(page, "login")

    await sign_in(page, None, "ek_bogus_key-that-does-not-exist")
    await expect(page.locator("[data-testid=login-error]")).to_have_text("账号或密码错误。")
    await shots.take(page, "wrong-key")

    await sign_in(page, None, world.evaluator_key)
    await expect(page).to_have_url(re.compile(r"/evaluator/$"))
    await expect(page.locator("[data-testid=org-name]")).to_have_text("北京市社情民意调查中心")
    await expect(page.locator("[data-testid=org-node]")).to_have_text("北京市总工会")
    await assert_htmx_loaded(page)
    await shots.take(page, "dashboard")

    await sign_out(page)
    await expect(page).to_have_url(re.compile(r"/evaluator/login$"))
    await page.goto("/evaluator/")
    await expect(page).to_have_url(re.compile(r"/evaluator/login$"))


async def test_not_found_page(phone_page: Page, world, shots):
    page = phone_page
    response = await page.goto("/no-such-page")
    assert response is not None and response.status == 404
    await expect(page.locator("[data-testid=error-page] h1")).to_have_text("页面不存在")
    await shots.take(page, "not-found")
