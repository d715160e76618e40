"""Provider scorecards: fair figures per provider over a rolling window, and monthly snapshots.

Figures (each beside its sample size; see migrations/evaluation/evaluation_0004_scorecards.py):

- satisfaction: the Bayesian average of the overall 1–5 ratings, (C·m + Σx) / (C + n),
  where m is the mean of every rating of the provider's category in the window and C
  the prior weight (default 10). A provider with three ratings stays near its category's
  mean, so one bad rating does not sink it; with hundreds, its own mean shows. NULL
  without ratings (and then not ranked). A provider's category is the category of most
  of its redemptions in the window (else of most of its offers), ties to the lower id.
- honoured_low: the lower bound of the 95 % Wilson interval of the share of "yes" among
  redemptions whose member answered "was the discount honoured?".
- complaints_per_100 redemptions; missed_responses_n: complaints whose answer time passed
  without an answer (or with a late one), unless closed before it; median_response_hours.
- third_party_score: the sample-size-weighted mean of evaluator results visited in the
  window (dates in Asia/Shanghai).
- trend: the plain mean of the last 30 days minus that of the 30 days before, NULL when
  either has fewer than 5 ratings.
- rank_category / rank_district: 1 = best satisfaction among providers of the same
  category / district (ties share a rank); out of category_ranked_n / district_ranked_n.

Ratings held as suspicious are left out until an operator clears them.

Everything is set-based SQL with integer sums (no floating-point accumulation), so a
recomputation over the same data and `now` gives identical rows. `recompute_all`
replaces `provider_scorecard` in one transaction (hourly); between runs,
`recompute_provider` refreshes one provider after its ratings or third-party results
changed (outbox topics below), using the other providers' stored sums for its
category's prior and re-ranking its category and district. The other providers of the
category keep the prior of the last full run until the next one.

Locks: a full run holds an exclusive advisory lock for its transaction, a provider's
recomputation a shared one, so a full run never overwrites a newer per-provider row
with figures read before it; re-ranking takes a second, exclusive lock so that two
re-rankings of overlapping rows never deadlock.
"""

import os
from datetime import UTC, date, datetime, timedelta

import msgspec

from marketplace.core import dates
from marketplace.core.db import engine, search_text
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics

WINDOW_DAYS = 90
PRIOR_WEIGHT = 10.0
TREND_DAYS = 30
TREND_MIN_RATINGS = 5
Z95 = 1.959963984540054
ADMITTED = ("active", "suspended", "delisted")  # providers that have a scorecard
SATISFACTION_BANDS = (3.0, 3.5, 4.0, 4.5)  # the console's distribution: <3, 3–3.5, ..., ≥4.5

_LOCK_FIGURES = 0x5C0_4EC0_0001  # advisory lock keys (bigint)
_LOCK_RANKS = 0x5C0_4EC0_0002


def window_days() -> int:
    return int(os.environ.get("SCORECARD_WINDOW_DAYS", WINDOW_DAYS))


def prior_weight() -> float:
    return float(os.environ.get("SCORECARD_PRIOR_WEIGHT", PRIOR_WEIGHT))


async def rating_changed(provider_id: int) -> int:
    """Announce, inside the caller's transaction, that a provider's ratings changed; its
    scorecard is recomputed once the transaction has committed. Returns the event id."""
    return await outbox.publish(topics.RatingChanged(provider_id=int(provider_id)))


# The figures -----------------------------------------------------------------------------------------

COLUMNS = (
    "provider",
    "computed_at",
    "window_days",
    "category",
    "district",
    "redemptions_n",
    "ratings_n",
    "ratings_sum",
    "prior_mean",
    "prior_weight",
    "satisfaction",
    "satisfaction_raw",
    "honoured_n",
    "honoured_yes",
    "honoured_low",
    "complaints_n",
    "complaints_per_100",
    "missed_responses_n",
    "responses_n",
    "median_response_hours",
    "third_party_n",
    "third_party_score",
    "trend",
    "trend_recent_n",
    "trend_previous_n",
    "rank_category",
    "category_ranked_n",
    "rank_district",
    "district_ranked_n",
)
_RANKS = {"rank_category", "category_ranked_n", "rank_district", "district_ranked_n"}

