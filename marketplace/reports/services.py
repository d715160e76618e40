"""Reports for operators, from aggregates a scheduled job keeps current.

The job (`refresh`, every 10 minutes) recomputes, in one transaction, every day from
`min(yesterday, the day of the last run)` in Asia/Shanghai: the last two days are always
fresh and a gap after downtime is filled. `refresh(full=True)` (`benefits reports
rebuild`) recomputes all history. The days recomputed are deleted and inserted again, so
a run repeated gives the same rows.

Aggregates (reports' own Piccolo app, migrations/reports/):
- report_usage_daily: claims (by claim day; pending paid claims left out), redemptions,
  subsidy (by redemption day) and the member share paid (by claim day; cancelled and
  refunded claims count 0, a partial refund counts what the member still paid) per (day,
  member's node, category, member group). The node is
  the member's node when the day is computed: a member who moved keeps old days at the
  old node until a full rebuild.
- report_provider_daily: redemptions per (day, provider) at the provider's node.
- report_search_miss_daily: searches with no result per (day, district, query).
- report_coverage: per district-level node, its active members and the active providers
  with a location in its district.

Approximations, for the record: a member has a node, not a district, so a member's
district is the district-level ancestor of their node; providers count where their
locations are (`location.district`, a name). A district node and a district name meet by
the node's Chinese name without its suffix ("朝阳区总工会" → "朝阳区"); where two
district nodes share a name the lower id wins. A search with no result has a district
only when the member filtered by one: misses without a district (or with an unknown
one) belong to no node and are shown to operators of the root node only.

Every roll-up to a node is a prefix scan of the rows' `node_path` (btree,
text_pattern_ops), so a parent's figures equal the sum of its children's.
"""

import asyncio
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from evaluation.scorecards import services as scorecards
from marketplace.core import dates, db
from marketplace.core.errors import NotFound
from marketplace.core.federation import scope
from marketplace.core.identity.principal import Principal

WINDOW_DAYS = 90
TOP_PROVIDERS = 10
MIN_RATINGS = 5  # a provider ranks in the top and bottom lists with at least this many ratings
TOP_MISSES = 20
# Coverage: a district is flagged when it has fewer providers than this per 10,000 members
# (or none at all while it has members).
PROVIDERS_PER_10K_MIN = 5.0
LOCK_KEY = 7_311_001  # pg advisory lock: one refresh at a time


def today(now: datetime | None = None) -> date:
    return (now or datetime.now(dates.zone())).astimezone(dates.zone()).date()


# The job ------------------------------------------------------------------------------------------


@dataclass
class RefreshResult:
    from_day: date
    seconds: float
    usage_rows: int = 0
    provider_rows: int = 0
    miss_rows: int = 0
    districts: int = 0


_DISTRICTS = """
    SELECT DISTINCT ON (name) id, path, name FROM (
        SELECT id, path, regexp_replace(name_zh, '(总工会|工会)$', '') AS name FROM union_node WHERE level = 'district'
    ) d ORDER BY name, id
"""

_USAGE = """
INSERT INTO report_usage_daily (day, node, node_path, category, member_group, claims, redemptions, subsidy_fen,
                                paid_fen)
WITH events AS (
    SELECT (claimed_at AT TIME ZONE $2)::date AS day, member, offer, 1 AS claims, 0 AS redemptions,
           0::bigint AS subsidy_fen,
           (CASE WHEN status IN ('cancelled', 'refunded') THEN 0 ELSE paid_fen - refunded_fen END)::bigint AS paid_fen
    FROM voucher WHERE claimed_at >= $1 AND status <> 'pending'
    UNION ALL
    SELECT (redeemed_at AT TIME ZONE $2)::date, member, offer, 0, 1, subsidy_fen::bigint, 0::bigint
    FROM voucher WHERE redeemed_at >= $1
), base AS (
    -- Group by the members' group sets first, then spread over the groups: far fewer rows to unnest.
    SELECT e.day, m.node, o.category, m.groups, sum(e.claims) AS claims, sum(e.redemptions) AS redemptions,
           sum(e.subsidy_fen) AS subsidy_fen, sum(e.paid_fen) AS paid_fen
    FROM events e JOIN member m ON m.id = e.member JOIN offer o ON o.id = e.offer
    GROUP BY e.day, m.node, o.category, m.groups
)
SELECT b.day, b.node, n.path, b.category, g.member_group, sum(b.claims), sum(b.redemptions), sum(b.subsidy_fen),
       sum(b.paid_fen)
FROM base b JOIN union_node n ON n.id = b.node
CROSS JOIN LATERAL (SELECT DISTINCT x FROM unnest(array_append(coalesce(b.groups, '{}'), '*')) x) g(member_group)
GROUP BY b.day, b.node, n.path, b.category, g.member_group
"""

