"""Finding and choosing on a phone (390 × 844, zh-CN), as a member and a provider's owner
click it: the offer's cover picture and real ratings, the owner's one public reply and the
member reading it, 收藏 on offers and providers with the list in 我的, category tiles with
their own icons, 离我最近 without the location permission, and 我的数据.
Every step is a screenshot (tests/artifacts/screenshots/test_<journey>-NN-<step>.png).
"""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from playwright.async_api import Page, expect

from catalog import services as catalog_services
from catalog.tables import Category, Offer
from evaluation.ratings import services as ratings
from evaluation.schemas import RatingInput
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import topics
from marketplace.core.reference_data import CATEGORIES
from marketplace.favourites.tables import Favourite
from providers.tables import Location
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD
from tests.journeys import builders

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]

COMMENT = "教练很专业，泳池水很干净，下次还来。"
REPLY = "感谢您的认可！周末人多，建议提前预约。"


def _png() -> bytes:
    """A picture as an owner would upload it: 1600 × 900, two colours."""
    picture = Image.new("RGB", (1600, 900), (21, 115, 81))
    picture.paste((255, 211, 77), (600, 250, 1000, 650))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


async def _rate(world, offer_id: int, member: str, name: str, voucher_id: int, overall: int, comment: str) -> None:
    """A redemption the marketplace announced, then the member's rating of it."""
    category = (await Offer.select(Offer.category).where(Offer.id == offer_id).first())["category"]
    member_id = world.members[member][0]
    await ratings.record_redemption(
        topics.VoucherRedeemed(
            voucher_id=voucher_id,
            provider_id=world.providers["chaoyang"]["id"],
            offer_id=offer_id,
            category_id=category,
            member_id=member_id,
            redeemed_at=datetime.now(UTC) - timedelta(days=3),
        )
    )
    principal = Principal(kind="member", id=member_id, display_name=name, member_status="active")
    await ratings.rate(principal, voucher_id, RatingInput(overall=overall, comment=comment))


async def _reviewed_offer(world) -> int:
    offer_id = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800)
    cover = await catalog_services.store_picture(_png(), "offers")
    await Offer.update({Offer.cover_image: cover}).where(Offer.id == offer_id)
    await Location.update({Location.phone: "01064781234"}).where(Location.provider == world.providers["chaoyang"]["id"])
    await _rate(world, offer_id, "haidian", "李建国", 900001, 4, COMMENT)
    await _rate(world, offer_id, "chaoyang", "王小芳", 900002, 5, "")
    return offer_id