# Parameters, as `_arguments` lists them: $1 start, $2 end, $3 computed_at, $4 window_days,
# $5 weight, $6 zone, $7 z, $8 trend_days, $9 trend_min, and $10 the provider of a
# per-provider run or the month of a snapshot (never both). {only_*} restrict a
# per-provider run to its provider, textually, so that its plan uses the (provider, time)
# indexes.
_FIGURES = """
WITH scope AS (
    SELECT p.id AS provider FROM provider p
    WHERE p.status IN ('active', 'suspended', 'delisted') {only_p}
), rated AS (
    SELECT t.provider,
           count(*) FILTER (WHERE t.created_at > $1::timestamptz) AS n,
           coalesce(sum(t.overall) FILTER (WHERE t.created_at > $1::timestamptz), 0) AS total,
           count(*) FILTER (WHERE t.created_at > $2::timestamptz - make_interval(days => $8::int)) AS recent_n,
           sum(t.overall) FILTER (WHERE t.created_at > $2::timestamptz - make_interval(days => $8::int)) AS recent_sum,
           count(*) FILTER (WHERE t.created_at <= $2::timestamptz - make_interval(days => $8::int)
                            AND t.created_at > $2::timestamptz - make_interval(days => 2 * $8::int)) AS previous_n,
           sum(t.overall) FILTER (WHERE t.created_at <= $2::timestamptz - make_interval(days => $8::int)
                                  AND t.created_at > $2::timestamptz - make_interval(days => 2 * $8::int)) AS previous_sum
    FROM rating t
    WHERE t.created_at > least($1::timestamptz, $2::timestamptz - make_interval(days => 2 * $8::int)) AND t.created_at <= $2::timestamptz
      AND (NOT t.held OR t.cleared_at IS NOT NULL) {only_t}
    GROUP BY t.provider
), redeemed_by_category AS (
    SELECT r.provider, r.category, count(*) AS n, count(r.honoured) AS honoured_n,
           count(*) FILTER (WHERE r.honoured) AS honoured_yes
    FROM redemption r
    WHERE r.redeemed_at > $1::timestamptz AND r.redeemed_at <= $2::timestamptz {only_r}
    GROUP BY r.provider, r.category
), redeemed AS (
    SELECT provider, sum(n)::int AS n, sum(honoured_n)::int AS honoured_n, sum(honoured_yes)::int AS honoured_yes,
           (array_agg(category ORDER BY n DESC, category))[1] AS category
    FROM redeemed_by_category GROUP BY provider
), offered AS (
    SELECT provider, (array_agg(category ORDER BY n DESC, category))[1] AS category
    FROM (SELECT o.provider, o.category, count(*) AS n FROM offer o WHERE true {only_o}
          GROUP BY o.provider, o.category) o
    GROUP BY provider
), located AS (
    SELECT provider, (array_agg(district ORDER BY n DESC, first_id))[1] AS district
    FROM (SELECT l.provider, l.district, count(*) AS n, min(l.id) AS first_id FROM location l WHERE true {only_l}
          GROUP BY l.provider, l.district) l
    GROUP BY provider
), complained AS (
    SELECT c.provider, count(*) AS n,
           count(*) FILTER (WHERE c.respond_by <= $2::timestamptz AND (c.answered_at IS NULL OR c.answered_at > c.respond_by)
                            AND (c.closed_at IS NULL OR c.closed_at > c.respond_by)) AS missed,
           count(*) FILTER (WHERE c.answered_at <= $2::timestamptz) AS responses_n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY (extract(epoch FROM c.answered_at - c.created_at) / 3600)::float8)
               FILTER (WHERE c.answered_at <= $2::timestamptz) AS median_hours
    FROM complaint c
    WHERE c.created_at > $1::timestamptz AND c.created_at <= $2::timestamptz {only_c}
    GROUP BY c.provider
), evaluated AS (
    SELECT e.provider, sum(e.sample_size)::int AS n,
           sum(e.score::bigint * e.sample_size)::numeric / sum(e.sample_size) AS score
    FROM evaluator_result e
    WHERE e.visit_date > ($1::timestamptz AT TIME ZONE $6::text)::date AND e.visit_date <= ($2::timestamptz AT TIME ZONE $6::text)::date {only_e}
    GROUP BY e.provider
), base AS (
    SELECT s.provider, coalesce(d.category, o.category) AS category, l.district,
           coalesce(d.n, 0) AS redemptions_n, coalesce(d.honoured_n, 0) AS honoured_n,
           coalesce(d.honoured_yes, 0) AS honoured_yes,
           coalesce(t.n, 0)::int AS ratings_n, coalesce(t.total, 0)::int AS ratings_sum,
           coalesce(t.recent_n, 0)::int AS recent_n, t.recent_sum, coalesce(t.previous_n, 0)::int AS previous_n,
           t.previous_sum, coalesce(c.n, 0)::int AS complaints_n, coalesce(c.missed, 0)::int AS missed,
           coalesce(c.responses_n, 0)::int AS responses_n, c.median_hours,
           coalesce(e.n, 0) AS third_party_n, e.score AS third_party_score
    FROM scope s
    LEFT JOIN redeemed d ON d.provider = s.provider
    LEFT JOIN offered o ON o.provider = s.provider
    LEFT JOIN located l ON l.provider = s.provider
    LEFT JOIN rated t ON t.provider = s.provider
    LEFT JOIN complained c ON c.provider = s.provider
    LEFT JOIN evaluated e ON e.provider = s.provider
), prior AS (
    SELECT category, sum(ratings_sum)::numeric / nullif(sum(ratings_n), 0) AS mean
    FROM (SELECT category, ratings_sum, ratings_n FROM base
          {others}) everyone
    WHERE category IS NOT NULL
    GROUP BY category
), figures AS (
    SELECT b.*, p.mean AS prior_mean,
           CASE WHEN b.ratings_n > 0 THEN
               (($5::float8::numeric * coalesce(p.mean, b.ratings_sum::numeric / b.ratings_n) + b.ratings_sum)
                / ($5::float8::numeric + b.ratings_n))::float8 END AS satisfaction,
           CASE WHEN b.honoured_n > 0 THEN b.honoured_yes::float8 / b.honoured_n END AS p_yes
    FROM base b LEFT JOIN prior p ON p.category = b.category
)
SELECT {extra} f.provider, $3::timestamptz AS computed_at, $4::int AS window_days, f.category,
       f.district, f.redemptions_n, f.ratings_n, f.ratings_sum, f.prior_mean::float8 AS prior_mean,
       $5::float8 AS prior_weight, f.satisfaction,
       CASE WHEN f.ratings_n > 0 THEN (f.ratings_sum::numeric / f.ratings_n)::float8 END AS satisfaction_raw,
       f.honoured_n, f.honoured_yes,
       CASE WHEN f.honoured_n > 0 THEN
           (f.p_yes + $7::float8 ^ 2 / (2 * f.honoured_n)
            - $7::float8 * sqrt(f.p_yes * (1 - f.p_yes) / f.honoured_n
                                + $7::float8 ^ 2 / (4.0 * f.honoured_n * f.honoured_n)))
           / (1 + $7::float8 ^ 2 / f.honoured_n) END AS honoured_low,
       f.complaints_n,
       CASE WHEN f.redemptions_n > 0 THEN (100 * f.complaints_n::numeric / f.redemptions_n)::float8 END
           AS complaints_per_100,
       f.missed AS missed_responses_n, f.responses_n, f.median_hours AS median_response_hours,
       f.third_party_n, f.third_party_score::float8 AS third_party_score,
       CASE WHEN f.recent_n >= $9::int AND f.previous_n >= $9::int THEN
           (f.recent_sum::numeric / f.recent_n - f.previous_sum::numeric / f.previous_n)::float8 END AS trend,
       f.recent_n AS trend_recent_n, f.previous_n AS trend_previous_n,
       CASE WHEN f.satisfaction IS NOT NULL AND f.category IS NOT NULL THEN
           rank() OVER (PARTITION BY f.category, f.satisfaction IS NULL ORDER BY f.satisfaction DESC) END
           AS rank_category,
       CASE WHEN f.category IS NOT NULL THEN count(f.satisfaction) OVER (PARTITION BY f.category) END
           AS category_ranked_n,
       CASE WHEN f.satisfaction IS NOT NULL AND f.district IS NOT NULL THEN
           rank() OVER (PARTITION BY f.district, f.satisfaction IS NULL ORDER BY f.satisfaction DESC) END
           AS rank_district,
       CASE WHEN f.district IS NOT NULL THEN count(f.satisfaction) OVER (PARTITION BY f.district) END
           AS district_ranked_n
FROM figures f
"""