_PROVIDERS = """
INSERT INTO report_provider_daily (day, provider, node_path, redemptions, subsidy_fen)
SELECT (v.redeemed_at AT TIME ZONE $2)::date, v.provider, n.path, count(*), sum(v.subsidy_fen)
FROM voucher v JOIN provider p ON p.id = v.provider JOIN union_node n ON n.id = p.node
WHERE v.redeemed_at >= $1
GROUP BY 1, 2, 3
"""

_MISSES = f"""
INSERT INTO report_search_miss_daily (day, district, query, node_path, misses)
SELECT (s.created_at AT TIME ZONE $2)::date, coalesce(s.district, ''), s.query, coalesce(d.path, ''), count(*)
FROM search_miss s LEFT JOIN ({_DISTRICTS}) d ON d.name = s.district
WHERE s.created_at >= $1
GROUP BY 1, 2, 3, 4
"""

_COVERAGE = f"""
INSERT INTO report_coverage (node, node_path, district, members, providers, computed_at)
WITH d AS ({_DISTRICTS}),
per_node AS (SELECT node, count(*) AS members FROM member WHERE status = 'active' GROUP BY node),
members AS (
    SELECT d.id, sum(p.members) AS members
    FROM d JOIN union_node n ON n.path LIKE d.path || '%' JOIN per_node p ON p.node = n.id
    GROUP BY d.id
),
providers AS (
    SELECT l.district, count(DISTINCT l.provider) AS providers
    FROM location l JOIN provider p ON p.id = l.provider
    WHERE p.status = 'active' GROUP BY l.district
)
SELECT d.id, d.path, d.name, coalesce(m.members, 0), coalesce(p.providers, 0), now()
FROM d LEFT JOIN members m ON m.id = d.id LEFT JOIN providers p ON p.district = d.name
"""


async def refresh(now: datetime | None = None, full: bool = False) -> RefreshResult:
    """Recompute the aggregates for the days that may have changed (all of them if `full`)."""
    started = time.perf_counter()
    zone = dates.zone_name()
    moment = now or datetime.now(ZoneInfo(zone))
    async with db.engine().transaction() as transaction:
        c = transaction.connection
        await c.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
        last = await c.fetchval("SELECT last_run_at FROM report_run WHERE name = 'reports'")
        from_day = date(1970, 1, 1) if full or last is None else min(today(moment) - timedelta(days=1), today(last))
        start = datetime.combine(from_day, datetime.min.time(), ZoneInfo(zone))
        await c.execute("SET LOCAL work_mem = '256MB'")
        result = RefreshResult(from_day=from_day, seconds=0)
        for table in ("report_usage_daily", "report_provider_daily", "report_search_miss_daily"):
            await c.execute(f"DELETE FROM {table} WHERE day >= $1", from_day)
        result.usage_rows = _count(await c.execute(_USAGE, start, zone))
        result.provider_rows = _count(await c.execute(_PROVIDERS, start, zone))
        result.miss_rows = _count(await c.execute(_MISSES, start, zone))
        await c.execute("DELETE FROM report_coverage")
        result.districts = _count(await c.execute(_COVERAGE))
        result.seconds = time.perf_counter() - started
        await c.execute(
            "INSERT INTO report_run (name, last_run_at, from_day, seconds) VALUES ('reports', $1, $2, $3) "
            "ON CONFLICT (name) DO UPDATE SET last_run_at = $1, from_day = $2, seconds = $3",
            moment,
            from_day,
            result.seconds,
        )
    return result


def _count(status: str) -> int:
    return int(status.split()[-1]) if status and status.split()[-1].isdigit() else 0


# Reading --------------------------------------------------------------------------------------------


@dataclass
class Node:
    id: int
    path: str
    level: str
    name_zh: str
    name_en: str
    parent: int | None = None