async def test_cover_ratings_and_the_providers_public_reply(phone_page: Page, new_phone_page, world, shots):
    offer_id = await _reviewed_offer(world)

    # The owner reads the review and replies once, publicly, from the portal on a phone.
    owner = await new_phone_page()
    await owner.goto("/provider/login")
    await sign_in(owner, world.providers["chaoyang"]["owner"], PASSWORD)
    await owner.goto("/provider/reviews")
    review = owner.locator("[data-testid=provider-review]").first
    await expect(review.locator("[data-testid=review-comment]")).to_have_text(COMMENT)
    await expect(review).to_contain_text("李*国")
    await expect(owner.locator("[data-testid=reviews-unanswered]")).to_contain_text("待回复（1）")
    await shots.take(owner, "portal-reviews")
    await owner.fill("textarea[name=reply]", "   ")  # only spaces: said at the field, nothing stored
    async with owner.expect_navigation():
        await owner.click("[data-testid=reply-submit]")
    await expect(owner.locator("[data-testid=field-error]")).to_contain_text("回复至少写 2 个字")
    await shots.take(owner, "portal-reply-too-short")
    await owner.fill("textarea[name=reply]", REPLY)
    async with owner.expect_navigation():
        await owner.click("[data-testid=reply-submit]")
    await expect(owner.locator("[data-testid=review-reply]")).to_contain_text(REPLY)
    await expect(owner.locator("[data-testid=reply-form]")).to_have_count(0)  # once
    await shots.take(owner, "portal-replied")

    # Front-desk staff do not see the page.
    staff = await new_phone_page()
    await staff.goto("/provider/login")
    await sign_in(staff, world.providers["chaoyang"]["staff"], PASSWORD)
    response = await staff.goto("/provider/reviews")
    assert response.status == 403

    # The member sees the picture, the real average and the review with the reply.
    page = phone_page
    await page.goto("/login")
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    await page.goto(f"/offers/{offer_id}")
    picture = page.locator("[data-testid=cover-picture]")
    await expect(picture).to_be_visible()
    assert await picture.evaluate("img => img.complete && img.naturalWidth > 0")
    assert (await picture.get_attribute("src")).startswith("/media/offers/")
    await expect(page.locator("[data-testid=rating]")).to_have_text("4.5 分 · 2 条评价")
    await expect(page.locator("[data-testid=rating-average]")).to_have_text("4.5")
    await expect(page.locator("[data-testid=rating-count]")).to_have_text("2 条评价")
    reviews = page.locator("[data-testid=review]")
    await expect(reviews).to_have_count(1)  # only reviews with a comment are listed
    await expect(reviews.first.locator("[data-testid=review-member]")).to_have_text("李*国")
    await expect(reviews.first.locator("[data-testid=review-comment]")).to_have_text(COMMENT)
    await expect(reviews.first.locator("[data-testid=review-reply]")).to_contain_text("商家回复")
    await expect(reviews.first.locator("[data-testid=review-reply]")).to_contain_text(REPLY)
    await expect(page.locator("main")).not_to_contain_text("暂无评分")
    # Opening hours, the shop's phone and map links with the coordinates.
    location = page.locator("[data-testid=location]").first
    await expect(location.locator("[data-testid=location-hours]")).to_contain_text("09:00–21:00")
    assert await location.locator("[data-testid=location-phone]").get_attribute("href") == "tel:01064781234"
    amap = await location.locator("[data-testid=map-amap]").get_attribute("href")
    assert amap.startswith("https://uri.amap.com/marker?position=116.470000,39.990000&name=")
    baidu = await location.locator("[data-testid=map-baidu]").get_attribute("href")
    assert "location=39.990000,116.470000" in baidu
    await shots.take(page, "offer")

    # The provider page: its rating and the same review.
    async with page.expect_navigation():
        await page.click("[data-testid=provider-link]")
    await expect(page.locator("[data-testid=provider-page] [data-testid=rating]")).to_contain_text("4.5 分 · 2 条评价")
    await expect(page.locator("[data-testid=review-reply]").first).to_contain_text(REPLY)
    await expect(page.locator("[data-testid=location-phone]").first).to_be_visible()
    await shots.take(page, "provider")

    # Once in English: the page's own words switch, names and reviews stay as written.
    await page.goto(f"/offers/{offer_id}")
    async with page.expect_navigation():
        await page.click("[data-testid=lang-switch]")
    await expect(page.locator("[data-testid=rating]")).to_have_text("4.5 · 2 reviews")
    await expect(page.locator("[data-testid=review-reply]")).to_contain_text("Reply from the provider")
    await expect(page.locator("[data-testid=map-amap]")).to_have_text("Navigate with Amap")
    await expect(page.locator("[data-testid=favourite]")).to_have_text("Save")
    await shots.take(page, "offer-english")


async def test_an_offer_without_ratings_says_so(phone_page: Page, world, shots):
    offer_id = await builders.offer(world, "voucher", "瑜伽体验课", list_fen=5900)
    await phone_page.goto(f"/offers/{offer_id}")
    await expect(phone_page.locator("[data-testid=rating]")).to_have_text("暂无评价")
    await expect(phone_page.locator("[data-testid=no-reviews]")).to_have_text("暂无评价")
    await expect(phone_page.locator("[data-testid=cover] svg")).to_be_visible()  # the category's fallback
    await shots.take(phone_page, "offer-without-ratings")


async def test_favourites_on_offers_and_providers_with_the_list_in_me(phone_page: Page, world, shots):
    offer_id = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800)
    page = phone_page
    # Signed out: 收藏 goes to sign in, and back to the offer.
    await page.goto(f"/offers/{offer_id}")
    async with page.expect_navigation():
        await page.click("[data-testid=favourite-sign-in]")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    await expect(page).to_have_url(re.compile(rf"/offers/{offer_id}$"))

    button = page.locator("[data-testid=favourite]")
    await expect(button).to_have_text("收藏")
    await expect(button).to_have_attribute("aria-pressed", "false")
    await shots.take(page, "offer")
    await button.click()  # HTMX swaps the button in place
    await expect(page.locator("[data-testid=favourite]")).to_have_text("已收藏")
    await expect(page.locator("[data-testid=favourite]")).to_have_attribute("aria-pressed", "true")
    assert await Favourite.count().where(Favourite.offer == offer_id) == 1
    await shots.take(page, "offer-kept")

    # The shop too, this time as a plain form post (no JavaScript needed).
    await page.goto(f"/providers/{world.providers['chaoyang']['id']}")
    await page.eval_on_selector("[data-testid=favourite-form]", "form => form.submit()")
    await page.wait_for_url(re.compile(r"/providers/\d+\?kept=1$"))
    await expect(page.locator("[data-testid=favourite]")).to_have_text("已收藏")
    await shots.take(page, "provider-kept")

    await page.goto("/me")
    await expect(page.locator("[data-testid=account-favourites-count]")).to_have_text("已收藏 1 个优惠、1 家门店")
    await shots.take(page, "me")
    async with page.expect_navigation():
        await page.click("[data-testid=account-favourites]")
    await expect(page.locator("[data-testid=favourite-offer]")).to_have_count(1)
    await expect(page.locator("[data-testid=favourite-offer]")).to_contain_text("游泳体验券")
    await shots.take(page, "list-offers")
    async with page.expect_navigation():
        await page.click("[data-testid=favourites-providers-tab]")
    await expect(page.locator("[data-testid=favourite-provider]")).to_contain_text("力美健健身(望京店)")
    await shots.take(page, "list-providers")

    # Taken back from the offer page: the list empties.
    await page.goto(f"/offers/{offer_id}")
    await page.click("[data-testid=favourite]")
    await expect(page.locator("[data-testid=favourite]")).to_have_text("收藏")
    await page.goto("/me/favourites")
    await expect(page.locator("[data-testid=favourites-empty]")).to_contain_text("还没有收藏的优惠")
    await shots.take(page, "list-empty")