_OTHERS = """UNION ALL
          SELECT s.category, s.ratings_sum, s.ratings_n FROM provider_scorecard s
          WHERE s.provider <> $10 AND s.category IN (SELECT category FROM base)"""


def _figures_sql(provider_id: int | None, extra: str = "") -> str:
    only = (
        {}
        if provider_id is None
        else {
            "only_p": "AND p.id = $10",
            "only_t": "AND t.provider = $10",
            "only_r": "AND r.provider = $10",
            "only_o": "AND o.provider = $10",
            "only_l": "AND l.provider = $10",
            "only_c": "AND c.provider = $10",
            "only_e": "AND e.provider = $10",
        }
    )
    return _FIGURES.format(
        extra=extra,
        others=_OTHERS if provider_id is not None else "",
        **{key: only.get(key, "") for key in ("only_p", "only_t", "only_r", "only_o", "only_l", "only_c", "only_e")},
    )


def _arguments(start: datetime, end: datetime, computed_at: datetime, days: int, weight: float, *more) -> list:
    """$1 to $9 of `_FIGURES`, then `more` ($10)."""
    return [start, end, computed_at, days, weight, dates.zone_name(), Z95, TREND_DAYS, TREND_MIN_RATINGS, *more]


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


class RecomputeResult(msgspec.Struct):
    providers: int
    seconds: float


