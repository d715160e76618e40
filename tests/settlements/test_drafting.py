"""Statements drafted from vouchers redeemed through the vouchers service, in PostgreSQL:
the month's bounds in Shanghai time, totals in fen, snapshots, and repeated drafts."""

from datetime import timedelta

import pytest

from marketplace.core.errors import Invalid
from marketplace.vouchers import services as vouchers
from providers.settlements import drafting as statements, services as settlements
from tests.settlements.helpers import (
    add_offer,
    execute,
    month_after,
    move_redemption,
    operator_principal,
    redeemed,
    set_account,
    value,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def statement_count() -> int:
    return await value("SELECT count(*) FROM settlement_statement")


async def test_a_month_is_drafted_from_its_redeemed_vouchers_with_totals_in_fen(world):
    cy = world.providers["chaoyang"]["id"]
    first = await redeemed(world, world.offers["public"])  # subsidy 3000
    second = await redeemed(world, world.offers["women"], paid_fen=6900)
    checkup = await add_offer(world, subsidy_fen=1250)
    third = await redeemed(world, checkup, paid_fen=99)
    await redeemed(world, await add_offer(world, "haidian", subsidy_fen=500), provider="haidian")
    # Claimed but never redeemed: owed nothing.
    await vouchers.claim(await _member(world), world.offers["public"])
    period = settlements.period_of(first["redeemed_at"])

    result = await statements.draft_month(period, now=month_after(period))
    assert sorted(result.created) == sorted([cy, world.providers["haidian"]["id"]])
    statement_id = await value("SELECT id FROM settlement_statement WHERE provider = $1", cy)
    statement = await settlements.statement_for_operator(await operator_principal(world, "beijing"), statement_id)
    assert statement.status == "draft" and statement.period == period and statement.currency == "CNY"
    assert statement.voucher_count == 3
    assert statement.subsidy_fen == 3000 + 3000 + 1250
    assert statement.paid_fen == 6900 + 99
    assert statement.total_fen == 7250 + 6999
    assert {line.voucher_id for line in statement.lines} == {first["id"], second["id"], third["id"]}
    line = next(line for line in statement.lines if line.voucher_id == third["id"])
    assert (line.voucher_code, line.subsidy_fen, line.paid_fen, line.offer_title_zh) == (
        third["code"],
        1250,
        99,
        "体检套餐",
    )


async def _member(world):
    from marketplace.core.federation import services as federation
    from tests import factories

    member_id, _ = await factories.add_member(world.nodes["cy_union"], 9999, "赵六")
    return await federation.member_principal(member_id)


async def test_the_month_runs_from_midnight_to_midnight_in_shanghai(world):
    inside = await redeemed(world, world.offers["public"])
    before = await redeemed(world, world.offers["women"])
    last = await redeemed(world, await add_offer(world, subsidy_fen=700))
    start, end = settlements.period_bounds("2026-03")
    assert start.isoformat() == "2026-03-01T00:00:00+08:00" and end.isoformat() == "2026-04-01T00:00:00+08:00"
    await move_redemption(inside["id"], start)  # 2026-02-28 16:00 UTC: already March in Beijing
    await move_redemption(before["id"], start - timedelta(microseconds=1))
    await move_redemption(last["id"], end - timedelta(microseconds=1))

    await statements.draft_month("2026-03", now=month_after("2026-03"))
    lines = await value("SELECT array_agg(voucher_id ORDER BY voucher_id) FROM settlement_line")
    assert lines == sorted([inside["id"], last["id"]])
    assert await value("SELECT subsidy_fen FROM settlement_statement WHERE period = '2026-03'") == 3700


async def test_a_month_that_is_not_over_cannot_be_drafted(world):
    voucher = await redeemed(world, world.offers["public"])
    period = settlements.period_of(voucher["redeemed_at"])
    with pytest.raises(Invalid) as refused:
        await statements.draft_month(period)
    assert refused.value.code == "period_open" and refused.value.field == "period"
    with pytest.raises(Invalid):
        await statements.draft_month("2026-13", now=month_after("2026-11"))
    assert await statement_count() == 0


async def test_drafting_again_changes_nothing_recomputes_a_draft_and_keeps_an_approved_one(world):
    cy = world.providers["chaoyang"]["id"]
    first = await redeemed(world, world.offers["public"])
    period = settlements.period_of(first["redeemed_at"])
    later = month_after(period)
    assert (await statements.draft_month(period, now=later)).created == [cy]
    statement_id = await value("SELECT id FROM settlement_statement")

    again = await statements.draft_month(period, now=later)
    assert again.unchanged == [cy] and again.created == again.recomputed == []
    assert await statement_count() == 1
    assert await value("SELECT revision FROM settlement_statement") == 1

    # A voucher's money corrected before approval: the draft follows it.
    await execute("UPDATE voucher SET subsidy_fen = 2800 WHERE id = $1", first["id"])
    second = await redeemed(world, world.offers["women"])
    await move_redemption(second["id"], first["redeemed_at"])
    assert (await statements.draft_month(period, now=later)).recomputed == [cy]
    assert await value("SELECT (revision, voucher_count, subsidy_fen)::text FROM settlement_statement") == "(2,2,5800)"
    assert await value("SELECT count(*) FROM settlement_line WHERE statement = $1", statement_id) == 2

    operator = await operator_principal(world, "chaoyang")
    await set_account(world, "acct_1Nv0FGQ9RKHgCVdK")
    await settlements.approve(operator, statement_id, revision=2)
    # After approval the statement is a snapshot: later changes to vouchers do not reach it.
    await execute("UPDATE voucher SET subsidy_fen = 1 WHERE id = $1", first["id"])
    assert (await statements.draft_month(period, now=later)).kept == [cy]
    assert await statement_count() == 1
    approved = await settlements.statement_for_operator(operator, statement_id)
    assert (approved.status, approved.subsidy_fen, approved.revision) == ("approved", 5800, 2)
    assert {line.subsidy_fen for line in approved.lines} == {2800, 3000}


async def test_a_draft_whose_redemptions_are_gone_is_recomputed_to_nothing(world):
    voucher = await redeemed(world, world.offers["public"])
    period = settlements.period_of(voucher["redeemed_at"])
    await statements.draft_month(period, now=month_after(period))
    # (A correction of the redemption's time; a redeemed voucher cannot become refunded today.)
    await move_redemption(voucher["id"], settlements.period_bounds(period)[0] - timedelta(days=40))
    result = await statements.draft_month(period, now=month_after(period))
    assert result.recomputed == [world.providers["chaoyang"]["id"]]
    assert await value("SELECT (voucher_count, total_fen)::text FROM settlement_statement") == "(0,0)"
    assert await value("SELECT count(*) FROM settlement_line") == 0


async def test_concurrent_drafts_make_one_statement(world):
    import asyncio

    voucher = await redeemed(world, world.offers["public"])
    period = settlements.period_of(voucher["redeemed_at"])
    results = await asyncio.gather(*[statements.draft_month(period, now=month_after(period)) for _ in range(6)])
    assert sum(len(result.created) for result in results) == 1
    assert await statement_count() == 1
    assert await value("SELECT count(*) FROM settlement_line") == 1


async def test_an_operator_drafts_only_the_providers_in_scope(world):
    cy, hd = world.providers["chaoyang"]["id"], world.providers["haidian"]["id"]
    voucher = await redeemed(world, world.offers["public"])
    await redeemed(world, await add_offer(world, "haidian"), provider="haidian")
    period = settlements.period_of(voucher["redeemed_at"])
    result = await statements.draft_month(period, await operator_principal(world, "chaoyang"), now=month_after(period))
    assert result.created == [cy]
    assert await value("SELECT array_agg(provider) FROM settlement_statement") == [cy]
    assert (
        await statements.draft_month(period, await operator_principal(world, "hebei"), now=month_after(period))
    ).created == []
    assert await statement_count() == 1
    assert (await statements.draft_month(period, now=month_after(period))).created == [hd]


@pytest.mark.unit
def test_periods_in_shanghai():
    from datetime import UTC, datetime

    assert settlements.previous_period(datetime(2026, 1, 1, 0, 30, tzinfo=UTC)) == "2025-12"
    # 2026-01-31 16:30 UTC is already February 1st in Beijing.
    assert settlements.previous_period(datetime(2026, 1, 31, 16, 30, tzinfo=UTC)) == "2026-01"
    assert settlements.period_of(datetime(2026, 1, 31, 16, 30, tzinfo=UTC)) == "2026-02"
    start, end = settlements.period_bounds("2026-12")
    assert (end - start).days == 31 and end.year == 2027
    for bad in ("2026-1", "2026-00", "26-01", "2026/01", "abcd-ef"):
        with pytest.raises(Invalid):
            settlements.period_bounds(bad)