async def test_category_tiles_have_one_icon_each(phone_page: Page, world, shots):
    for category in CATEGORIES:
        if category["code"] != "fitness":
            await Category.insert(Category(**category))
    await phone_page.goto("/")
    tiles = phone_page.locator("[data-testid=category-tile]")
    await expect(tiles).to_have_count(len(CATEGORIES))
    drawings = await tiles.evaluate_all("tiles => tiles.map(t => t.querySelector('svg').innerHTML)")
    assert len(set(drawings)) == len(CATEGORIES), "two categories share an icon"
    assert not await phone_page.locator("link[href*='font'], link[href^='http']").count()  # no icon font, no CDN
    await shots.take(phone_page, "home")


async def test_near_me_without_location_says_why_and_offers_districts(phone_page: Page, world, shots):
    await builders.offer(world, "voucher", "游泳体验券", list_fen=8800)
    page = phone_page
    await page.goto("/login")
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    await page.goto("/#near-me")
    await expect(page.locator("[data-testid=radius-3]")).to_be_checked()
    await page.locator("label.radius-choice", has_text="5 公里").click()
    await expect(page.locator("[data-testid=radius-5]")).to_be_checked()
    await page.click("[data-testid=near-me-button]")  # the browser refuses the position
    note = page.locator("[data-testid=near-me-note]")
    await expect(note).to_be_visible()
    await expect(note).to_contain_text("无法按距离排序")
    await expect(page.locator("#district")).to_be_focused()
    await shots.take(page, "home-refused")

    # Without JavaScript the form reaches the search page, which says the same.
    await page.goto("/search?sort=distance&lat=&lng=&radius_m=5000")
    fallback = page.locator("[data-testid=near-me-fallback]")
    await expect(fallback).to_contain_text("按距离排序需要您的位置")
    await expect(page.locator("[data-testid=search-results] [data-testid=offer-card]")).not_to_have_count(0)
    await expect(page.locator("main")).not_to_contain_text("sort")
    await shots.take(page, "search-fallback")

    # With the position granted: nearest first, within the chosen radius.
    await page.context.grant_permissions(["geolocation"])
    await page.context.set_geolocation({"latitude": 39.99, "longitude": 116.46})
    await page.goto("/#near-me")
    async with page.expect_navigation(url=re.compile(r"/search\?.*lat=39\.99")):
        await page.click("[data-testid=near-me-button]")
    assert "radius_m=3000" in page.url
    await expect(page.locator("[data-testid=radius-chips] .chip-accent")).to_have_text("3 公里内")
    await expect(page.locator("[data-testid=distance]").first).to_contain_text("公里")
    await shots.take(page, "search-nearest")


async def test_my_data_page_lists_what_is_held(phone_page: Page, world, shots):
    offer_id = await _reviewed_offer(world)
    member_id = world.members["chaoyang"][0]
    await Favourite.insert(Favourite(member=member_id, offer=offer_id, created_at=datetime.now(UTC)))
    page = phone_page
    await page.goto("/login")
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    await page.goto("/me")
    async with page.expect_navigation():
        await page.click("[data-testid=open-my-data]")
    await expect(page).to_have_url(re.compile(r"/me/data$"))
    sections = page.locator("[data-testid=data-section]")
    await expect(sections).to_have_count(8)
    for title in ("个人资料", "券和订单", "积分", "评价", "投诉", "我的收藏", "您的授权", "消息"):
        await expect(page.locator("[data-testid=data-sections]")).to_contain_text(title)
    await expect(page.locator("[data-testid=data-ratings-count]")).to_have_text("1 项")
    await expect(page.locator("[data-testid=data-favourites-count]")).to_have_text("1 项")
    await expect(page.locator("[data-testid=data-phone]")).to_have_text("139****0001")  # masked on screen
    assert not await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    await shots.take(page, "data")
    async with page.expect_download() as download_info:
        await page.click("[data-testid=download-data]")
    download = await download_info.value
    body = (await download.path()).read_text(encoding="utf-8")
    assert '"favourites"' in body and "13900000001" in body  # in full, for portability