async def recompute_all(
    now: datetime | None = None, days: int | None = None, weight: float | None = None
) -> RecomputeResult:
    """Every admitted provider's figures over (now − days, now], replacing the table in
    one transaction (readers see the old rows until it commits)."""
    import time

    now, days = _now(now), days or window_days()
    weight = prior_weight() if weight is None else weight
    started = time.perf_counter()
    text, args = _figures_sql(None), _arguments(now - timedelta(days=days), now, now, days, weight)
    columns = ", ".join(COLUMNS)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        await connection.execute("SET LOCAL work_mem = '64MB'")
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_FIGURES)
        await connection.execute("DELETE FROM provider_scorecard")
        status = await connection.execute(
            f"INSERT INTO provider_scorecard ({columns}) SELECT {columns} FROM ({text}) x", *args
        )
    return RecomputeResult(providers=int(status.split()[-1]), seconds=time.perf_counter() - started)


async def recompute_provider(provider_id: int, now: datetime | None = None) -> None:
    """One provider's figures, with its category's prior from the stored sums of the others,
    then the ranks of its category and district (old and new, if they changed)."""
    now, days = _now(now), window_days()
    text = _figures_sql(provider_id)
    args = _arguments(now - timedelta(days=days), now, now, days, prior_weight(), provider_id)
    columns = ", ".join(COLUMNS)
    updates = ", ".join(
        f"{column} = EXCLUDED.{column}" for column in COLUMNS if column != "provider" and column not in _RANKS
    )
    async with engine().transaction() as transaction:
        connection = transaction.connection
        await connection.execute("SELECT pg_advisory_xact_lock_shared($1)", _LOCK_FIGURES)
        before = await connection.fetchrow(
            "SELECT category, district, satisfaction FROM provider_scorecard WHERE provider = $1", provider_id
        )
        after = await connection.fetchrow(
            f"INSERT INTO provider_scorecard ({columns}) SELECT {columns} FROM ({text}) x "
            f"ON CONFLICT (provider) DO UPDATE SET {updates} RETURNING category, district, satisfaction",
            *args,
        )
        if after is None:  # no longer admitted (rejected): no scorecard
            await connection.execute("DELETE FROM provider_scorecard WHERE provider = $1", provider_id)
        shown_before, shown_after = (_shown_rating(row) for row in (before, after))
        if shown_before != shown_after:
            await outbox.publish(topics.ScorecardChanged(provider_id=int(provider_id), satisfaction=shown_after))
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_RANKS)
        categories = {row["category"] for row in (before, after) if row and row["category"] is not None}
        districts = {row["district"] for row in (before, after) if row and row["district"] is not None}
        for category in sorted(categories):
            await _rerank(connection, "category", category)
        for district in sorted(districts):
            await _rerank(connection, "district", district)


