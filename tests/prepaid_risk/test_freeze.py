"""Prepaid Guard's risk freeze: the enforcement loop (probation, an open case), an operator's
flag and the periodic run's signals (lease end, collapsing redemptions, a complaint spike,
missed settlements) stop a provider's prepaid sales at once, each freeze and lift announced
on the outbox, the operator's acts audited, and the provider told in its portal."""

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from evaluation.enforcement import cases, freeze, policy
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid
from providers import services as providers
from tests.console.helpers import HTML, post, web_login
from tests.evaluation.test_quality_loop import bad_scorecard, events
from tests.points.test_ledger import operator
from tests.settlements.helpers import provider_principal

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
_vouchers = itertools.count(900_000)


async def value(sql: str, *args):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


async def reasons_open(provider_id: int) -> list[str]:
    return [f.reason for f in await freeze.open_freezes(provider_id)]


async def redemptions(world, provider_id: int, days_ago: list[float]) -> None:
    category = await value("SELECT id FROM category LIMIT 1")
    async with engine().transaction() as transaction:
        await transaction.connection.executemany(
            "INSERT INTO redemption (voucher, provider, offer, category, member, redeemed_at, survey_due_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $6)",
            [
                (
                    next(_vouchers),
                    provider_id,
                    world.offers["public"],
                    category,
                    world.members["chaoyang"][0],
                    NOW - timedelta(days=days),
                )
                for days in days_ago
            ],
        )


async def complaints(world, provider_id: int, days_ago: list[float]) -> None:
    async with engine().transaction() as transaction:
        await transaction.connection.executemany(
            "INSERT INTO complaint (voucher, provider, member, category, text, status, created_at, respond_by) "
            "VALUES ($1, $2, $3, 'poor_service', '教练离职，课程取消', 'open', $4, $4::timestamptz + interval '3 days')",
            [(next(_vouchers), provider_id, world.members["chaoyang"][0], NOW - timedelta(days=d)) for d in days_ago],
        )


def test_the_signals_thresholds():
    # 8 weeks at 10 a week (80), then 2 weeks: 5 in all (2.5 a week) is below 30 % of 10; 6 (3 a week) is not.
    assert freeze.redemption_collapse(5, 80) == {"recent_weekly": 2.5, "baseline_weekly": 10.0}
    assert freeze.redemption_collapse(6, 80) is None
    assert freeze.redemption_collapse(0, 30) is None  # under 5 a week before: too few to say
    # Complaints: 2 a week before (16 in 8 weeks, 4 per 2 weeks): 12 now is 3 ×; 11 is not; 4 is never a spike.
    assert freeze.complaint_spike(12, 16) == {"recent": 12, "baseline": 4.0}
    assert freeze.complaint_spike(11, 16) is None
    assert freeze.complaint_spike(4, 0) is None and freeze.complaint_spike(5, 0) is not None


async def test_an_operators_flag_stops_sales_at_once_and_lifting_resumes_them_both_audited(world):
    provider = world.providers["chaoyang"]["id"]
    chaoyang = await operator(world, "chaoyang")
    await events("prepaid.sales_frozen")
    assert await freeze.sales_frozen(provider) is None
    with pytest.raises(Invalid) as short:
        await freeze.flag(chaoyang, provider, "搬家")
    assert short.value.field == "reason"
    freeze_id = await freeze.flag(chaoyang, provider, "门店将于下月搬迁，新址未定")
    found = await freeze.sales_frozen(provider)
    assert found is not None and found.reason == "operator" and found.note == "门店将于下月搬迁，新址未定"
    assert [payload for _, payload in await events("prepaid.sales_frozen")] == [
        {"provider_id": provider, "reason": "operator"}
    ]
    with pytest.raises(Conflict):
        await freeze.flag(chaoyang, provider, "再次标记同一个商家的预付销售")
    # Another union's operator does not see it.
    with pytest.raises(Exception) as outside:
        await freeze.flag(await operator(world, "hebei"), provider, "这个商家不在我的管辖范围内")
    assert getattr(outside.value, "code", "") == "provider_not_found"
    await freeze.lift_by_operator(chaoyang, freeze_id, "已核实新址，租约已签三年")
    assert await freeze.sales_frozen(provider) is None
    assert [payload for _, payload in await events("prepaid.sales_resumed")] == [
        {"provider_id": provider, "reason": "operator"}
    ]
    with pytest.raises(Conflict):
        await freeze.lift_by_operator(chaoyang, freeze_id, "已核实新址，租约已签三年")
    audited = await engine().run_ddl(
        f"SELECT action, reason FROM audit_event WHERE subject_kind = 'provider' AND subject_id = {provider} ORDER BY id"
    )
    assert [(row["action"], row["reason"]) for row in audited] == [
        ("prepaid.sales_frozen", "门店将于下月搬迁，新址未定"),
        ("prepaid.sales_resumed", "已核实新址，租约已签三年"),
    ]


