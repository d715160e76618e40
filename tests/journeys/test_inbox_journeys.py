"""Member journeys of the inbox and the quality loop on a phone (390 × 844, zh-CN): a survey
invitation opens the rating form, the star widget reads "2 星 · 较差" with two filled stars, a
complaint with a photo shows its promised reply time and timeline, the provider's answer
raises the 消息 badge, and opening the message marks it read and the badge drops. Every step
is a screenshot (tests/artifacts/screenshots/test_<journey>-NN-<step>.png) that was looked at."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from evaluation.complaints import services as complaints
from evaluation.ratings import services as ratings
from marketplace.core.jobs import topics
from marketplace.points import services as points
from marketplace.vouchers import actors as voucher_actors
from tests.evaluation.test_quality_loop import events, redeemed_voucher
from tests.inbox.test_complaint_pages import png
from tests.journeys.test_member_journeys import click_and_wait, signed_in
from tests.points.test_ledger import operator
from tests.settlements.helpers import provider_principal

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]

FILLED = "rgb(245, 158, 11)"  # #f59e0b: a chosen star; an empty one has no fill, only its outline


async def fills(page: Page, field: str) -> list[str]:
    return [
        await page.locator(f"[data-testid=star-{field}-{n}] .rate-svg").evaluate("e => getComputedStyle(e).fill")
        for n in range(1, 6)
    ]


async def survey_invitation(world):
    """A used voucher whose survey time came: evaluation asks, the marketplace tells the member."""
    member, voucher = await redeemed_voucher(world)
    assert await ratings.send_due_surveys(datetime.now(UTC) + timedelta(hours=3)) == 1
    for event_id, payload in await events(topics.SurveyDue.topic):
        await voucher_actors.on_survey_due(event_id, payload)
    return member, voucher


async def test_a_survey_invitation_opens_the_rating_form_and_the_stars_read_clearly(phone_page: Page, world, shots):
    _, voucher = await survey_invitation(world)
    page = await signed_in(phone_page, world)
    badge = page.locator("[data-testid=unread-badge]")
    await expect(badge).to_have_text("1")
    await shots.take(page, "home-badge")

    await click_and_wait(page, "[data-testid=tab-messages]")
    message = page.locator("[data-testid=message]")
    await expect(message).to_have_count(1)
    await expect(message.locator("[data-testid=message-title]")).to_have_text("这次体验怎么样？")
    await expect(message.locator("[data-testid=message-body]")).to_contain_text(f"为“{voucher.offer_title_zh}”打个分吧")
    await expect(message.locator("[data-testid=unread-dot]")).to_be_visible()
    await shots.take(page, "inbox")

    await click_and_wait(page, "[data-testid=message] a")
    await expect(page).to_have_url(re.compile(rf"/vouchers/{voucher.id}#rating"))
    await expect(page.locator("[data-testid=rating-form]")).to_be_visible()
    await expect(badge).to_have_count(0)  # opened, so read
    words = page.locator("[data-testid=rate-words-overall] .rate-word:visible")
    await expect(words).to_have_text("请点选星级")
    assert await fills(page, "overall") == ["none"] * 5
    await shots.take(page, "rating-form")

    await page.click("[data-testid=star-overall-2]")
    await expect(words).to_have_text("2 星 · 较差")
    assert await fills(page, "overall") == [FILLED, FILLED, "none", "none", "none"]
    box = await page.locator("[data-testid=star-overall-2]").bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    await shots.take(page, "two-stars")

    await page.click("[data-testid=rating-details]")
    await page.click("[data-testid=star-attitude-4]")
    await expect(page.locator("[data-testid=rate-words-attitude] .rate-word:visible")).to_have_text("4 星 · 满意")
    await expect(words).to_have_text("2 星 · 较差")  # the details leave the overall score alone
    await page.fill("#comment", "等候时间有点长")
    await shots.take(page, "details")

    await click_and_wait(page, "[data-testid=rating-submit]")
    await expect(page.locator("[data-testid=rating-saved]")).to_have_text("评价成功，感谢您的反馈！")
    await expect(words).to_have_text("2 星 · 较差")  # the saved score, still editable for 7 days
    assert await fills(page, "overall") == [FILLED, FILLED, "none", "none", "none"]
    await shots.take(page, "saved")

    # The same widget in English: the words follow the language, the stars stay as chosen.
    await click_and_wait(page, "[data-testid=lang-switch]")
    await expect(words).to_have_text("2 stars · Poor")
    await expect(page.locator("[data-testid=tab-messages]")).to_contain_text("Messages")
    assert await fills(page, "overall") == [FILLED, FILLED, "none", "none", "none"]
    await shots.take(page, "english")


async def test_the_providers_answer_raises_the_badge_and_opening_it_reads_it(phone_page: Page, world, shots, tmp_path):
    member, voucher = await redeemed_voucher(world)
    page = await signed_in(phone_page, world)
    await page.goto(f"/vouchers/{voucher.id}#complaints")
    await page.click("[data-testid=complaint-open]")
    await page.select_option("#category", "safety_hygiene")
    await page.fill("#complaint-text", "餐具上有污渍，拍了照片")
    picture = tmp_path / "dirty.png"
    picture.write_bytes(png(1600, 1200))
    await expect(page.locator("[data-testid=photo-name]")).to_have_text("未选择照片")
    await page.set_input_files("[data-testid=complaint-photo-input]", str(picture))
    await expect(page.locator("[data-testid=photo-name]")).to_have_text("dirty.png")
    await shots.take(page, "complaint-form")
    await click_and_wait(page, "[data-testid=complaint-submit]")
    await expect(page.locator("[data-testid=complaint-sent]")).to_have_text("投诉已提交。")
    complaint = page.locator("[data-testid=my-complaint]")
    await expect(complaint.locator("[data-testid=respond-by]")).to_have_text(
        re.compile(r"^商家将在 \d{4}-\d\d-\d\d \d\d:\d\d 前答复$")
    )
    await expect(complaint.locator("[data-testid=complaint-photo] img")).to_be_visible()
    await expect(page.locator("[data-testid=complaint-open]")).to_have_count(0)  # one open complaint at a time
    await expect(page.locator("[data-testid=unread-badge]")).to_have_count(0)
    await shots.take(page, "complaint-sent")

    # Meanwhile the union grants points; then the provider answers in its portal.
    grant = await points.create_grant(await operator(world), world.nodes["chaoyang"], None, 200, "冬季送温暖")
    await points.apply_grant(grant.id)
    [filed] = await complaints.mine(member, voucher.id)
    await complaints.answer(await provider_principal(world), filed.id, "非常抱歉，餐具已全部更换，欢迎再次光临。")
    for event_id, payload in await events(topics.ComplaintAnswered.topic):
        await voucher_actors.on_complaint_news(event_id, payload, "complaint_answered")

    await page.goto("/")
    badge = page.locator("[data-testid=unread-badge]")
    await expect(badge).to_have_text("2")
    await shots.take(page, "home-badge")

    await click_and_wait(page, "[data-testid=tab-messages]")
    messages = page.locator("[data-testid=message]")
    await expect(messages.locator("[data-testid=message-title]")).to_have_text(
        [re.compile(r"已答复您的投诉$"), "您获得了 200 积分"]
    )
    await expect(page.locator("[data-testid=unread-dot]")).to_have_count(2)
    await shots.take(page, "inbox")

    await click_and_wait(page, "[data-testid=message][data-kind=complaint_answered] a")
    await expect(page).to_have_url(re.compile(rf"/vouchers/{voucher.id}#complaint-{filed.id}$"))
    await expect(complaint.locator("[data-testid=complaint-answer]")).to_have_text(
        "非常抱歉，餐具已全部更换，欢迎再次光临。"
    )
    await expect(badge).to_have_text("1")  # the answer was read; the points message waits
    await shots.take(page, "answer")

    await click_and_wait(page, "[data-testid=tab-messages]")
    await expect(page.locator("[data-testid=unread-dot]")).to_have_count(1)
    await click_and_wait(page, "[data-testid=read-all]")
    await expect(page.locator("[data-testid=done]")).to_have_text("全部消息已标为已读。")
    await expect(page.locator("[data-testid=unread-dot]")).to_have_count(0)
    await expect(badge).to_have_count(0)
    await shots.take(page, "all-read")