def _shown_rating(row) -> float | None:
    """The satisfaction as members see it (one decimal), None without a scorecard or ratings."""
    return round(float(row["satisfaction"]), 1) if row and row["satisfaction"] is not None else None


async def recompute_providers(provider_ids: list[int], now: datetime | None = None) -> None:
    for provider_id in sorted(set(int(p) for p in provider_ids)):
        await recompute_provider(provider_id, now)


async def _rerank(connection, kind: str, value) -> None:
    rank, ranked = (
        ("rank_category", "category_ranked_n") if kind == "category" else ("rank_district", "district_ranked_n")
    )
    await connection.execute(
        f"""
        UPDATE provider_scorecard s SET {rank} = r.rank, {ranked} = r.ranked
        FROM (SELECT provider,
                     CASE WHEN satisfaction IS NOT NULL THEN
                         rank() OVER (PARTITION BY satisfaction IS NULL ORDER BY satisfaction DESC) END AS rank,
                     count(satisfaction) OVER () AS ranked
              FROM provider_scorecard WHERE {kind} = $1) r
        WHERE s.provider = r.provider AND (s.{rank} IS DISTINCT FROM r.rank OR s.{ranked} IS DISTINCT FROM r.ranked)
    """,
        value,
    )


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The calendar month of `month` in the viewer's zone, as UTC instants [start, end)."""
    zone = dates.zone()
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (
        datetime(first.year, first.month, 1, tzinfo=zone).astimezone(UTC),
        datetime(following.year, following.month, 1, tzinfo=zone).astimezone(UTC),
    )


def previous_month(now: datetime | None = None) -> date:
    local = _now(now).astimezone(dates.zone()).date().replace(day=1)
    return (local - timedelta(days=1)).replace(day=1)


async def snapshot_month(month: date, weight: float | None = None) -> int:
    """The figures of one calendar month (its own window: the month's days), replacing any
    earlier snapshot of it. Returns how many providers it holds."""
    start, end = month_bounds(month)
    # The window is (start, end]: a redemption at exactly midnight opening the month
    # belongs to it, so shift both bounds by one microsecond.
    start, end = start - timedelta(microseconds=1), end - timedelta(microseconds=1)
    days = (month_bounds(month)[1] - month_bounds(month)[0]).days
    weight = prior_weight() if weight is None else weight
    text = _figures_sql(None, extra="$10::date AS month,")
    args = _arguments(start, end, datetime.now(UTC), days, weight, month.replace(day=1))
    columns = ", ".join(("month", *COLUMNS))
    async with engine().transaction() as transaction:
        connection = transaction.connection
        await connection.execute("SET LOCAL work_mem = '64MB'")
        await connection.execute("DELETE FROM scorecard_snapshot WHERE month = $1", month.replace(day=1))
        status = await connection.execute(
            f"INSERT INTO scorecard_snapshot ({columns}) SELECT {columns} FROM ({text}) x", *args
        )
    return int(status.split()[-1])


