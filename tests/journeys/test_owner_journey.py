"""The provider owner's day in the portal, at a desk (1440x900) and on a phone (390x844):
the overview (today, this month's settlement, complaints, rating, first steps), an offer
made with the form of its kind (a booking with weekly slots and a picture, saved and
submitted in one step, an error shown at its field in Chinese), a location placed from a
pasted 高德 link; and a stranger's application page on a 360-pixel phone. Screenshots of
every step go to tests/artifacts/screenshots/."""

import re

import pytest
from PIL import Image
from playwright.async_api import Page, expect

from evaluation.schemas import ComplaintInput
from marketplace.vouchers import services as vouchers
from tests.browser.conftest import _context, _watch
from tests.browser.test_login import sign_in
from tests.evaluation.test_quality_loop import redeemed_voucher
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]

DESK = {"viewport": {"width": 1440, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 780}}


async def _page(browser, live_server, device) -> Page:
    context = await _context(browser, live_server, device)
    page = await context.new_page()
    _watch(page)
    return page


async def _no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    wide = await page.evaluate(
        """limit => [...document.querySelectorAll('body *')]
        .filter(e => !e.closest('.sidenav') && e.getBoundingClientRect().right > limit + 1)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""",
        page.viewport_size["width"],
    )
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px): {wide}"


async def _a_day_of_business(world) -> None:
    """A voucher redeemed today, with a complaint about it."""
    member, voucher = await redeemed_voucher(world)
    await vouchers.complain(member, voucher.id, ComplaintInput(category="poor_service", text="前台态度冷淡，等了很久"))


def _picture(path) -> str:
    Image.new("RGB", (800, 600), (30, 120, 200)).save(path, "PNG")
    return str(path)