async def test_probation_and_an_open_case_freeze_at_once_and_lift_when_they_clear(world):
    provider = world.providers["chaoyang"]["id"]
    await bad_scorecard(provider)
    now = datetime.now(UTC)
    assert [await policy.evaluate_provider(provider, now) for _ in range(2)] == ["watch", "warning"]
    assert await freeze.sales_frozen(provider) is None
    assert await policy.evaluate_provider(provider, now) == "probation"
    assert await reasons_open(provider) == ["probation"]  # in the transaction that moved it
    assert await policy.evaluate_provider(provider, now + timedelta(days=31)) == "probation"
    assert await reasons_open(provider) == ["probation", "delisting_case"]
    (case,) = await cases.case_queue(await operator(world, "chaoyang"))
    with pytest.raises(Conflict):  # an enforcement freeze follows its cause, not a button
        await freeze.lift_by_operator(
            await operator(world, "chaoyang"), (await freeze.open_freezes(provider))[1].id, "我想手动解除这一项暂停"
        )
    await cases.decide(await operator(world, "chaoyang"), case.id, "keep", "已约谈，给予一次整改机会")
    assert await reasons_open(provider) == ["probation"]
    # The figures recover: out of probation, the freeze lifts and sales resume.
    await engine().run_ddl(f"UPDATE provider_scorecard SET satisfaction = 4.6 WHERE provider = {provider}")
    await events("prepaid.sales_resumed")
    assert await policy.evaluate_provider(provider, now + timedelta(days=32)) == "good"
    assert await freeze.sales_frozen(provider) is None
    assert [payload for _, payload in await events("prepaid.sales_resumed")] == [
        {"provider_id": provider, "reason": "probation"}
    ]


async def test_a_lease_ending_within_60_days_freezes_and_a_later_one_does_not(world):
    provider = world.providers["chaoyang"]["id"]
    owner = await provider_principal(world)
    await providers.set_lease_end(owner, (NOW + timedelta(days=90)).date())
    assert await freeze.evaluate_provider(provider, NOW) == []
    await providers.set_lease_end(owner, (NOW + timedelta(days=45)).date())
    assert await freeze.evaluate_provider(provider, NOW) == ["lease_ending"]
    (found,) = await freeze.open_freezes(provider)
    assert found.detail == {"lease_ends_on": "2027-01-19", "days_left": 45}
    with pytest.raises(Invalid) as wrong:
        await providers.set_lease_end(owner, date(1999, 1, 1))
    assert wrong.value.field == "lease_ends_on"
    # An operator who saw the renewed lease lifts it; the run does not raise it again for 30 days.
    await freeze.lift_by_operator(await operator(world, "chaoyang"), found.id, "已看到续签的租赁合同")
    assert await freeze.evaluate_provider(provider, NOW + timedelta(days=1)) == []


async def test_collapsing_redemptions_freeze(world):
    provider = world.providers["chaoyang"]["id"]
    # 10 a week for the 8 weeks before the last two, then 2 in two weeks.
    await redemptions(world, provider, [14.5 + i * 0.7 for i in range(80)])
    await redemptions(world, provider, [1, 3, 5, 7, 9, 11])  # 3 a week: 30 %, not below it
    assert await freeze.evaluate_provider(provider, NOW) == []
    await engine().run_ddl(
        f"DELETE FROM redemption WHERE provider = {provider} AND redeemed_at > '{(NOW - timedelta(days=4)).isoformat()}'"
    )
    assert await freeze.evaluate_provider(provider, NOW) == ["redemptions_collapsed"]
    (found,) = await freeze.open_freezes(provider)
    assert found.detail == {"recent_weekly": 2.0, "baseline_weekly": 10.0}


async def test_a_complaint_spike_freezes(world):
    provider = world.providers["chaoyang"]["id"]
    await complaints(world, provider, [20 + i * 3 for i in range(16)])  # 2 a week before
    await complaints(world, provider, [1 + i for i in range(11)])
    assert await freeze.evaluate_provider(provider, NOW) == []
    await complaints(world, provider, [0.5])
    assert await freeze.evaluate_provider(provider, NOW) == ["complaint_spike"]