async def table_digest() -> str:
    """An MD5 of every scorecard row but its id, in provider order: equal digests, equal figures."""
    columns = ", ".join(COLUMNS)
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            f"SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x.provider), '')) "
            f"FROM (SELECT {columns} FROM provider_scorecard) x"
        )


# Reading, for pages -------------------------------------------------------------------------------


class Scorecard(msgspec.Struct, kw_only=True):
    provider: int
    provider_name: str = ""
    provider_status: str = ""
    computed_at: datetime
    window_days: int
    category: int | None = None
    category_zh: str | None = None
    category_en: str | None = None
    district: str | None = None
    redemptions_n: int = 0
    ratings_n: int = 0
    ratings_sum: int = 0
    prior_mean: float | None = None
    prior_weight: float = PRIOR_WEIGHT
    satisfaction: float | None = None
    satisfaction_raw: float | None = None
    honoured_n: int = 0
    honoured_yes: int = 0
    honoured_low: float | None = None
    complaints_n: int = 0
    complaints_per_100: float | None = None
    missed_responses_n: int = 0
    responses_n: int = 0
    median_response_hours: float | None = None
    third_party_n: int = 0
    third_party_score: float | None = None
    trend: float | None = None
    trend_recent_n: int = 0
    trend_previous_n: int = 0
    rank_category: int | None = None
    category_ranked_n: int | None = None
    rank_district: int | None = None
    district_ranked_n: int | None = None
    month: date | None = None


class ScorecardPage(msgspec.Struct):
    items: list[Scorecard]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


_READ = """
SELECT s.*, p.name AS provider_name, p.status AS provider_status, c.name_zh AS category_zh, c.name_en AS category_en
FROM {table} s JOIN provider p ON p.id = s.provider LEFT JOIN category c ON c.id = s.category
"""


def _card(row) -> Scorecard:
    fields = set(Scorecard.__struct_fields__)
    return Scorecard(**{key: value for key, value in dict(row).items() if key in fields})


async def _fetch(sql: str, *args) -> list:
    async with engine().transaction() as transaction:
        return await transaction.connection.fetch(sql, *args)


async def scorecard_of(provider_id: int) -> Scorecard | None:
    rows = await _fetch(_READ.format(table="provider_scorecard") + " WHERE s.provider = $1", provider_id)
    return _card(rows[0]) if rows else None


async def history_of(provider_id: int, months: int = 12) -> list[Scorecard]:
    """The provider's monthly snapshots, oldest first (at most `months`)."""
    rows = await _fetch(
        _READ.format(table="scorecard_snapshot") + " WHERE s.provider = $1 ORDER BY s.month DESC LIMIT $2",
        provider_id,
        months,
    )
    return [_card(row) for row in reversed(rows)]


SORTS = {
    "satisfaction": "s.satisfaction DESC NULLS LAST, s.ratings_n DESC, s.provider",
    "complaints": "s.complaints_per_100 DESC NULLS LAST, s.complaints_n DESC, s.provider",
    "honoured": "s.honoured_low ASC NULLS LAST, s.provider",
    "missed": "s.missed_responses_n DESC, s.provider",
    "volume": "s.redemptions_n DESC, s.provider",
}
PROVIDER_STATUSES = ADMITTED

# Each provider's state under the enforcement policy, as rows (provider, state).
STANDING_SQL: str | None = "SELECT provider, state FROM provider_standing"


