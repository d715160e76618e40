"""Member journeys on a phone (390 × 844, zh-CN), as a member clicks them: claim a free
voucher, exchange points, buy a paid offer with the Stripe stand-in's test card, book a
slot, cancel, the orders tabs, and signing in from an offer. Every step is a screenshot
(tests/artifacts/screenshots/test_<journey>-NN-<step>.png) that was looked at.

The paid journey never attaches a card server-side: the page's test card form creates the
PaymentMethod with the publishable key and confirms the PaymentIntent with its client
secret through the stand-in (marketplace/runtime/localstripe_server.py), as Stripe.js does.
"""

import re
from datetime import timedelta

import pytest
from playwright.async_api import Page, expect

from marketplace.core import dates, notifications
from marketplace.core.federation.tables import Notification
from marketplace.core.identity import services as identity
from marketplace.payments import services as payments
from marketplace.payments.tables import Payment
from marketplace.points import services as points
from marketplace.vouchers import services as vouchers
from marketplace.vouchers.tables import Voucher
from providers.tables import Location, ProviderUser
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD, now
from tests.journeys import builders
from tests.points.test_ledger import give

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]


async def signed_in(page: Page, world) -> Page:
    await page.goto("/login")
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    return page


async def click_and_wait(page: Page, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def test_claim_a_free_voucher(phone_page: Page, world, shots):
    last = builders.last_day(45)
    offer_id = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800, valid_until=last)
    page = await signed_in(phone_page, world)
    await page.goto(f"/offers/{offer_id}")
    await expect(page.locator("[data-testid=price-pay]")).to_have_text("会员免费")
    await expect(page.locator("[data-testid=price] .price-list")).to_contain_text("¥88")
    # Inclusive of the last day: never the next midnight.
    await expect(page.locator("[data-testid=offer-valid]")).to_contain_text(f"至 {last.isoformat()}")
    await shots.take(page, "offer")

    await click_and_wait(page, "[data-testid=claim]")
    await expect(page.locator("[data-testid=done]")).to_contain_text("领取成功")
    await expect(page.locator("[data-testid=voucher-qr] svg")).to_be_visible()
    await expect(page.locator("[data-testid=valid-until]")).to_have_text(f"有效期至 {last.isoformat()}")
    voucher = await Voucher.select(Voucher.expires_at).first()
    assert dates.local(voucher["expires_at"]).time().isoformat() == "00:00:00"  # whole days
    # Nothing hides under the sticky header: the page starts below it.
    header = await page.locator(".m-header").bounding_box()
    banner = await page.locator("[data-testid=done]").bounding_box()
    assert banner["y"] >= header["y"] + header["height"]
    await shots.take(page, "claimed")

    # Back on the offer: the limit of one is held, so it says 已领取 instead of a live button.
    await page.goto(f"/offers/{offer_id}")
    claim = page.locator("[data-testid=claim]")
    await expect(claim).to_have_text("已领取")
    await expect(claim).to_be_disabled()
    await expect(page.locator("[data-testid=held]")).to_contain_text("已达每人限领数量")
    await shots.take(page, "held")


async def test_exchange_points_with_a_confirmation_and_the_balance(phone_page: Page, world, shots):
    member_id = world.members["chaoyang"][0]
    await give(member_id, 2000, "campaign")
    offer_id = await builders.offer(world, "points", "瑜伽单次课", list_fen=5900, points=540)
    page = await signed_in(phone_page, world)
    await expect(page.locator("[data-testid=home-points]")).to_contain_text("我的积分 2,000")
    await shots.take(page, "home-balance")

    await page.goto(f"/offers/{offer_id}")
    await expect(page.locator("[data-testid=price-pay]")).to_have_text("540 积分")
    await expect(page.locator("main")).not_to_contain_text("免费")
    await expect(page.locator("[data-testid=points-balance]")).to_have_text("我的积分 2,000")
    await shots.take(page, "offer")

    await page.click("[data-testid=claim]")  # asks first
    sheet = page.locator("[data-testid=exchange-confirm]")
    await expect(sheet).to_be_visible()
    await expect(sheet).to_contain_text("用 540 积分兑换？")
    await expect(page.locator("[data-testid=exchange-balance]")).to_have_text("积分余额 2,000，兑换后剩余 1,460。")
    assert await points.balance_of(member_id) == 2000  # nothing spent by asking
    await shots.take(page, "confirm")
    await page.click("[data-testid=exchange-cancel]")
    await expect(sheet).to_be_hidden()

    await page.click("[data-testid=claim]")
    await click_and_wait(page, "[data-testid=exchange-confirm-button]")
    await expect(page.locator("[data-testid=done]")).to_contain_text("兑换成功")
    await expect(page.locator("[data-testid=price-pay]")).to_have_text("540 积分")
    assert await points.balance_of(member_id) == 1460
    await shots.take(page, "exchanged")

    await page.goto("/points")
    await expect(page.locator("[data-testid=points-balance]")).to_have_text("1,460")
    await expect(page.locator("[data-testid=points-entry]").first).to_contain_text("兑换 · 瑜伽单次课")
    await shots.take(page, "ledger")
    await page.goto("/me")
    await expect(page.locator("[data-testid=account-points-balance]")).to_have_text("1,460")


