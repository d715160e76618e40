"""Scorecard figures on a small data set computed by hand: the Bayesian prior, the Wilson
bound, complaint rate and missed answers, held ratings, third-party weighting, ranks,
determinism, snapshots, and the outbox path that keeps a provider's card current."""

import json
import math
from datetime import date, timedelta
from fractions import Fraction

import dramatiq
import pytest

from evaluation.scorecards import actors as scorecard_actors, services as scorecards
from marketplace.core.db import engine
from marketplace.core.jobs import outbox, topics
from marketplace.core.jobs.broker import broker
from tests.evaluation.conftest import NOW, execute
from tests.factories import add_provider

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


def wilson_low(yes: int, n: int, z: float = 1.959963984540054) -> float:
    p = yes / n
    return (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)


async def card(provider_id: int) -> scorecards.Scorecard:
    found = await scorecards.scorecard_of(provider_id)
    assert found is not None
    return found


@pytest.fixture
async def data(world, signals) -> dict:
    """Chaoyang's gym (A): 3 ratings 5, 5, 1 and a held 1; 10 redemptions, 8 of 10 answers
    "honoured"; 3 complaints (one unanswered past its time, one answered in 5 h, one
    answered late after 100 h). Haidian's clinic (B), moved to 海淀区: 10 ratings of 5 in the
    last 30 days and 10 of 4 in the 30 before. C, a dining place in 朝阳区: 2 ratings of 3."""
    a, b = world.providers["chaoyang"]["id"], world.providers["haidian"]["id"]
    await execute("UPDATE location SET district = '海淀区' WHERE provider = $1", b)
    c = (await add_provider(world.nodes["chaoyang"], "老北京炸酱面", "91110105MA01XYZ93K"))["id"]
    for overall in (5, 5, 1):
        await signals.rating(a, overall, days_ago=3, honoured=True)
    await signals.rating(a, 1, days_ago=2, held=True, honoured=True)  # a burst, held out
    for honoured in (True, True, True, True, False, False):
        await signals.redemption(a, days_ago=10, honoured=honoured)
    # 10 redemptions in the window: 4 rated (honoured yes) + 6 with answers; 4 + 4 yes, 2 no.
    await signals.redemption(a, days_ago=120)  # outside the 90-day window
    await signals.complaint(a, days_ago=10)  # unanswered, 72 h passed: missed
    await signals.complaint(a, days_ago=9, answer_after_hours=5)
    await signals.complaint(a, days_ago=8, answer_after_hours=100)  # answered late: missed
    await signals.complaint(a, days_ago=100)  # outside the window
    for days in range(10):
        await signals.rating(b, 5, days_ago=1 + days)
        await signals.rating(b, 4, days_ago=31 + days)
    for _ in range(2):
        await signals.rating(c, 3, days_ago=5, category="dining")
    today = (NOW + timedelta(hours=8)).date()
    await signals.result(a, today - timedelta(days=5), 80, 10)
    await signals.result(a, today - timedelta(days=20), 50, 30)
    await signals.result(a, today - timedelta(days=120), 10, 500)  # outside the window
    return {"a": a, "b": b, "c": c}