def _scope_filter(
    principal: Principal, district: str | None, category: int | None, status: str | None, state: str | None, q: str = ""
) -> tuple[str, list]:
    clauses = ["n.path LIKE $1"]
    args: list = [(principal.node_path or "/nowhere/") + "%"]
    # Part of the provider's name; LIKE's own characters typed in the box are dropped.
    text = search_text(q)[:60]
    if text:
        args.append(text)
        clauses.append(f"p.name ILIKE '%' || ${len(args)} || '%'")
    if district:
        args.append(district)
        clauses.append(f"s.district = ${len(args)}")
    if category:
        args.append(category)
        clauses.append(f"s.category = ${len(args)}")
    if status in ADMITTED:
        args.append(status)
        clauses.append(f"p.status = ${len(args)}")
    if state and STANDING_SQL:
        args.append(state)
        clauses.append(f"s.provider IN (SELECT provider FROM ({STANDING_SQL}) st WHERE st.state = ${len(args)})")
    return " AND ".join(clauses), args


_SCOPED = """
FROM provider_scorecard s JOIN provider p ON p.id = s.provider JOIN union_node n ON n.id = p.node
LEFT JOIN category c ON c.id = s.category
"""


async def list_scorecards(
    principal: Principal,
    *,
    district: str | None = None,
    category: int | None = None,
    status: str | None = None,
    state: str | None = None,
    sort: str = "satisfaction",
    page: int = 1,
    page_size: int = 50,
    q: str = "",
) -> ScorecardPage:
    """The scorecards of the providers in the operator's subtree, ranked; `q` is part of a name."""
    where, args = _scope_filter(principal, district, category, status, state, q)
    order = SORTS.get(sort, SORTS["satisfaction"])
    async with engine().transaction() as transaction:
        connection = transaction.connection
        total = await connection.fetchval(f"SELECT count(*) {_SCOPED} WHERE {where}", *args)
        rows = await connection.fetch(
            f"SELECT s.*, p.name AS provider_name, p.status AS provider_status, c.name_zh AS category_zh, "
            f"c.name_en AS category_en {_SCOPED} WHERE {where} ORDER BY {order} "
            f"LIMIT {int(page_size)} OFFSET {int((max(page, 1) - 1) * page_size)}",
            *args,
        )
    return ScorecardPage(items=[_card(row) for row in rows], total=total, page=max(page, 1), page_size=page_size)


async def scope_choices(principal: Principal) -> dict:
    """The districts and categories that occur among the scorecards in scope, for filters."""
    path = (principal.node_path or "/nowhere/") + "%"
    rows = await _fetch(
        f"SELECT DISTINCT s.district {_SCOPED} WHERE n.path LIKE $1 AND s.district IS NOT NULL ORDER BY 1", path
    )
    categories = await _fetch(
        f"SELECT DISTINCT c.id, c.name_zh, c.name_en {_SCOPED} WHERE n.path LIKE $1 AND c.id IS NOT NULL ORDER BY c.id",
        path,
    )
    return {"districts": [row["district"] for row in rows], "categories": [dict(row) for row in categories]}


class ScopeMonth(msgspec.Struct):
    month: date | None  # None: the current rolling window
    satisfaction: float | None  # mean of every rating in scope that month
    ratings_n: int
    complaints_per_100: float | None
    redemptions_n: int