async def fill_card(page: Page, number: str) -> None:
    await page.fill("[data-testid=card-number]", number)
    await page.fill("[data-testid=card-expiry]", "12/30")
    await page.fill("[data-testid=card-cvc]", "123")


async def test_buy_a_paid_offer_with_the_test_card_then_cancel_for_a_refund(phone_page: Page, world, shots):
    # The defect: the button said ¥238.90 (member price) and the payment took ¥201.90.
    await builders.offer(world, "paid", "私教体验课 3 节", list_fen=29900, member_fen=23890, subsidy_fen=3700)
    paid = "¥201.90"
    page = await signed_in(phone_page, world)
    card = page.locator("[data-testid=offer-card]", has_text="私教体验课")
    await expect(card.locator("[data-testid=price-pay]")).to_have_text(paid)
    await expect(card.locator("[data-testid=subsidy]")).to_have_text("工会补贴 ¥37")
    await shots.take(page, "card")

    async with page.expect_navigation():
        await card.click()
    await expect(page.locator("[data-testid=price-pay]")).to_have_text(paid)
    await expect(page.locator("[data-testid=price] .price-list")).to_contain_text("¥299")
    await expect(page.locator("[data-testid=claim]")).to_have_text(f"立即购买 {paid}")
    await shots.take(page, "offer")

    await click_and_wait(page, "[data-testid=claim]")
    await expect(page).to_have_url(re.compile(r"/payments/\d+$"))
    await expect(page.locator("[data-testid=price-pay]")).to_have_text(paid)
    await expect(page.locator("[data-testid=line-paid]")).to_have_text(paid)
    await expect(page.locator("[data-testid=pay]")).to_have_text(f"支付 {paid}")
    await expect(page.locator("[data-testid=methods-available]")).to_contain_text("可用支付方式：银行卡")
    await expect(page.locator("[data-testid=methods-available]")).to_contain_text("微信支付、支付宝暂未开通")
    countdown = page.locator("[data-testid=countdown]")
    await expect(countdown).to_have_text(re.compile(r"^1[45]:\d\d$"))
    first = await countdown.inner_text()
    await expect(countdown).not_to_have_text(first)  # it counts down live
    await shots.take(page, "pay")

    # A card the bank declines: said in Chinese, nothing charged, the form stays to try again.
    await fill_card(page, "4000 0000 0000 0341")
    await page.click("[data-testid=pay]")
    error = page.locator("[data-testid=pay-error]")
    await expect(error).to_have_text("银行拒绝了这张卡，未扣款，请换一张卡再试。")
    await expect(page.locator("main")).not_to_contain_text("declined")
    await shots.take(page, "declined")

    # A card whose bank asks for 3-D Secure: the bank's step, then the success page.
    await fill_card(page, "4000 0027 6000 3184")
    await page.click("[data-testid=pay]")
    await expect(page.locator("[data-testid=three-d-secure]")).to_be_visible()
    await shots.take(page, "3d-secure")
    async with page.expect_navigation(url=re.compile(r"/payments/\d+$")):
        await page.click("[data-testid=three-d-secure-ok]")
    await expect(page.locator("[data-testid=payment-success]")).to_contain_text("支付成功")
    await expect(page.locator("[data-testid=paid-amount]")).to_have_text(paid)
    await expect(page.locator("[data-testid=line-list]")).to_have_text("¥299")
    await expect(page.locator("[data-testid=line-subsidy]")).to_have_text("−¥37")
    await expect(page.locator("[data-testid=line-paid]")).to_have_text(paid)
    await expect(page.locator("[data-testid=order-number]")).to_have_text(re.compile(r"^\d{14}$"))
    await shots.take(page, "success")
    payment = await Payment.select().first()
    assert (payment["status"], payment["amount_fen"]) == ("succeeded", 20190)

    await click_and_wait(page, "[data-testid=show-voucher]")
    await expect(page.locator("[data-testid=price-pay]")).to_have_text(paid)
    await expect(page.locator("[data-testid=voucher-qr] svg")).to_be_visible()
    await shots.take(page, "voucher")

    # Cancel: asks first and says what happens to the stock and the money.
    await page.click("[data-testid=cancel-voucher]")
    consequences = page.locator("[data-testid=cancel-consequences]")
    await expect(page.locator("#cancel-title")).to_have_text("确定取消这张券吗？")
    await expect(consequences).to_contain_text("这张券会退回库存")
    await expect(consequences).to_contain_text(f"{paid} 原路退回银行卡")
    await shots.take(page, "cancel-confirm")
    await click_and_wait(page, "[data-testid=cancel-confirm-button]")
    await expect(page.locator("[data-testid=done]")).to_have_text("已取消此券。")
    await expect(page.locator("[data-testid=voucher-status]")).to_have_text("退款中")
    await shots.take(page, "cancelled")

    # The worker sends the refund; the member is told how much and when in the inbox.
    await payments.request_refund_for_voucher(payment["voucher"])
    assert await payments.refund(payment["id"])
    message = await Notification.select().where(Notification.kind == "refund_sent").first()
    title, body = notifications.render(message["kind"], message["params"])
    assert title == "退款已发出" and f"{paid} 已于" in body and "5–10 个工作日" in body
    await page.goto("/vouchers?tab=refunds")
    await expect(page.locator("[data-testid=voucher-item]")).to_contain_text(f"{paid} 已于")
    await shots.take(page, "refunds-tab")


