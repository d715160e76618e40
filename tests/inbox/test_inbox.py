"""The member's inbox (消息): the list in the reader's language, the unread badge on every
member page, opening a message marks it read and goes where it points, 全部已读, and nobody
opens another member's message. The producers: a complaint's answer and resolution reach
the member through the outbox, once; a booking is reminded the day before, once."""

from datetime import datetime, timedelta

import pytest

from evaluation.complaints import services as complaints
from evaluation.schemas import ComplaintInput
from marketplace.core import notifications
from marketplace.core.db import engine
from marketplace.core.federation import services as federation
from marketplace.core.jobs import topics
from marketplace.vouchers import actors as voucher_actors, services as vouchers
from tests.evaluation.test_quality_loop import events, redeemed_voucher
from tests.evaluation.test_quality_pages import member_login
from tests.journeys import builders
from tests.points.test_ledger import operator
from tests.providers.test_pages import HTML, _post
from tests.settlements.helpers import provider_principal

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def tell(member_id: int, kind: str, params: dict | None = None, link: str | None = None) -> None:
    async with engine().transaction() as transaction:
        await notifications.add(transaction.connection, [notifications.Message(member_id, kind, params or {}, link)])


async def unread(member_id: int) -> int:
    rows = await engine().run_ddl(
        f"SELECT count(*) AS n FROM notification WHERE member = {member_id} AND read_at IS NULL"
    )
    return rows[0]["n"]


async def test_the_inbox_lists_badges_opens_and_marks_all_read(client, world):
    member_id = world.members["chaoyang"][0]
    await tell(member_id, "points_expiring", {"points": "80", "date": "2027-01-10"}, "/points")
    await tell(member_id, "rating_survey", link="/vouchers/1#rating")
    await tell(
        member_id,
        "refund_sent",
        {"amount": "¥20", "offer": "游泳", "date": "2026-12-04", "days": "5–10"},
        "https://evil.example/",
    )
    await member_login(client, world)

    home = await client.get("/", headers=HTML)
    assert 'data-testid="unread-badge">3<' in home.text and "消息" in home.text
    page = await client.get("/messages", headers=HTML)
    assert page.text.count('data-testid="message"') == 3 and page.text.count('data-testid="unread-dot"') == 3
    assert "积分即将过期" in page.text and "这次体验怎么样？" in page.text and "退款已发出" in page.text
    assert "evil.example" not in page.text  # a stored link off-site is never offered

    first = (
        await engine().run_ddl(f"SELECT id FROM notification WHERE member = {member_id} AND kind = 'points_expiring'")
    )[0]["id"]
    opened = await client.get(f"/messages/{first}", headers=HTML, follow_redirects=False)
    assert opened.status_code in (302, 303) and opened.headers["location"] == "/points"
    assert await unread(member_id) == 2
    assert 'data-testid="unread-badge">2<' in (await client.get("/messages", headers=HTML)).text

    done = await _post(client, "/messages/read-all", {})
    assert done.status_code in (302, 303)
    assert await unread(member_id) == 0
    page = await client.get("/messages?done=read", headers=HTML)
    assert "unread-badge" not in page.text and "全部消息已标为已读" in page.text


async def test_nobody_opens_another_members_message(client, world):
    other = world.members["haidian"][0]
    await tell(other, "welcome")
    message_id = (await engine().run_ddl(f"SELECT id FROM notification WHERE member = {other}"))[0]["id"]
    await member_login(client, world)
    refused = await client.get(f"/messages/{message_id}", headers=HTML, follow_redirects=False)
    assert refused.status_code == 404
    assert await unread(other) == 1


async def test_a_complaints_answer_and_resolution_reach_the_member_once(world):
    member, voucher = await redeemed_voucher(world)
    complaint = await vouchers.complain(
        member, voucher.id, ComplaintInput(category="poor_service", text="等了一个小时")
    )
    await complaints.answer(await provider_principal(world), complaint.id, "非常抱歉，已安排专人回访。")
    [(event_id, payload)] = await events(topics.ComplaintAnswered.topic)
    assert payload["member_id"] == member.id and payload["voucher_id"] == voucher.id
    assert await voucher_actors.on_complaint_news(event_id, payload, "complaint_answered")
    assert not await voucher_actors.on_complaint_news(event_id, payload, "complaint_answered")  # redelivered
    rows = await engine().run_ddl(
        f"SELECT kind, params, link FROM notification WHERE member = {member.id} AND kind LIKE 'complaint%'"
    )
    assert len(rows) == 1 and rows[0]["link"] == f"/vouchers/{voucher.id}#complaint-{complaint.id}"
    title, _ = notifications.render(rows[0]["kind"], rows[0]["params"])
    assert title.endswith("已答复您的投诉") and payload["provider_name"] in title

    await complaints.close(await operator(world), complaint.id, "已核实，商家已道歉并整改。")
    [(event_id, payload)] = await events(topics.ComplaintClosed.topic)
    assert await voucher_actors.on_complaint_news(event_id, payload, "complaint_closed")
    rows = await engine().run_ddl(
        f"SELECT kind, params FROM notification WHERE member = {member.id} AND kind = 'complaint_closed'"
    )
    title, body = notifications.render(rows[0]["kind"], rows[0]["params"])
    assert title == "您的投诉已处理完毕" and body.startswith(f"工会已处理完您对 {payload['provider_name']} 的投诉")


async def test_a_booking_is_reminded_the_day_before_once(world):
    from marketplace.core.jobs import periodic

    assert voucher_actors.remind_bookings in [actor for actor, _ in periodic.jobs()]
    offer_id = await builders.offer(world, "slot", "职工之家理疗预约", list_fen=12000)
    day = builders.last_day(3)
    slot_id = await builders.slot(offer_id, day, "19:00", "20:00")
    member = await federation.member_principal(world.members["chaoyang"][0])
    voucher = await vouchers.claim(member, offer_id, slot_id)
    evening_before = datetime.combine(day - timedelta(days=1), datetime.min.time(), tzinfo=builders.SHANGHAI)
    assert await vouchers.remind_bookings(evening_before - timedelta(hours=1)) == 0  # two days before
    assert await vouchers.remind_bookings(evening_before + timedelta(hours=9)) == 1  # the day before, 09:00
    assert await vouchers.remind_bookings(evening_before + timedelta(hours=20)) == 0  # once
    rows = await engine().run_ddl(
        f"SELECT kind, params, link FROM notification WHERE member = {member.id} AND kind = 'booking_reminder'"
    )
    assert len(rows) == 1 and rows[0]["link"] == f"/vouchers/{voucher.id}"
    title, body = notifications.render(rows[0]["kind"], rows[0]["params"])
    assert title == "明天有您的预约" and body == f"职工之家理疗预约，{day:%Y-%m-%d} 19:00–20:00。到店时出示券码即可。"


async def test_a_cancelled_booking_is_not_reminded(world):
    offer_id = await builders.offer(world, "slot", "职工之家理疗预约", list_fen=12000)
    day = builders.last_day(2)
    slot_id = await builders.slot(offer_id, day, "09:30", "10:30")
    member = await federation.member_principal(world.members["chaoyang"][0])
    voucher = await vouchers.claim(member, offer_id, slot_id)
    await vouchers.cancel(member, voucher.id)
    day_before = datetime.combine(day - timedelta(days=1), datetime.min.time(), tzinfo=builders.SHANGHAI)
    assert await vouchers.remind_bookings(day_before + timedelta(hours=10)) == 0
