"""Messages of the points ledger: expiry reminders 90, 30 and 7 days before (each once, a lot
first seen late gets only the reminders still ahead) and the announcement of a grant."""

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.core import notifications
from marketplace.core.db import engine
from marketplace.points import services as points
from tests.points.test_ledger import give, operator

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

START = datetime(2026, 1, 10, 4, 0, tzinfo=UTC)  # lots given then expire 365 days later


async def reminders(member_id: int) -> list[tuple[str, str]]:
    rows = await engine().run_ddl(
        f"SELECT kind, params FROM notification WHERE member = {member_id} AND kind = 'points_expiring' ORDER BY id"
    )
    return [notifications.render(row["kind"], row["params"]) for row in rows]


async def test_each_reminder_goes_once_at_90_30_and_7_days_before(world):
    member_id = world.members["chaoyang"][0]
    await give(member_id, 1200, "spring", now=START)
    expires = START + timedelta(days=365)

    def days_before(days: float) -> datetime:
        return expires - timedelta(days=days)

    assert await points.remind_expiring(days_before(120)) == 0  # too early for any
    assert await points.remind_expiring(days_before(89.5)) == 1  # the 90-day reminder
    assert await points.remind_expiring(days_before(89)) == 0
    assert await points.remind_expiring(days_before(60)) == 0
    assert await points.remind_expiring(days_before(29.9)) == 1  # the 30-day reminder
    assert await points.remind_expiring(days_before(29)) == 0
    assert await points.remind_expiring(days_before(6.5)) == 1  # the 7-day reminder
    assert await points.remind_expiring(days_before(6)) == 0
    assert await points.remind_expiring(days_before(0.5)) == 0  # nothing after the last one
    assert await points.remind_expiring(expires + timedelta(days=1)) == 0  # nor once expired

    told = await reminders(member_id)
    assert len(told) == 3
    assert {title for title, _ in told} == {"积分即将过期"}
    # 365 days after 2026-01-10 12:00 in Shanghai: the last day is 2027-01-10.
    assert all(body == "您有 1,200 积分将于 2027-01-10 过期，请在此之前使用。" for _, body in told), told


async def test_a_lot_first_seen_late_gets_only_the_reminders_ahead_and_lots_add_up(world):
    member_id = world.members["chaoyang"][0]
    await give(member_id, 80, "late", now=START)
    await give(member_id, 20, "late-too", now=START + timedelta(hours=1))
    expires = START + timedelta(days=365)
    # The job first runs 20 days before: one 30-day reminder for both lots, no late 90-day one.
    assert await points.remind_expiring(expires - timedelta(days=20)) == 1
    assert await points.remind_expiring(expires - timedelta(days=19)) == 0
    assert await points.remind_expiring(expires - timedelta(days=3)) == 1
    told = await reminders(member_id)
    assert len(told) == 2 and all(body.startswith("您有 100 积分") for _, body in told), told


async def test_spent_lots_are_not_reminded(world):
    member_id = world.members["chaoyang"][0]
    await give(member_id, 50, "spent", now=START)
    await engine().run_ddl(f"UPDATE points_lot SET remaining = 0 WHERE member = {member_id}")
    assert await points.remind_expiring(START + timedelta(days=300)) == 0


async def test_a_grant_tells_each_member_once(world):
    beijing = await operator(world)
    grant = await points.create_grant(beijing, world.nodes["chaoyang"], None, 500, "春节慰问积分")
    await points.apply_grant(grant.id)
    await points.apply_grant(grant.id)  # a redelivered job tells nobody twice
    member_id = world.members["chaoyang"][0]
    rows = await engine().run_ddl(
        f"SELECT kind, params, link FROM notification WHERE member = {member_id} AND kind = 'points_granted'"
    )
    assert len(rows) == 1 and rows[0]["link"] == "/points"
    title, body = notifications.render(rows[0]["kind"], rows[0]["params"])
    assert title == "您获得了 500 积分"
    assert "春节慰问积分" in body
    others = await engine().run_ddl(
        f"SELECT count(*) AS n FROM notification WHERE member = {world.members['haidian'][0]} "
        "AND kind = 'points_granted'"
    )
    assert others[0]["n"] == 0


async def test_an_operators_correction_is_told_with_its_reason(world):
    member_id = world.members["chaoyang"][0]
    beijing = await operator(world)
    await points.adjust(beijing, member_id, 300, "活动补发积分")
    await points.adjust(beijing, member_id, -100, "重复发放，予以扣回")
    rows = await engine().run_ddl(
        f"SELECT kind, params FROM notification WHERE member = {member_id} AND kind LIKE 'points_%' ORDER BY id"
    )
    told = [notifications.render(row["kind"], row["params"]) for row in rows]
    assert told == [
        ("已增加 300 积分", "工会为您增加 300 积分：活动补发积分。当前余额 300 积分。"),
        ("已扣减 100 积分", "工会扣减您 100 积分：重复发放，予以扣回。当前余额 200 积分。"),
    ]