@dataclass
class Dashboard:
    node: Node
    trail: list[Node]  # from the operator's node down to the chosen one
    children: list[Node]
    start: date
    end: date
    days: list[date] = field(default_factory=list)
    daily: list[dict] = field(default_factory=list)  # day, claims, redemptions, subsidy_fen, paid_fen
    by_child: list[dict] = field(default_factory=list)  # child (Node | None = the node itself), figures
    by_category: list[dict] = field(default_factory=list)  # category id, name_zh, name_en, figures
    by_group: list[dict] = field(default_factory=list)  # code, name_zh, name_en, figures
    burn: dict = field(default_factory=dict)  # days, subsidy_fen, campaign_fen (or None), budget_fen (or None)
    funding: list[dict] = field(default_factory=list)  # payer node, campaign, uses, amount_fen (live parts)
    satisfaction: list = field(default_factory=list)  # scorecards.ScopeMonth
    top: list[dict] = field(default_factory=list)
    bottom: list[dict] = field(default_factory=list)
    misses: list[dict] = field(default_factory=list)  # district, query, misses
    misses_by_district: list[dict] = field(default_factory=list)
    coverage: list[dict] = field(default_factory=list)
    last_run_at: datetime | None = None
    timings_ms: dict = field(default_factory=dict)


async def _fetch(sql: str, *args) -> list:
    async with db.connection() as c:
        return await c.fetch(sql, *args)


async def _node(node_id: int) -> Node | None:
    rows = await _fetch("SELECT id, path, level, name_zh, name_en, parent FROM union_node WHERE id = $1", node_id)
    return Node(**dict(rows[0])) if rows else None


async def resolve_node(principal: Principal, node_id: int | None) -> Node:
    """The node the operator asked for (their own by default), if within their scope."""
    wanted = node_id or principal.node_id
    node = await _node(wanted) if wanted else None
    scope.require_covers(
        principal, node.path if node else None, NotFound("No such union node in your scope.", code="node_not_found")
    )
    assert node is not None
    return node


def _figures(row) -> dict:
    return {
        "claims": int(row["claims"] or 0),
        "redemptions": int(row["redemptions"] or 0),
        "subsidy_fen": int(row["subsidy_fen"] or 0),
        "paid_fen": int(row["paid_fen"] or 0),
    }


async def _usage(node: Node, start: date) -> list:
    return await _fetch(
        """SELECT day, child, category, GROUPING(day, child, category) AS set,
                  sum(claims) AS claims, sum(redemptions) AS redemptions, sum(subsidy_fen) AS subsidy_fen,
                  sum(paid_fen) AS paid_fen
           FROM (SELECT day, split_part(substr(node_path, $3), '/', 1) AS child, category, claims, redemptions,
                        subsidy_fen, paid_fen
                 FROM report_usage_daily WHERE node_path LIKE $1 AND day >= $2 AND member_group = '*') u
           GROUP BY GROUPING SETS ((day), (child), (category))""",
        node.path + "%",
        start,
        len(node.path) + 1,
    )


async def _groups(node: Node, start: date) -> list:
    return await _fetch(
        """SELECT u.member_group, g.name_zh, g.name_en, sum(claims) AS claims, sum(redemptions) AS redemptions,
                  sum(subsidy_fen) AS subsidy_fen, sum(paid_fen) AS paid_fen
           FROM report_usage_daily u LEFT JOIN member_group g ON g.code = u.member_group
           WHERE u.node_path LIKE $1 AND u.day >= $2 AND u.member_group <> '*'
           GROUP BY 1, 2, 3 ORDER BY sum(redemptions) DESC, 1""",
        node.path + "%",
        start,
    )


_RANKED = """
    SELECT s.provider, p.name, n.path, s.satisfaction, s.ratings_n, s.complaints_per_100, s.district,
           c.name_zh AS category_zh, c.name_en AS category_en,
           (SELECT coalesce(sum(d.redemptions), 0) FROM report_provider_daily d
            WHERE d.provider = s.provider AND d.day >= $3) AS redemptions
    FROM provider_scorecard s JOIN provider p ON p.id = s.provider JOIN union_node n ON n.id = p.node
    LEFT JOIN category c ON c.id = s.category
    WHERE n.path LIKE $1 AND s.ratings_n >= $2 AND s.satisfaction IS NOT NULL
"""


async def _ranked(node: Node, start: date, best: bool) -> list:
    order = "DESC" if best else "ASC"
    return await _fetch(
        f"{_RANKED} ORDER BY s.satisfaction {order}, s.ratings_n DESC, s.provider LIMIT {TOP_PROVIDERS}",
        node.path + "%",
        MIN_RATINGS,
        start,
    )


async def _misses(node: Node, start: date) -> list:
    # Misses without a known district belong to no node: only the root's operators see them.
    extra = " OR node_path = ''" if node.parent is None else ""
    return await _fetch(
        f"""SELECT district, query, sum(misses) AS misses FROM report_search_miss_daily
            WHERE (node_path LIKE $1{extra}) AND day >= $2
            GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT {TOP_MISSES}""",
        node.path + "%",
        start,
    )