async def test_the_figures_of_a_small_data_set(data):
    result = await scorecards.recompute_all(NOW)
    assert result.providers == 3
    a, b, c = await card(data["a"]), await card(data["b"]), await card(data["c"])

    # The prior: every fitness rating in the window (A's 3, B's 20), held ones left out.
    m = Fraction(5 + 5 + 1 + 10 * 5 + 10 * 4, 23)
    assert a.prior_mean == pytest.approx(float(m)) and b.prior_mean == pytest.approx(float(m))
    assert a.ratings_n == 3 and a.ratings_sum == 11 and a.satisfaction_raw == pytest.approx(11 / 3)
    expected_a = (10 * m + 11) / (10 + 3)
    assert a.satisfaction == pytest.approx(float(expected_a), abs=1e-12)
    # One bad rating among three: A stays near its category, far above its plain mean.
    assert a.satisfaction > 4.2 > a.satisfaction_raw
    assert b.satisfaction == pytest.approx(float((10 * m + 90) / 30), abs=1e-12)
    assert c.satisfaction == pytest.approx(3.0) and c.prior_mean == pytest.approx(3.0)

    assert (a.redemptions_n, a.honoured_n, a.honoured_yes) == (10, 10, 8)
    assert a.honoured_low == pytest.approx(wilson_low(8, 10), abs=1e-12)
    assert 0.49 < a.honoured_low < 0.5  # 8 of 10 is not yet convincing
    assert b.honoured_n == 0 and b.honoured_low is None

    assert a.complaints_n == 3 and a.complaints_per_100 == pytest.approx(30.0)
    assert a.missed_responses_n == 2 and a.responses_n == 2
    assert a.median_response_hours == pytest.approx(52.5)
    assert b.complaints_n == 0 and b.complaints_per_100 == 0.0 and b.median_response_hours is None

    assert a.third_party_n == 40 and a.third_party_score == pytest.approx(57.5)
    assert b.third_party_n == 0 and b.third_party_score is None

    assert (b.trend_recent_n, b.trend_previous_n) == (10, 10) and b.trend == pytest.approx(1.0)
    assert a.trend is None and a.trend_recent_n == 3  # too few ratings for a trend

    assert (a.category, b.category) == (a.category, a.category) and c.category != a.category
    assert (a.rank_category, a.category_ranked_n) == (2, 2) and b.rank_category == 1
    assert (c.rank_category, c.category_ranked_n) == (1, 1)
    assert (a.district, b.district, c.district) == ("朝阳区", "海淀区", "朝阳区")
    assert (a.rank_district, a.district_ranked_n) == (1, 2) and c.rank_district == 2
    assert (b.rank_district, b.district_ranked_n) == (1, 1)
    assert a.window_days == 90 and a.prior_weight == 10 and a.computed_at == NOW


async def test_a_held_rating_counts_once_cleared(data):
    await scorecards.recompute_all(NOW)
    assert (await card(data["a"])).ratings_n == 3
    await execute("UPDATE rating SET held = false, cleared_at = $1 WHERE held", NOW)
    await scorecards.recompute_all(NOW)
    assert (await card(data["a"])).ratings_n == 4 and (await card(data["a"])).ratings_sum == 12


async def test_the_prior_weight_and_a_provider_without_ratings(world, signals, data):
    await scorecards.recompute_all(NOW, weight=0)
    assert (await card(data["a"])).satisfaction == pytest.approx(11 / 3)  # no prior: the plain mean
    empty = (await add_provider(world.nodes["haidian"], "无人评价健身", "91110108MA01QWE45R"))["id"]
    await scorecards.recompute_all(NOW)
    quiet = await card(empty)
    assert quiet.ratings_n == 0 and quiet.satisfaction is None and quiet.rank_category is None
    assert quiet.complaints_per_100 is None and quiet.redemptions_n == 0
    applied = await execute("SELECT count(*) FROM provider WHERE status = 'applied'")
    await add_provider(world.nodes["haidian"], "申请中", "91110108MA01QWE46R", status="applied")
    assert await execute("SELECT count(*) FROM provider_scorecard") == 4 and applied == 0


async def test_recomputing_twice_gives_identical_rows(data):
    await scorecards.recompute_all(NOW)
    first = await scorecards.table_digest()
    ids = await execute("SELECT array_agg(id ORDER BY provider) FROM provider_scorecard")
    await scorecards.recompute_all(NOW)
    assert await scorecards.table_digest() == first
    assert await execute("SELECT array_agg(id ORDER BY provider) FROM provider_scorecard") != ids  # replaced
    await scorecards.recompute_all(NOW + timedelta(days=1))
    assert await scorecards.table_digest() != first


async def test_one_provider_recomputed_matches_the_full_run(data, signals):
    await scorecards.recompute_all(NOW)
    await signals.rating(data["a"], 5, days_ago=0.5)
    await scorecards.recompute_provider(data["a"], NOW)
    single = await card(data["a"])
    await scorecards.recompute_all(NOW)
    full = await card(data["a"])
    assert single.ratings_n == 4 and single == full
    # B's prior still comes from the last full run: the other cards are not rewritten.