async def test_book_a_slot_and_cancel_the_booking(phone_page: Page, world, shots):
    offer_id = await builders.offer(world, "slot", "职工之家理疗预约", list_fen=12000)
    day = builders.last_day(3)
    await builders.slot(offer_id, day, "19:00", "20:00")
    await builders.slot(offer_id, day + timedelta(days=1), "09:30", "10:30")
    weekday = "一二三四五六日"[day.weekday()]
    booked = f"周{weekday} {day:%m-%d} 19:00–20:00"
    page = await signed_in(phone_page, world)
    await page.goto(f"/offers/{offer_id}")
    await expect(page.locator("[data-testid=slot-time]").first).to_have_text(booked)
    await shots.take(page, "slots")

    await click_and_wait(page, "[data-testid=claim]")
    await expect(page.locator("[data-testid=done]")).to_contain_text("预约成功")
    await expect(page.locator("[data-testid=booked-time]")).to_contain_text(booked)
    await expect(page.locator("[data-testid=cancel-voucher]")).to_have_text("取消预约")
    await shots.take(page, "booked")

    await page.goto("/vouchers")
    await expect(page.locator("[data-testid=order-when]").first).to_have_text(f"预约时间：{booked}")
    await shots.take(page, "orders")
    await page.locator("[data-testid=voucher-item] a").first.click()

    await page.click("[data-testid=cancel-voucher]")
    await expect(page.locator("#cancel-title")).to_have_text("确定取消预约吗？")
    await expect(page.locator("[data-testid=cancel-consequences]")).to_contain_text("名额将释放给其他会员")
    await expect(page.locator("[data-testid=cancel-consequences]")).to_contain_text("无需退款")
    await shots.take(page, "cancel-confirm")
    await click_and_wait(page, "[data-testid=cancel-confirm-button]")
    await expect(page.locator("[data-testid=done]")).to_have_text("已取消预约。")
    await shots.take(page, "cancelled")


