"""The scheduler drafts last month's statements on the 1st, through the worker's actor."""

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.core import dates
from marketplace.core.jobs import periodic
from providers.settlements import actors as settlement_actors, services as settlements
from tests.settlements.helpers import move_redemption, redeemed, value

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


def test_the_job_runs_early_on_the_first_of_each_month_in_shanghai():
    trigger = periodic.trigger_of(settlement_actors.draft_last_month_statements)
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    assert fire.astimezone(dates.zone()).strftime("%Y-%m-%d %H:%M") == "2026-12-01 03:00"
    after = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert after.astimezone(dates.zone()).strftime("%Y-%m-%d %H:%M") == "2027-01-01 03:00"


async def test_the_actor_drafts_last_month_and_a_second_run_changes_nothing(world):
    period = settlements.previous_period()
    this_month = await redeemed(world, world.offers["women"])  # stays in the running month
    last = await redeemed(world, world.offers["public"])
    await move_redemption(last["id"], settlements.period_bounds(period)[1] - timedelta(hours=1))
    job = settlement_actors.draft_last_month_statements.fn.__wrapped__  # the async body the worker runs
    await job()
    await job()
    assert await value("SELECT count(*) FROM settlement_statement") == 1
    assert await value("SELECT (period, status, voucher_count, revision)::text FROM settlement_statement") == (
        f"({period},draft,1,1)"
    )
    assert await value("SELECT voucher_id FROM settlement_line") == last["id"] != this_month["id"]