async def _misses_by_district(node: Node, start: date) -> list:
    extra = " OR node_path = ''" if node.parent is None else ""
    return await _fetch(
        f"""SELECT district, sum(misses) AS misses, count(DISTINCT query) AS queries FROM report_search_miss_daily
            WHERE (node_path LIKE $1{extra}) AND day >= $2 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 30""",
        node.path + "%",
        start,
    )


async def _coverage(node: Node) -> list:
    # The districts within the node, or the district the node lies in.
    return await _fetch(
        """SELECT node, node_path, district, members, providers FROM report_coverage
           WHERE node_path LIKE $1 OR $2 LIKE node_path || '%' ORDER BY district""",
        node.path + "%",
        node.path,
    )


async def _campaigns(node: Node, start: date, end: date) -> tuple[list, int | None]:
    """Campaign spend per day and the budgets of campaigns running in the window, when the
    campaign tables exist (None otherwise)."""
    present = await _fetch(
        "SELECT to_regclass('campaign_spend') IS NOT NULL AS spend, to_regclass('campaign') IS NOT NULL AS campaign"
    )
    if not (present and present[0]["spend"] and present[0]["campaign"]):
        return [], None
    zone = dates.zone_name()
    begin = datetime.combine(start, datetime.min.time(), ZoneInfo(zone))
    finish = datetime.combine(end + timedelta(days=1), datetime.min.time(), ZoneInfo(zone))
    spend = await _fetch(
        """SELECT (s.spent_at AT TIME ZONE $4)::date AS day, sum(s.amount_fen) AS amount_fen
           FROM campaign_spend s JOIN campaign c ON c.id = s.campaign JOIN union_node n ON n.id = c.node
           WHERE n.path LIKE $1 AND s.spent_at >= $2 AND s.spent_at < $3 AND s.refunded_at IS NULL
           GROUP BY 1""",
        node.path + "%",
        begin,
        finish,
        zone,
    )
    budget = await _fetch(
        """SELECT coalesce(sum(c.budget_fen), 0) AS budget_fen, count(*) AS n
           FROM campaign c JOIN union_node n ON n.id = c.node
           WHERE n.path LIKE $1 AND c.starts_at < $3 AND c.ends_at >= $2""",
        node.path + "%",
        begin,
        finish,
    )
    return spend, (int(budget[0]["budget_fen"]) if budget and budget[0]["n"] else None)


async def _funding(node: Node, start: date, end: date) -> list:
    """Each paying node's part of the campaigns' uses in the window, exact to the fen: the
    parts of campaigns serving the node's subtree, and the parts its subtree's unions paid."""
    present = await _fetch("SELECT to_regclass('campaign_share_spend') IS NOT NULL AS present")
    if not (present and present[0]["present"]):
        return []
    zone = dates.zone_name()
    begin = datetime.combine(start, datetime.min.time(), ZoneInfo(zone))
    finish = datetime.combine(end + timedelta(days=1), datetime.min.time(), ZoneInfo(zone))
    return await _fetch(
        """SELECT p.id AS payer, p.name_zh AS payer_zh, p.name_en AS payer_en, c.id AS campaign,
                  c.name_zh AS campaign_zh, c.name_en AS campaign_en, count(*) AS uses, sum(s.amount_fen) AS amount_fen
           FROM campaign_share_spend s JOIN campaign c ON c.id = s.campaign JOIN union_node served ON served.id = c.node
           JOIN union_node p ON p.id = s.node
           WHERE (served.path LIKE $1 OR p.path LIKE $1) AND s.spent_at >= $2 AND s.spent_at < $3
             AND s.refunded_at IS NULL
           GROUP BY p.id, p.path, c.id ORDER BY p.path, c.id""",
        node.path + "%",
        begin,
        finish,
    )


async def _timed(timings: dict, name: str, work):
    started = time.perf_counter()
    try:
        return await work
    finally:
        timings[name] = round((time.perf_counter() - started) * 1000, 1)