async def test_orders_by_tab(phone_page: Page, world, shots):
    offer_id = await builders.offer(
        world, "voucher", "体检套餐优惠券", list_fen=39900, member_fen=19900, subsidy_fen=5000, limit=3
    )
    page = await signed_in(phone_page, world)
    await page.goto("/vouchers")
    await expect(page.locator("[data-testid=orders-empty]")).to_contain_text("您领取、购买或预约的券会显示在这里")
    for _ in range(3):
        await page.goto(f"/offers/{offer_id}")
        await expect(page.locator("[data-testid=pay-at-counter]")).to_have_text("领券免费，到店支付 ¥149。")
        await click_and_wait(page, "[data-testid=claim]")
    codes = [row["code"] for row in await Voucher.select(Voucher.code).order_by(Voucher.id)]

    # The front desk redeems one at its shop (the counter's pages have their own journey).
    staff = (
        await ProviderUser.select(ProviderUser.id)
        .where(ProviderUser.username == world.providers["chaoyang"]["staff"])
        .first()
    )
    location = await Location.select(Location.id).first()
    await vouchers.redeem(await identity.load_principal("provider", staff["id"]), codes[0], location["id"])
    # One ran out of time.
    await Voucher.update({Voucher.status: "expired", Voucher.expires_at: now() - timedelta(days=1)}).where(
        Voucher.code == codes[1]
    )

    await page.goto("/vouchers")
    tabs = page.locator("[data-testid=order-tabs] a")
    await expect(tabs).to_have_text(["待使用1", "已使用", "待评价1", "已过期", "退款/取消"])
    await expect(page.locator("[data-testid=voucher-item]")).to_have_count(1)
    await expect(page.locator("[data-testid=order-price]")).to_have_text("到店支付 ¥149")
    await shots.take(page, "to-use")

    await page.click("[data-testid=tab-used]")
    used = page.locator("[data-testid=voucher-item]")
    await expect(used).to_have_count(1)
    await expect(used.locator("[data-testid=order-when]")).to_have_text(
        re.compile(r"^已于 \d{4}-\d\d-\d\d \d\d:\d\d 使用 · 望京店$")
    )
    await shots.take(page, "used")

    await page.click("[data-testid=tab-to_rate]")
    await expect(page.locator("[data-testid=rate-now]")).to_have_text("去评价")
    await shots.take(page, "to-rate")
    await click_and_wait(page, "[data-testid=rate-now]")
    await expect(page).to_have_url(re.compile(r"/vouchers/\d+#rating-title$"))
    await expect(page.locator("[data-testid=rating]")).to_be_visible()

    await page.goto("/vouchers?tab=expired")
    await expect(page.locator("[data-testid=voucher-item]")).to_contain_text("已过期")
    await shots.take(page, "expired")


async def test_sign_in_from_an_offer_returns_to_it_and_claim_states(phone_page: Page, world, shots):
    offer_id = await builders.offer(world, "voucher", "电影票立减券", list_fen=4500, member_fen=2500)
    sold_out = await builders.offer(world, "voucher", "年卡限量抢购", list_fen=99900, member_fen=59900, stock=0)
    upcoming = await builders.offer(
        world, "voucher", "春节送温暖礼包", list_fen=10000, starts=now() + timedelta(days=5)
    )
    page = phone_page
    await page.goto(f"/offers/{offer_id}")
    await expect(page.locator("[data-testid=claim-sign-in]")).to_have_text("登录后领取")
    await shots.take(page, "offer-anonymous")
    await click_and_wait(page, "[data-testid=claim-sign-in]")
    await expect(page).to_have_url(re.compile(rf"/login\?next=/offers/{offer_id}$"))
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    await expect(page).to_have_url(re.compile(rf"/offers/{offer_id}$"))
    await expect(page.locator("[data-testid=claim]")).to_have_text("立即领取")
    await shots.take(page, "back-on-offer")

    # An offsite "next" is ignored: home instead.
    await page.context.clear_cookies()
    await page.goto("/login?next=//evil.example/x")
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    await expect(page).to_have_url(re.compile(r"127\.0\.0\.1:\d+/$"))

    await page.goto(f"/offers/{sold_out}")
    await expect(page.locator("[data-testid=claim]")).to_have_text("已领完")
    await expect(page.locator("[data-testid=similar] [data-testid=offer-card]").first).to_be_visible()
    await click_and_wait(page, "[data-testid=restock-alert]")
    await expect(page.locator("[data-testid=alert-set]")).to_contain_text("已设置到货提醒")
    await expect(page.locator("[data-testid=restock-alert]")).to_have_count(0)
    await shots.take(page, "sold-out")

    await page.goto(f"/offers/{upcoming}")
    await expect(page.locator("[data-testid=upcoming]")).to_contain_text("即将开始")
    await expect(page.locator("[data-testid=claim]")).to_be_disabled()
    await shots.take(page, "upcoming")