async def scope_trend(
    principal: Principal, months: int = 12, district: str | None = None, category: int | None = None
) -> list[ScopeMonth]:
    """Per month (snapshots), then the current window: the mean rating across the scope and
    its complaint rate."""
    clauses = ["n.path LIKE $1"]
    args: list[object] = [(principal.node_path or "/nowhere/") + "%"]  # the statement's parameters, in $n order
    if district:
        args.append(district)
        clauses.append(f"s.district = ${len(args)}")
    if category:
        args.append(category)
        clauses.append(f"s.category = ${len(args)}")
    where = " AND ".join(clauses)
    aggregate = (
        "sum(s.ratings_sum)::numeric / nullif(sum(s.ratings_n), 0) AS satisfaction, "
        "coalesce(sum(s.ratings_n), 0)::int AS ratings_n, "
        "100 * sum(s.complaints_n)::numeric / nullif(sum(s.redemptions_n), 0) AS complaints_per_100, "
        "coalesce(sum(s.redemptions_n), 0)::int AS redemptions_n"
    )
    scoped = "JOIN provider p ON p.id = s.provider JOIN union_node n ON n.id = p.node"
    args.append(months)
    monthly = await _fetch(
        f"SELECT * FROM (SELECT s.month, {aggregate} FROM scorecard_snapshot s {scoped} WHERE {where} "
        f"GROUP BY s.month ORDER BY s.month DESC LIMIT ${len(args)}) m ORDER BY month",
        *args,
    )
    current = await _fetch(
        f"SELECT NULL::date AS month, {aggregate} FROM provider_scorecard s {scoped} WHERE {where}", *args[:-1]
    )
    return [
        ScopeMonth(
            month=row["month"],
            satisfaction=_float(row["satisfaction"]),
            ratings_n=row["ratings_n"],
            complaints_per_100=_float(row["complaints_per_100"]),
            redemptions_n=row["redemptions_n"],
        )
        for row in [*monthly, *current]
        if row["ratings_n"] or row["redemptions_n"]
    ]


def _float(value) -> float | None:
    return None if value is None else float(value)


class CategoryFigures(msgspec.Struct):
    category: int
    name_zh: str
    name_en: str
    providers_n: int
    bands: list[int]  # providers per satisfaction band (SATISFACTION_BANDS), unrated ones left out
    satisfaction: float | None  # mean of every rating of the category
    ratings_n: int
    complaints_n: int
    redemptions_n: int
    complaints_per_100: float | None


async def by_category(principal: Principal, district: str | None = None) -> list[CategoryFigures]:
    """Per category in scope: how providers' satisfaction is spread, and the complaint rate."""
    args: list = [(principal.node_path or "/nowhere/") + "%", list(SATISFACTION_BANDS)]
    extra = ""
    if district:
        args.append(district)
        extra = f"AND s.district = ${len(args)}"
    rows = await _fetch(
        f"""
        SELECT c.id AS category, c.name_zh, c.name_en, count(*)::int AS providers_n,
               array_agg(width_bucket(s.satisfaction, $2::float8[])) FILTER (WHERE s.satisfaction IS NOT NULL)
                   AS buckets,
               sum(s.ratings_sum)::numeric / nullif(sum(s.ratings_n), 0) AS satisfaction,
               sum(s.ratings_n)::int AS ratings_n, sum(s.complaints_n)::int AS complaints_n,
               sum(s.redemptions_n)::int AS redemptions_n,
               100 * sum(s.complaints_n)::numeric / nullif(sum(s.redemptions_n), 0) AS complaints_per_100
        {_SCOPED} WHERE n.path LIKE $1 AND c.id IS NOT NULL {extra}
        GROUP BY c.id, c.name_zh, c.name_en ORDER BY c.id
    """,
        *args,
    )
    result = []
    for row in rows:
        bands = [0] * (len(SATISFACTION_BANDS) + 1)
        for bucket in row["buckets"] or []:
            bands[bucket] += 1
        result.append(
            CategoryFigures(
                category=row["category"],
                name_zh=row["name_zh"],
                name_en=row["name_en"],
                providers_n=row["providers_n"],
                bands=bands,
                satisfaction=_float(row["satisfaction"]),
                ratings_n=row["ratings_n"],
                complaints_n=row["complaints_n"],
                redemptions_n=row["redemptions_n"],
                complaints_per_100=_float(row["complaints_per_100"]),
            )
        )
    return result


async def iter_scorecards(
    principal: Principal,
    *,
    district: str | None = None,
    category: int | None = None,
    status: str | None = None,
    state: str | None = None,
    sort: str = "satisfaction",
    limit: int = 100_000,
    q: str = "",
) -> list[Scorecard]:
    """Every scorecard the filters select, in rank order, for the CSV export (capped)."""
    page = await list_scorecards(
        principal,
        district=district,
        category=category,
        status=status,
        state=state,
        sort=sort,
        page=1,
        page_size=limit,
        q=q,
    )
    return page.items