async def test_owner_runs_the_business_at_a_desk(browser, live_server, world, shots, tmp_path):
    await _a_day_of_business(world)
    page = await _page(browser, live_server, DESK)
    try:
        await page.goto("/provider/login")
        await sign_in(page, world.providers["chaoyang"]["owner"], PASSWORD)
        await expect(page).to_have_url(re.compile(r"/provider/$"))
        await expect(page.locator("[data-testid=today-redemptions]")).to_have_text("1")
        await expect(page.locator("[data-testid=open-complaints]")).to_have_text("1")
        await expect(page.locator("[data-testid=nav-badge-complaints]")).to_have_text("1")
        await expect(page.locator("[data-testid=onboarding]")).to_be_visible()
        await expect(page.locator("[data-testid=checklist-picture] a")).to_be_visible()
        await shots.take(page, "overview")
        async with page.expect_navigation():
            await page.click("[data-testid=nav-badge-complaints]")
        await expect(page.locator("[data-testid=complaint-voucher]")).to_contain_text("健身月卡public")
        await expect(page.locator("[data-testid=complaint-voucher]")).to_contain_text("****-****")
        await shots.take(page, "complaints")

        await page.goto("/provider/offers/new")
        await page.select_option("#kind", "slot")
        await expect(page.locator("[data-testid=slot-editor]")).to_be_visible()
        await expect(page.locator("#points_price")).to_be_hidden()  # only the fields a booking needs
        await page.fill("#title_zh", "周末亲子游泳课")
        await page.fill("#description_zh", "恒温泳池，教练一对四，含泳帽")
        await page.fill("#list_price_fen", "100")
        await page.fill("#member_price_fen", "120")  # above the list price: refused at the field
        await page.fill("#subsidy_fen", "20")
        await page.fill("#stock_total", "40")
        await page.fill("#valid_from", "2027-01-01")
        await page.fill("#valid_to", "2027-03-31")
        await page.fill("#slot_date_1", "2027-01-09")
        await page.fill("#slot_start_1", "10:00")
        await page.fill("#slot_end_1", "11:30")
        await page.fill("#slot_capacity_1", "8")
        await page.select_option("#slot_weeks_1", "6")
        await page.click("[data-testid=add-slot]")
        await expect(page.locator("[data-testid=slot-row]")).to_have_count(3)
        await page.set_input_files("#image", _picture(tmp_path / "pool.png"))
        await shots.take(page, "new-booking-form")
        async with page.expect_navigation():
            await page.click("[data-testid=save-and-submit]")
        await expect(page.locator("#member_price_fen-error")).to_contain_text("会员价不能高于原价")
        await expect(page.locator("#member_price_fen")).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#slot_weeks_1")).to_have_value("6")  # what was typed stays
        await shots.take(page, "error-at-the-field")
        await page.fill("#member_price_fen", "80")
        await page.set_input_files("#image", _picture(tmp_path / "pool.png"))  # files are not kept by browsers
        async with page.expect_navigation():
            await page.click("[data-testid=save-and-submit]")
        await expect(page).to_have_url(re.compile(r"/provider/offers/\d+\?done=submitted$"))
        await expect(page.locator("[data-testid=offer-done]")).to_contain_text("已保存并提交审核")
        await expect(page.locator("[data-testid=offer-status]")).to_have_text("审核中")
        await expect(page.locator("[data-testid=offer-picture]")).to_be_visible()
        await expect(page.locator("[data-testid=slot-row] input[name=slot_date]").first).to_have_value("2027-01-09")
        await shots.take(page, "submitted")

        await page.goto("/provider/locations")
        await page.fill("[data-testid=location-add-form] #location_name", "工体店")
        await page.select_option("[data-testid=location-add-form] #district", "朝阳区")
        await page.fill("[data-testid=location-add-form] #address", "工人体育场北路8号")
        await page.fill(
            "[data-testid=location-add-form] #map_link",
            "https://uri.amap.com/marker?position=116.447,39.932&name=工体店",
        )
        async with page.expect_navigation():
            await page.click("[data-testid=location-add-form] [data-testid=locate]")
        await expect(page.locator("[data-testid=located]")).to_be_visible()
        await expect(page.locator("[data-testid=location-add-form] #latitude")).to_have_value("39.932")
        await shots.take(page, "location-located")
        await page.fill("[data-testid=location-add-form] input[name=open_sun]", "10:00")
        await page.fill("[data-testid=location-add-form] input[name=close_sun]", "20:00")
        await page.fill("[data-testid=location-add-form] input[name=open_mon]", "09:00")
        await page.fill("[data-testid=location-add-form] input[name=close_mon]", "21:00")
        async with page.expect_navigation():
            await page.click("[data-testid=location-add-form] button[type=submit]:not([name])")
        await expect(page.locator("[data-testid=location-saved]")).to_be_visible()
        days = (
            await page.locator("[data-testid=location]", has_text="工体店")
            .locator("[data-testid=hours-day] .hours-days")
            .all_inner_texts()
        )
        assert days == ["周一", "周日"]
        await shots.take(page, "location-saved")
        assert not page.problems, page.problems
    finally:
        await page.context.close()


async def test_owner_on_a_phone_and_a_stranger_applies_on_a_small_phone(browser, live_server, world, shots):
    await _a_day_of_business(world)
    page = await _page(browser, live_server, PHONE)
    try:
        await page.goto("/provider/login")
        await sign_in(page, world.providers["chaoyang"]["owner"], PASSWORD)
        await expect(page.locator("[data-testid=month-settlement]")).to_be_visible()
        await _no_sideways_scroll(page)
        await shots.take(page, "phone-overview")
        await page.goto("/provider/offers/new")
        await page.select_option("#kind", "points")
        await expect(page.locator("#points_price")).to_be_visible()
        await expect(page.locator("[data-testid=slot-editor]")).to_be_hidden()
        await _no_sideways_scroll(page)
        await shots.take(page, "phone-offer-form")
        await page.goto("/provider/locations")
        await shots.take(page, "phone-locations")
        await _no_sideways_scroll(page)
        assert not page.problems, page.problems
    finally:
        await page.context.close()

    stranger = await _page(browser, live_server, SMALL_PHONE)
    try:
        await stranger.goto("/provider/apply")
        await expect(stranger.locator("[data-testid=portal-menu]")).to_have_count(0)  # no portal menu
        await expect(stranger.locator("#district option", has_text="朝阳区")).to_have_count(1)
        await _no_sideways_scroll(stranger)
        await shots.take(stranger, "apply-360")
        assert not stranger.problems, stranger.problems
    finally:
        await stranger.context.close()