async def test_ranks_follow_a_single_recomputation(data, signals):
    await scorecards.recompute_all(NOW)
    assert (await card(data["a"])).rank_category == 2
    for _ in range(40):
        await signals.rating(data["a"], 5, days_ago=1)
    await scorecards.recompute_provider(data["a"], NOW)
    a, b = await card(data["a"]), await card(data["b"])
    assert a.satisfaction > b.satisfaction
    assert (a.rank_category, b.rank_category) == (1, 2)


async def test_a_changed_satisfaction_is_announced_for_search(data, signals):
    """Search ranks by rating from `evaluation.scorecard_changed`, published with the
    recomputation when the satisfaction members see (one decimal) changed."""

    async def announced() -> list[dict]:
        rows = await execute(
            "SELECT coalesce(jsonb_agg(payload ORDER BY id), '[]'::jsonb) FROM outbox_event WHERE topic = $1",
            topics.ScorecardChanged.topic,
        )
        return json.loads(rows) if isinstance(rows, str) else rows

    await scorecards.recompute_provider(data["a"], NOW)
    first = await announced()
    assert [event["provider_id"] for event in first] == [data["a"]]
    assert first[0]["satisfaction"] == round((await card(data["a"])).satisfaction, 1)
    await scorecards.recompute_provider(data["a"], NOW)  # nothing changed: nothing announced
    assert len(await announced()) == 1
    for _ in range(40):
        await signals.rating(data["a"], 5, days_ago=1)
    await scorecards.recompute_provider(data["a"], NOW)
    assert len(await announced()) == 2


async def test_monthly_snapshot_and_history(data, signals):
    month = date(2026, 11, 1)
    assert await scorecards.snapshot_month(month) == 3
    assert await scorecards.snapshot_month(month) == 3  # a rerun replaces it
    await signals.rating(data["a"], 2, days_ago=40)  # October in Shanghai
    await scorecards.snapshot_month(date(2026, 10, 1))
    history = await scorecards.history_of(data["a"])
    assert [h.month for h in history] == [date(2026, 10, 1), month]
    assert history[0].ratings_n == 1 and history[0].window_days == 31 and history[1].window_days == 30
    assert history[1].ratings_n == 3  # November: the three ratings 3 days before the 30th
    assert scorecards.previous_month(NOW) == date(2026, 10, 1)


@pytest.fixture
def run_worker():
    broker.flush_all()

    def drain():
        worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
        worker.start()
        try:
            broker.join("default", timeout=120_000)  # returns when drained; generous for a loaded machine
            worker.join()
        finally:
            worker.stop()

    yield drain
    broker.flush_all()


async def test_a_rating_change_reaches_the_scorecard_through_the_outbox(data, signals, run_worker):
    assert scorecard_actors.rating_changed in outbox._subscribers[topics.RatingChanged.topic]
    await scorecards.recompute_all()
    before = await card(data["c"])
    await signals.rating(data["c"], 5, days_ago=0)
    async with engine().transaction():
        await scorecards.rating_changed(data["c"])
    assert (await card(data["c"])).ratings_n == before.ratings_n  # not yet: the event waits for the relay
    assert await outbox.relay_once() >= 1
    run_worker()
    after = await card(data["c"])
    assert after.ratings_n == before.ratings_n + 1 and after.computed_at > before.computed_at
    # Evaluator results applied: the listed providers are recomputed too.
    await signals.result(data["b"], date.today(), 90, 25)
    async with engine().transaction():
        await outbox.publish(topics.ResultsApplied(batch_id=1, provider_ids=[data["b"]]))
    await outbox.relay_once()
    run_worker()
    assert (await card(data["b"])).third_party_n == 25


async def test_publishing_needs_the_callers_transaction(data):
    with pytest.raises(RuntimeError):
        await scorecards.rating_changed(data["a"])