async def dashboard(
    principal: Principal, node_id: int | None = None, now: datetime | None = None, days: int = WINDOW_DAYS
) -> Dashboard:
    """Everything the reports page shows for one node in the operator's scope."""
    node = await resolve_node(principal, node_id)
    end = today(now)
    start = end - timedelta(days=days - 1)
    scope = Principal(
        kind="operator", id=principal.id, display_name=principal.display_name, node_id=node.id, node_path=node.path
    )
    timings: dict = {}
    work = {
        "usage": _usage(node, start),
        "groups": _groups(node, start),
        "top": _ranked(node, start, True),
        "bottom": _ranked(node, start, False),
        "misses": _misses(node, start),
        "misses_by_district": _misses_by_district(node, start),
        "coverage": _coverage(node),
        "campaigns": _campaigns(node, start, end),
        "funding": _funding(node, start, end),
        "satisfaction": scorecards.scope_trend(scope),
        "children": _fetch(
            "SELECT id, path, level, name_zh, name_en, parent FROM union_node WHERE parent = $1 ORDER BY id", node.id
        ),
        "trail": _fetch(
            "SELECT id, path, level, name_zh, name_en, parent FROM union_node "
            "WHERE $1 LIKE path || '%' AND path LIKE $2 ORDER BY depth",
            node.path,
            (principal.node_path or "/nowhere/") + "%",
        ),
        "categories": _fetch("SELECT id, name_zh, name_en FROM category"),
        "last_run": _fetch("SELECT last_run_at FROM report_run WHERE name = 'reports'"),
    }
    timed = [_timed(timings, name, job) for name, job in work.items()]
    if db.engine().current_transaction.get() is None:
        results = dict(zip(work, await asyncio.gather(*timed), strict=True))
    else:  # one connection: one statement at a time
        results = {name: await job for name, job in zip(work, timed, strict=True)}

    board = Dashboard(
        node=node,
        start=start,
        end=end,
        trail=[Node(**dict(r)) for r in results["trail"]],
        children=[Node(**dict(r)) for r in results["children"]],
        timings_ms=timings,
    )
    board.days = [start + timedelta(days=i) for i in range(days)]
    per_day: dict[date, dict] = {}
    per_child: dict[str, dict] = {}
    per_category: dict[int, dict] = {}
    for row in results["usage"]:
        if row["set"] == 0b011:
            per_day[row["day"]] = _figures(row)
        elif row["set"] == 0b101:
            per_child[row["child"]] = _figures(row)
        elif row["set"] == 0b110:
            per_category[row["category"]] = _figures(row)
    zero = {"claims": 0, "redemptions": 0, "subsidy_fen": 0, "paid_fen": 0}
    board.daily = [{"day": d, **per_day.get(d, zero)} for d in board.days]
    board.by_child = [{"node": None, **per_child[""]}] if "" in per_child else []
    board.by_child += [{"node": child, **per_child.get(str(child.id), zero)} for child in board.children]
    names = {r["id"]: r for r in results["categories"]}
    board.by_category = sorted(
        [
            {
                "category": cid,
                "name_zh": names[cid]["name_zh"] if cid in names else str(cid),
                "name_en": names[cid]["name_en"] if cid in names else str(cid),
                **figures,
            }
            for cid, figures in per_category.items()
        ],
        key=lambda r: (-r["redemptions"], -r["claims"], r["category"]),
    )
    board.by_group = [
        {
            "code": r["member_group"],
            "name_zh": r["name_zh"] or r["member_group"],
            "name_en": r["name_en"] or r["member_group"],
            **_figures(r),
        }
        for r in results["groups"]
    ]
    spend, budget = results["campaigns"]
    spend_by_day = {r["day"]: int(r["amount_fen"]) for r in spend}
    board.burn = {"subsidy_fen": [], "campaign_fen": [] if budget is not None or spend else None, "budget_fen": budget}
    running = campaign_running = 0
    for d in board.days:
        running += per_day.get(d, zero)["subsidy_fen"]
        board.burn["subsidy_fen"].append(running)
        if board.burn["campaign_fen"] is not None:
            campaign_running += spend_by_day.get(d, 0)
            board.burn["campaign_fen"].append(campaign_running)
    board.funding = [{**dict(r), "amount_fen": int(r["amount_fen"])} for r in results["funding"]]
    board.satisfaction = results["satisfaction"]
    board.top = [dict(r) for r in results["top"]]
    board.bottom = [dict(r) for r in results["bottom"]]
    board.misses = [dict(r) for r in results["misses"]]
    board.misses_by_district = [dict(r) for r in results["misses_by_district"]]
    board.coverage = [coverage_row(dict(r)) for r in results["coverage"]]
    board.last_run_at = results["last_run"][0]["last_run_at"] if results["last_run"] else None
    return board


def coverage_row(row: dict) -> dict:
    members, providers = row["members"], row["providers"]
    per_10k = providers * 10_000 / members if members else None
    row["providers_per_10k"] = per_10k
    row["flagged"] = bool(members) and (providers == 0 or (per_10k is not None and per_10k < PROVIDERS_PER_10K_MIN))
    return row
