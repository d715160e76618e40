"""Report aggregates against the raw vouchers, roll-ups by node path, scope, CSV exports and
a repeated job run."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.core.db import engine
from marketplace.core.identity.principal import Principal
from marketplace.reports import services
from tests.factories import add_member
from tests.providers.test_pages import HTML, _login

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)  # the pages read the real clock


async def execute(sql: str, *args):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


async def fetch(sql: str, *args) -> list:
    async with engine().transaction() as transaction:
        return [dict(r) for r in await transaction.connection.fetch(sql, *args)]


_serial = iter(range(1, 10_000))


async def voucher(
    world,
    member: int,
    offer: str = "public",
    days_ago: float = 1,
    redeemed_days_ago: float | None = None,
    status: str | None = None,
    subsidy: int = 3000,
    paid: int = 500,
) -> int:
    claimed = NOW - timedelta(days=days_ago)
    redeemed = None if redeemed_days_ago is None else NOW - timedelta(days=redeemed_days_ago)
    status = status or ("redeemed" if redeemed else "issued")
    return await execute(
        "INSERT INTO voucher (code, offer, member, provider, status, period_start, claimed_at, expires_at, redeemed_at, "
        "subsidy_fen, paid_fen) VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $6::timestamptz, $6::timestamptz + interval '30 days', $7, $8, $9) RETURNING id",
        f"T{next(_serial):013d}",
        world.offers[offer],
        member,
        world.providers["chaoyang"]["id"],
        status,
        claimed,
        redeemed,
        subsidy,
        paid,
    )


@pytest.fixture
async def small(world) -> dict:
    """Vouchers of three members in two districts, two categories, over several days."""
    n = world.nodes
    cy, hd = world.members["chaoyang"][0], world.members["haidian"][0]
    cy2, _ = await add_member(n["cy_union"], 3, "张伟", groups=("migrant",), gender="M")
    dining = await execute(
        "INSERT INTO category (code, name_zh, name_en) VALUES ('dining', '餐饮', 'Dining') RETURNING id"
    )
    await execute("UPDATE offer SET category = $1 WHERE id = $2", dining, world.offers["haidian_only"])
    plan = [
        (cy, "public", 1, 1),
        (cy, "public", 1, None),
        (cy, "women", 2, 1.5),
        (cy2, "public", 2, 2),
        (cy2, "haidian_only", 3, None),
        (hd, "public", 1, 0.5),
        (hd, "haidian_only", 3, 2),
        (hd, "public", 5, 4),
        (hd, "public", 200, 199),  # outside the 90-day window
    ]
    for member, offer, days, redeemed in plan:
        await voucher(world, member, offer, days, redeemed)
    await voucher(world, cy, "public", 1, status="pending")  # not paid yet: no claim
    await voucher(world, hd, "public", 2, status="cancelled", paid=900)  # a claim; its money went back
    for query, district, count in [
        ("游泳", "朝阳区", 3),
        ("瑜伽", "海淀区", 2),
        ("游泳", "海淀区", 1),
        ("攀岩", None, 4),
    ]:
        for _ in range(count):
            await execute(
                "INSERT INTO search_miss (query, district, groups, created_at) VALUES ($1, $2, '{}', $3)",
                query,
                district,
                NOW - timedelta(days=1),
            )
    await services.refresh(NOW, full=True)
    return {"cy2": cy2, "dining": dining}


RAW = """
WITH e AS (
    SELECT (claimed_at AT TIME ZONE 'Asia/Shanghai')::date AS day, member, offer, 1 AS c, 0 AS r
    FROM voucher WHERE status <> 'pending'
    UNION ALL
    SELECT (redeemed_at AT TIME ZONE 'Asia/Shanghai')::date, member, offer, 0, 1 FROM voucher
    WHERE redeemed_at IS NOT NULL)
SELECT e.day, m.node, o.category, g AS member_group, sum(c)::int AS claims, sum(r)::int AS redemptions
FROM e JOIN member m ON m.id = e.member JOIN offer o ON o.id = e.offer,
     unnest(array_append(m.groups, '*')) g