async def test_missed_settlements_freeze(world):
    provider = world.providers["chaoyang"]["id"]

    async def statement(period: str, approved_days_ago: int) -> None:
        await value(
            "INSERT INTO settlement_statement (provider, period, period_start, period_end, status, voucher_count, "
            "subsidy_fen, paid_fen, total_fen, drafted_at, approved_at) "
            "VALUES ($1, $2, $3, $3::timestamptz + interval '30 days', 'approved', 1, 3000, 0, 3000, $3, $4)",
            provider,
            period,
            NOW - timedelta(days=60),
            NOW - timedelta(days=approved_days_ago),
        )

    await statement("2026-09", 40)
    await statement("2026-10", 5)  # approved lately: not missed yet
    assert await freeze.evaluate_provider(provider, NOW) == []
    await engine().run_ddl(
        f"UPDATE settlement_statement SET approved_at = approved_at - interval '20 days' WHERE provider = {provider}"
    )
    assert await freeze.evaluate_provider(provider, NOW) == ["missed_settlements"]
    (found,) = await freeze.open_freezes(provider)
    assert found.detail == {"periods": ["2026-09", "2026-10"]}


async def test_two_freezes_announce_once_and_the_last_lift_resumes(world):
    provider = world.providers["chaoyang"]["id"]
    await events("prepaid.sales_frozen")
    await freeze.flag(await operator(world, "chaoyang"), provider, "教练团队集体离职，课程无法保证")
    await providers.set_lease_end(await provider_principal(world), (NOW + timedelta(days=10)).date())
    assert sorted(await freeze.evaluate_provider(provider, NOW)) == ["lease_ending", "operator"]
    assert len(await events("prepaid.sales_frozen")) == 1
    first, second = await freeze.open_freezes(provider)
    await freeze.lift_by_operator(await operator(world, "chaoyang"), first.id, "新教练团队已经到岗并开始授课")
    assert await events("prepaid.sales_resumed") == [] and await freeze.sales_frozen(provider) is not None
    await freeze.lift_by_operator(await operator(world, "chaoyang"), second.id, "已看到续签的租赁合同")
    assert len(await events("prepaid.sales_resumed")) == 1


async def test_the_console_page_flags_with_a_confirmation_and_the_provider_sees_why(client, world):
    provider = world.providers["chaoyang"]["id"]
    await web_login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/prepaid-freezes?provider_q=力美健", headers=HTML)
    assert page.status_code == 200 and 'data-testid="freezes-empty"' in page.text and "力美健健身" in page.text
    form = {"provider_id": str(provider), "reason": "门店将于下月搬迁，新址未定"}
    refused = await post(client, "/console/prepaid-freezes", {**form, "reason": "搬"})
    assert (refused.status_code == 422 and "10 到 2,000 个字" in refused.text) or "10" in refused.text
    asked = await post(client, "/console/prepaid-freezes", form)
    assert asked.status_code == 200 and 'data-testid="confirm"' in asked.text and "确定暂停" in asked.text
    assert await freeze.sales_frozen(provider) is None  # nothing yet
    done = await post(client, "/console/prepaid-freezes", {**form, "confirm": "1"})
    assert done.status_code in (302, 303)
    listed = await client.get("/console/prepaid-freezes", headers=HTML)
    assert listed.text.count('data-testid="freeze-row"') == 1 and "运营人员标记暂停" in listed.text
    assert "门店将于下月搬迁" in listed.text
    # The provider sees it, with the reason, on its standing page.
    await web_login(client, "provider", world.providers["chaoyang"]["owner"])
    standing = await client.get("/provider/standing", headers=HTML)
    section = standing.text.split('data-testid="prepaid-sales"')[1]
    assert "已暂停" in section and "运营人员标记暂停" in section and "门店将于下月搬迁" in section
    saved = await post(client, "/provider/lease", {"lease_ends_on": "2027-06-30"})
    assert saved.status_code in (302, 303)
    assert (await providers.get_provider(provider))["lease_ends_on"] == date(2027, 6, 30)
    wrong = await post(client, "/provider/lease", {"lease_ends_on": "明年六月"})
    assert wrong.status_code == 422 and "2027-06-30" in wrong.text and 'aria-invalid="true"' in wrong.text
    # The operator lifts it, after a confirmation.
    await web_login(client, "console", world.operators["chaoyang"])
    (found,) = await freeze.open_freezes(provider)
    asked = await post(client, f"/console/prepaid-freezes/{found.id}/lift", {"note": "已核实新址，租约已签三年"})
    assert asked.status_code == 200 and "确定解除" in asked.text and await freeze.sales_frozen(provider) is not None
    done = await post(
        client, f"/console/prepaid-freezes/{found.id}/lift", {"note": "已核实新址，租约已签三年", "confirm": "1"}
    )
    assert done.status_code in (302, 303) and await freeze.sales_frozen(provider) is None


async def test_the_provider_is_told_in_its_history(world):
    provider = world.providers["chaoyang"]["id"]
    await freeze.tell_provider(provider, True, "lease_ending")
    await freeze.tell_provider(provider, True, "lease_ending")  # a retried message: once
    history = await policy.standing_history(provider)
    assert [event.message for event in history] == [
        "您的预付套餐（次卡、课时包、会员卡）已暂停新的销售，已购会员可继续使用。原因：经营场所租约 60 天内到期。"
    ]
