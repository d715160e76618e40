"""A fair draw in a real browser: the operator creates it in the console (a refusal at its
field first, 1440x900), a member enters on a phone (390x844), the operator closes the
entries and draws (with a confirmation), and the member reads the 公示, recomputes the
draw on the phone and finds the result in Messages. Screenshots in tests/artifacts/screenshots/."""

import re
from datetime import timedelta

import pytest
from playwright.async_api import expect

from marketplace.core import dates
from marketplace.core.federation import services as federation
from marketplace.draws import services as draws
from tests.browser.conftest import _context, _watch
from tests.browser.test_login import sign_in
from tests.draws.test_draws import members, new_draw
from tests.factories import PASSWORD, now
from tests.journeys.test_accessibility import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]
CONSOLE = {"viewport": {"width": 1440, "height": 900}}


def _local(moment) -> str:
    return dates.local(moment).strftime("%Y-%m-%dT%H:%M")


async def test_a_member_enters_a_draw_reads_the_notice_and_recomputes_it(
    browser, live_server, phone_page, world, shots
):
    offer_id = world.offers["public"]
    context = await _context(browser, live_server, CONSOLE)
    console = await context.new_page()
    _watch(console)
    try:
        await console.goto("/console/login")
        await sign_in(console, world.operators["beijing"], PASSWORD)
        await console.goto("/console/draws")
        # The offer is found by its title and chosen, never typed as a number.
        await console.fill("#offer-q", "健身月卡public")
        # The results come from catalog's one picker route (GET /console/offers/picker?pick=one).
        await expect(
            console.locator(f"[data-testid=offer-results] input[type=radio][value='{offer_id}']")
        ).to_be_visible()
        await shots.take(console, "console-offer-picker")
        await console.check(f"[data-testid=offer-results] input[value='{offer_id}']")
        await expect(console.locator(f"[data-testid=offer-chosen] input[value='{offer_id}']")).to_be_checked()
        await console.fill("#opens_at", _local(now() - timedelta(minutes=5)))
        await console.fill("#closes_at", _local(now() + timedelta(days=2)))
        await console.fill("#places", "500")  # more than the 100 left
        await console.fill("[data-testid=weight-hardship]", "3")
        await console.fill("[data-testid=weight-women]", "2")  # the member's group: the page recomputes a weight
        async with console.expect_navigation():
            await console.click("[data-testid=draw-create]")
        await expect(console.locator("#places ~ [data-testid=field-error]")).to_contain_text("剩余库存")
        await expect(console.locator("[data-testid=form-error]")).to_contain_text("名额")
        # The refused form keeps the chosen offer, chosen.
        await expect(console.locator(f"[data-testid=offer-chosen] input[value='{offer_id}']")).to_be_checked()
        await shots.take(console, "console-refused")
        await console.fill("#places", "2")
        async with console.expect_navigation():
            await console.click("[data-testid=draw-create]")
        await expect(console).to_have_url(re.compile(r"/console/draws/\d+\?done=created$"))
        draw_id = int(re.search(r"/console/draws/(\d+)", console.url).group(1))

        member = phone_page
        await member.goto("/login")
        await sign_in(member, world.members["chaoyang"][1], PASSWORD)
        await member.goto(f"/offers/{offer_id}")
        await expect(member.locator("[data-testid=by-draw]")).to_contain_text("抽签")
        await shots.take(member, "offer-by-draw")
        async with member.expect_navigation():
            await member.click("[data-testid=draw-link]")
        await expect(member.locator("[data-testid=seed-hash]")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
        await expect(member.locator("[data-testid=seed]")).to_have_text("报名截止后公开")
        async with member.expect_navigation():
            await member.click("[data-testid=draw-enter]")
        await expect(member.locator("[data-testid=draw-done]")).to_contain_text("报名成功")
        await expect(member.locator("[data-testid=draw-mine]")).to_contain_text("你的抽签号")
        await shots.take(member, "entered")
        committed = (await member.locator("[data-testid=seed-hash]").inner_text()).strip()

        for person in await members(world, 5):  # others enter too
            await draws.enter(person, draw_id)

        await console.goto(f"/console/draws/{draw_id}")
        await expect(console.locator("[data-testid=draw-entries]")).to_have_text("6")
        await console.click("[data-testid=draw-run-open]")  # asks first
        await expect(console.locator("[data-testid=draw-run]")).to_be_visible()
        await shots.take(console, "run-confirm")
        async with console.expect_navigation():
            await console.click("[data-testid=draw-run]")
        await expect(console.locator("[data-testid=draw-done]")).to_contain_text("已开奖")
        await shots.take(console, "drawn")

        await member.goto(f"/draws/{draw_id}")
        await expect(member.locator("[data-testid=seed-hash]")).to_have_text(committed)  # the same commitment
        await expect(member.locator("[data-testid=seed]")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
        await expect(member.locator("[data-testid=draw-winners] [data-testid=draw-person]")).to_have_count(2)
        await expect(member.locator("[data-testid=draw-waitlist] [data-testid=draw-person]")).to_have_count(4)
        notice = await member.locator("[data-testid=draw-notice]").inner_text()
        assert "王*芳" in notice and "王小芳" not in notice  # masked, never the full name
        await member.click("[data-testid=draw-verify]")
        result = member.locator("[data-testid=draw-verify-result]")
        await expect(result).to_have_attribute("data-outcome", "same")
        await expect(result).to_contain_text("结果一致")
        await shots.take(member, "notice-recomputed")
        serious = [v for v in await axe_violations(member) if v["impact"] in ("serious", "critical")]
        assert not serious, serious

        mine = await draws.my_entry(await federation.member_principal(world.members["chaoyang"][0]), draw_id)
        await member.goto("/messages")
        await expect(member.locator("body")).to_contain_text("你已报名抽签")
        await expect(member.locator("body")).to_contain_text(
            "恭喜中签" if mine["status"] == "offered" else "你进入了抽签候补"
        )
        await shots.take(member, "messages")
        if mine["status"] == "offered":  # the winner claims through the normal claim
            await member.goto(f"/draws/{draw_id}")
            async with member.expect_navigation():
                await member.click("[data-testid=draw-claim]")
            await expect(member).to_have_url(re.compile(r"/vouchers/\d+\?done=claimed$"))
            await shots.take(member, "claimed")
    finally:
        await context.close()
    assert not console.problems, console.problems


async def test_a_member_withdraws_an_entry_after_confirming_and_enters_again(phone_page, world, shots):
    draw_id = await new_draw(world)
    member = phone_page
    await member.goto("/login")
    await sign_in(member, world.members["chaoyang"][1], PASSWORD)
    await member.goto(f"/draws/{draw_id}")
    async with member.expect_navigation():
        await member.click("[data-testid=draw-enter]")
    await expect(member.locator("[data-testid=draw-done]")).to_contain_text("报名成功")
    # Withdrawing asks first: the button only opens the confirmation.
    await expect(member.locator("[data-testid=draw-withdraw]")).to_be_hidden()
    await member.click("[data-testid=draw-withdraw-open]")
    await expect(member.locator("[data-testid=draw-withdraw]")).to_be_visible()
    await shots.take(member, "withdraw-confirm")
    async with member.expect_navigation():
        await member.click("[data-testid=draw-withdraw]")
    await expect(member.locator("[data-testid=draw-done]")).to_contain_text("已退出抽签")
    await expect(member.locator("[data-testid=draw-withdrawn]")).to_be_visible()
    await expect(member.locator("[data-testid=draw-entries]")).to_have_text("0")
    await shots.take(member, "withdrawn")
    serious = [v for v in await axe_violations(member) if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    async with member.expect_navigation():  # re-entry while the window is open
        await member.click("[data-testid=draw-enter]")
    await expect(member.locator("[data-testid=draw-entries]")).to_have_text("1")
    await member.goto("/messages")
    await expect(member.locator("body")).to_contain_text("你已退出抽签")


async def test_an_operator_sets_the_notice_period_of_draws_on_the_policy_form(browser, live_server, world, shots):
    context = await _context(browser, live_server, CONSOLE)
    console = await context.new_page()
    _watch(console)
    try:
        await console.goto("/console/login")
        await sign_in(console, world.operators["beijing"], PASSWORD)
        await console.goto("/console/policy")
        field = console.locator("[data-testid='policy-draws.notice_days']")
        await expect(field).to_have_value("30")
        await field.fill("400")
        async with console.expect_navigation():
            await console.click("[data-testid=policy-check]")
        await expect(console.locator("#f-draws\\.notice_days ~ [data-testid=field-error]")).to_contain_text(
            "请输入 1 到 365 之间的整数"
        )
        await console.locator("[data-testid='policy-draws.notice_days']").scroll_into_view_if_needed()
        await shots.take(console, "policy-notice-refused")
        await console.locator("[data-testid='policy-draws.notice_days']").fill("14")
        async with console.expect_navigation():
            await console.click("[data-testid=policy-check]")
        async with console.expect_navigation():
            await console.click("[data-testid=policy-publish]")
        await expect(console.locator("[data-testid=policy-published]")).to_be_visible()
        await expect(console.locator("[data-testid='policy-draws.notice_days']")).to_have_value("14")
    finally:
        await context.close()
    assert not console.problems, console.problems