GROUP BY 1, 2, 3, 4
"""


async def test_aggregates_match_the_raw_vouchers(world, small):
    raw = {
        (r["day"], r["node"], r["category"], r["member_group"]): (r["claims"], r["redemptions"])
        for r in await fetch(RAW)
    }
    kept = {
        (r["day"], r["node"], r["category"], r["member_group"]): (r["claims"], r["redemptions"])
        for r in await fetch("SELECT * FROM report_usage_daily")
    }
    assert kept == raw
    assert sum(c for (_, _, _, g), (c, _) in kept.items() if g == "*") == 10  # 12 vouchers, one pending
    assert sum(r for (_, _, _, g), (_, r) in kept.items() if g == "*") == 7
    # Money: the subsidy of redeemed vouchers; the member share of claims not cancelled.
    totals = (
        await fetch(
            "SELECT sum(subsidy_fen)::int AS s, sum(paid_fen)::int AS p FROM report_usage_daily "
            "WHERE member_group = '*'"
        )
    )[0]
    assert totals == {"s": 7 * 3000, "p": 9 * 500}
    groups = {
        r["member_group"]: r["claims"]
        for r in await fetch("SELECT member_group, sum(claims)::int AS claims FROM report_usage_daily GROUP BY 1")
    }
    assert groups == {"*": 10, "women": 3, "gig": 3, "migrant": 2}
    providers = await fetch("SELECT sum(redemptions)::int AS r FROM report_provider_daily")
    assert providers[0]["r"] == 7
    paths = await fetch(
        "SELECT DISTINCT u.node_path = n.path AS same FROM report_usage_daily u JOIN union_node n ON n.id = u.node"
    )
    assert paths == [{"same": True}]


async def test_rollup_to_a_parent_is_the_sum_of_its_children(world, small):
    operator = Principal(
        kind="operator",
        id=1,
        display_name="op",
        node_id=world.nodes["national"],
        node_path=await execute("SELECT path FROM union_node WHERE id = $1", world.nodes["national"]),
    )
    beijing = await services.dashboard(operator, world.nodes["beijing"], now=NOW)
    chaoyang = await services.dashboard(operator, world.nodes["chaoyang"], now=NOW)
    haidian = await services.dashboard(operator, world.nodes["haidian"], now=NOW)
    total = lambda board, key: sum(day[key] for day in board.daily)  # noqa: E731
    for key in ("claims", "redemptions", "subsidy_fen", "paid_fen"):
        assert total(beijing, key) == total(chaoyang, key) + total(haidian, key)
        children = {r["node"].id: r[key] for r in beijing.by_child}
        assert children == {world.nodes["chaoyang"]: total(chaoyang, key), world.nodes["haidian"]: total(haidian, key)}
    # The 200-day-old voucher lies outside the 90-day window.
    assert total(beijing, "claims") == 9 and total(beijing, "redemptions") == 6
    assert total(chaoyang, "claims") == 5 and total(chaoyang, "redemptions") == 3
    assert {r["name_en"]: r["claims"] for r in beijing.by_category} == {"Fitness": 7, "Dining": 2}
    assert {r["code"]: r["claims"] for r in chaoyang.by_group} == {"women": 3, "gig": 3, "migrant": 2}
    # Daily series: yesterday (Shanghai) holds three claims in Beijing.
    yesterday = {d["day"]: d for d in beijing.daily}[services.today(NOW) - timedelta(days=1)]
    assert yesterday["claims"] == 3
    # Search misses: the district's node scopes them; misses without a district only at the root.
    assert {(m["district"], m["query"]): m["misses"] for m in chaoyang.misses} == {("朝阳区", "游泳"): 3}
    assert {m["district"] for m in beijing.misses} == {"朝阳区", "海淀区"}
    national = await services.dashboard(operator, None, now=NOW)
    assert ("", "攀岩") in {(m["district"], m["query"]) for m in national.misses}
    # Coverage: members by their union's district, providers by their locations' district.
    coverage = {r["district"]: (r["members"], r["providers"], r["flagged"]) for r in beijing.coverage}
    assert coverage == {"朝阳区": (2, 2, False), "海淀区": (1, 0, True)}
    below = await services.dashboard(operator, world.nodes["cy_union"], now=NOW)
    assert [r["district"] for r in below.coverage] == ["朝阳区"]


async def test_the_job_is_idempotent_and_incremental(world, small):
    before = await fetch("SELECT * FROM report_usage_daily ORDER BY day, node, category, member_group")
    misses = await fetch("SELECT * FROM report_search_miss_daily ORDER BY day, district, query")
    result = await services.refresh(NOW)  # incremental: from yesterday
    assert result.from_day == services.today(NOW) - timedelta(days=1)
    assert await fetch("SELECT * FROM report_usage_daily ORDER BY day, node, category, member_group") == before
    assert await fetch("SELECT * FROM report_search_miss_daily ORDER BY day, district, query") == misses
    await services.refresh(NOW, full=True)
    assert await fetch("SELECT * FROM report_usage_daily ORDER BY day, node, category, member_group") == before
    # A new claim today shows after the next incremental run, old days untouched.
    await voucher(world, world.members["haidian"][0], "public", days_ago=0.01, redeemed_days_ago=0.005)
    await services.refresh(NOW + timedelta(minutes=10))
    after = await fetch("SELECT * FROM report_usage_daily ORDER BY day, node, category, member_group")
    assert sum(r["claims"] for r in after if r["member_group"] == "*") == 11
    assert [r for r in after if r["day"] < services.today(NOW) - timedelta(days=1)] == [
        r for r in before if r["day"] < services.today(NOW) - timedelta(days=1)
    ]


async def test_scope_pages_and_csv(world, small, client):
    await _login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/reports", headers=HTML)
    assert page.status_code == 200
    assert "报表" in page.text and 'data-testid="chart-daily"' in page.text
    # A sibling district and a parent are outside a district operator's scope: as if missing.
    assert (await client.get(f"/console/reports?node={world.nodes['haidian']}")).status_code == 404
    assert (await client.get(f"/console/reports?node={world.nodes['beijing']}")).status_code == 404
    assert (await client.get(f"/console/reports/export/daily?node={world.nodes['haidian']}")).status_code == 404
    assert (await client.get(f"/console/reports?node={world.nodes['cy_union']}")).status_code == 200
    assert (await client.get("/console/reports/export/nonsense")).status_code == 404

    export = await client.get("/console/reports/export/categories")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][1].startswith("领取") and rows[0][2].startswith("核销") and len(rows[0]) == 5
    # Chaoyang: 5 claims (4 fitness, 1 dining), 3 redeemed (all fitness); money in yuan.
    assert rows[1:] == [["健身", "4", "3", "90.00", "20.00"], ["餐饮", "1", "0", "0.00", "5.00"]]
    misses = list(
        csv.reader(io.StringIO((await client.get("/console/reports/export/misses")).content.decode("utf-8-sig")))
    )
    assert misses[1:] == [["朝阳区", "游泳", "3"]]

    # The Hebei operator sees none of Beijing.
    client.cookies.clear()
    await _login(client, "console", world.operators["hebei"])
    assert (await client.get(f"/console/reports?node={world.nodes['chaoyang']}")).status_code == 404
    client.cookies.set("lang", "en")
    english = await client.get("/console/reports", headers=HTML)
    assert english.status_code == 200 and "Reports" in english.text
