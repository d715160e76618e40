"""`benefits bench reports`: the reports at city scale.

Against the database in BENEFITS_VAR (migrated and seeded small first, for the tree,
categories, providers and offers: `benefits seed --members 10 --providers 20 --offers 50`)
it generates, with set-based INSERT … SELECT generate_series (kept between runs;
regenerated with --regenerate or when the sizes differ):
- N members (name 报表压测) spread over the grassroots unions under the city with the most
  of them, each in 0–2 groups;
- M vouchers of the seeded offers over the last 365 days (85 % redeemed within a day,
  5 % cancelled, the rest issued or expired), codes starting with "R";
- 200,000 searches with no result over 30 queries and the districts.
Foreign-key triggers are skipped while generating (session_replication_role = replica):
the rows are consistent by construction.

Then: the full aggregation (`services.refresh(full=True)`), an incremental run (the
10-minute job), and the city operator's dashboard: the service call that builds the
page's data, and the page over HTTP from a started web app (signed in as a bench
operator at the city node) — p50/p95 over `loads` loads after one warm-up.
"""

import os
import time
from dataclasses import dataclass, field

import httpx

from benchmarks import common as benchmarking
from marketplace.core import db
from marketplace.core.identity.passwords import hash_password
from marketplace.core.identity.principal import Principal
from marketplace.reports import services
from marketplace.runtime import components, processes

CHUNK = 1_000_000
OPERATOR = "bench_reports_city"
PASSWORD = "Bench-Reports-42"
QUERIES = [
    "游泳",
    "瑜伽",
    "攀岩",
    "牙科",
    "托管",
    "老年大学",
    "篮球",
    "乒乓球",
    "法律咨询",
    "心理咨询",
    "家政",
    "月嫂",
    "驾校",
    "钢琴",
    "书法",
    "舞蹈",
    "洗车",
    "修鞋",
    "配钥匙",
    "宠物医院",
    "健身私教",
    "中医推拿",
    "体检套餐",
    "眼科",
    "儿童乐园",
    "温泉",
    "滑雪",
    "露营",
    "读书会",
    "电竞",
]


@dataclass
class Report:
    members: int = 0
    vouchers: int = 0
    generated_s: float | None = None
    full_s: float = 0
    incremental_s: float = 0
    usage_rows: int = 0
    service_first_ms: float = 0
    service_ms: list[float] = field(default_factory=list)
    http_first_ms: float | None = None
    http_ms: list[float] = field(default_factory=list)
    city: str = ""
    parts_ms: dict = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str]]:
        p = benchmarking.percentile
        out = [("data", f"{self.members:,} members, {self.vouchers:,} vouchers")]
        if self.generated_s is not None:
            out.append(("data generated", f"{self.generated_s:.1f} s"))
        out += [
            ("full aggregation (all history)", f"{self.full_s:.1f} s ({self.usage_rows:,} usage rows)"),
            ("incremental aggregation (the 10-minute job)", f"{self.incremental_s:.2f} s"),
            (
                f"dashboard data, service call, {self.city} ({len(self.service_ms)} loads)",
                f"p50 {p(self.service_ms, 50):.0f} ms, p95 {p(self.service_ms, 95):.0f} ms "
                f"(first {self.service_first_ms:.0f} ms)",
            ),
        ]
        if self.http_ms:
            out.append(
                (
                    f"dashboard page over HTTP ({len(self.http_ms)} loads)",
                    f"p50 {p(self.http_ms, 50):.0f} ms, p95 {p(self.http_ms, 95):.0f} ms "
                    f"(first {self.http_first_ms:.0f} ms)",
                )
            )
        if self.parts_ms:
            slowest = sorted(self.parts_ms.items(), key=lambda kv: -kv[1])[:4]
            out.append(("slowest queries of the last load", ", ".join(f"{k} {v:.0f} ms" for k, v in slowest)))
        return out


async def _value(sql: str, *args):
    async with db.connection() as c:
        return await c.fetchval(sql, *args)


async def _city() -> dict:
    """The city-level node with the most grassroots unions under it."""
    async with db.connection() as c:
        row = await c.fetchrow(
            "SELECT c.id, c.path, c.name_zh, count(g.id) AS unions FROM union_node c "
            "JOIN union_node g ON g.path LIKE c.path || '%' AND g.level = 'grassroots' "
            "WHERE c.level = 'city' GROUP BY c.id ORDER BY count(g.id) DESC, c.id LIMIT 1"
        )
    if row is None:
        raise RuntimeError("no city node: run `benefits seed --members 10 --providers 20 --offers 50` first")
    return dict(row)


async def generate(city: dict, members: int, vouchers: int, say=print) -> float:
    started = time.perf_counter()
    async with db.engine().transaction() as transaction:
        c = transaction.connection
        say("removing earlier bench data…")
        await c.execute("SET LOCAL session_replication_role = replica")
        await c.execute(
            "DELETE FROM voucher WHERE code LIKE 'R%' AND member IN (SELECT id FROM member WHERE name = '报表压测')"
        )
        await c.execute("DELETE FROM member WHERE name = '报表压测'")
        await c.execute("DELETE FROM search_miss WHERE query = ANY($1::varchar[]) AND degraded = false", QUERIES)
        say(f"{members:,} members…")
        await c.execute("SET LOCAL work_mem = '256MB'")
        await c.execute("SELECT setseed(0.42)")
        await c.execute(
            """INSERT INTO member (node, name, gender, birth_year, phone_cipher, phone_hash, phone_masked,
                                   id_number_cipher, id_number_hash, groups, status, joined_at, created_at)
               SELECT u.ids[1 + (g % array_length(u.ids, 1))], '报表压测', 'F', 1990, '\\x00'::bytea,
                      decode(md5('reports-phone-' || g), 'hex'), '138****0000', '\\x00'::bytea,
                      decode(md5('reports-id-' || g), 'hex'),
                      (CASE WHEN g % 10 < 4 THEN ARRAY[]::varchar[]
                            WHEN g % 10 < 6 THEN ARRAY['women']::varchar[]
                            WHEN g % 10 < 7 THEN ARRAY['gig']::varchar[]
                            WHEN g % 10 < 8 THEN ARRAY['migrant', 'gig']::varchar[]
                            WHEN g % 10 < 9 THEN ARRAY['hardship']::varchar[]
                            ELSE ARRAY['women', 'hardship']::varchar[] END),
                      'active', now(), now()
               FROM generate_series(1, $1) g,
                    (SELECT array_agg(id ORDER BY id) AS ids FROM union_node
                     WHERE level = 'grassroots' AND path LIKE $2) u""",
            members,
            city["path"] + "%",
        )
    async with db.connection() as c:
        low, high = await c.fetchrow("SELECT min(id), max(id) FROM member WHERE name = '报表压测'")
        offers = await c.fetchrow(
            "SELECT array_agg(id ORDER BY id) AS ids, array_agg(provider ORDER BY id) AS providers,"
            " array_agg(subsidy_fen ORDER BY id) AS subsidies, "
            "array_agg(member_price_fen ORDER BY id) AS prices FROM offer"
        )
    if not offers["ids"]:
        raise RuntimeError("no offers: seed first")
    done = 0
    while done < vouchers:
        size = min(CHUNK, vouchers - done)
        async with db.engine().transaction() as transaction:
            c = transaction.connection
            await c.execute("SET LOCAL session_replication_role = replica")
            await c.execute(
                """INSERT INTO voucher (code, offer, member, provider, status, period_start, claimed_at, expires_at,
                                        redeemed_at, subsidy_fen, paid_fen)
                   SELECT 'R' || lpad(g::text, 13, '0'), ($3::bigint[])[k], $5::bigint + (hashint % ($6::bigint - $5::bigint + 1)),
                          ($4::int[])[k], s.status, t.at, t.at, t.at + interval '30 days',
                          CASE WHEN s.status = 'redeemed' THEN t.at + (r2 * interval '20 hours') END,
                          ($7::int[])[k], CASE WHEN ($8::int[])[k] > 0 THEN ($8::int[])[k] ELSE 0 END
                   FROM (SELECT g, 1 + (g * 7919 % array_length($3::bigint[], 1)) AS k,
                                abs(hashint8(g))::bigint AS hashint, random() AS r1, random() AS r2
                         FROM generate_series($1::bigint, $2::bigint) g) x
                   CROSS JOIN LATERAL (SELECT now() - (power(x.r1, 1.3) * interval '365 days') AS at) t
                   CROSS JOIN LATERAL (SELECT CASE WHEN x.hashint % 100 < 85 AND t.at < now() - interval '20 hours'
                                                   THEN 'redeemed' WHEN x.hashint % 100 < 90 THEN 'cancelled'
                                                   WHEN t.at < now() - interval '30 days' THEN 'expired'
                                                   ELSE 'issued' END AS status) s""",
                done + 1,
                done + size,
                offers["ids"],
                offers["providers"],
                low,
                high,
                offers["subsidies"],
                offers["prices"],
            )
        done += size
        say(f"  vouchers {done:,} / {vouchers:,} ({time.perf_counter() - started:.0f} s)")
    async with db.engine().transaction() as transaction:
        c = transaction.connection
        districts = [
            r["name"]
            for r in await c.fetch(
                "SELECT regexp_replace(name_zh, '(总工会|工会)$', '') AS name FROM union_node "
                "WHERE level = 'district' AND path LIKE $1",
                city["path"] + "%",
            )
        ] or ["朝阳区"]
        await c.execute(
            """INSERT INTO search_miss (query, district, groups, degraded, created_at)
               SELECT ($1::varchar[])[1 + (g * 31 % array_length($1::varchar[], 1))],
                      CASE WHEN g % 5 = 0 THEN NULL ELSE ($2::varchar[])[1 + (g % array_length($2::varchar[], 1))] END,
                      '{}', false, now() - random() * interval '180 days'
               FROM generate_series(1, 200000) g""",
            QUERIES,
            districts,
        )
        say("analyze…")
    async with db.connection() as c:
        await c.execute("VACUUM ANALYZE member")
        await c.execute("VACUUM ANALYZE voucher")
        await c.execute("ANALYZE search_miss")
    return time.perf_counter() - started


async def _operator(city: dict) -> None:
    async with db.connection() as c:
        await c.execute(
            "INSERT INTO operator (username, display_name, node, password_hash, created_at) "
            "VALUES ($1, '报表压测操作员', $2, $3, now()) ON CONFLICT (username) DO UPDATE SET node = $2, "
            "password_hash = $3",
            OPERATOR,
            city["id"],
            await hash_password(PASSWORD),
        )


async def _over_http(city: dict, loads: int, report: Report, say) -> None:
    await _operator(city)
    port = components.free_port()
    base = f"http://127.0.0.1:{port}"
    log_dir = benchmarking.logs_folder()
    children = [benchmarking.spawn_web(port, os.path.join(log_dir, "web-reports.log"))]
    try:
        await benchmarking.wait_ready(base)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            await http.get("/console/login")
            response = await http.post(
                "/console/login",
                data={"username": OPERATOR, "password": PASSWORD, "_csrf_token": http.cookies.get("csrftoken")},
            )
            if response.status_code not in (302, 303):
                say(f"[red]sign-in failed: HTTP {response.status_code}[/]")
                return
            for number in range(loads + 1):
                started = time.perf_counter()
                page = await http.get("/console/reports", headers={"accept": "text/html"})
                elapsed = (time.perf_counter() - started) * 1000
                if page.status_code != 200 or "chart-daily" not in page.text:
                    raise RuntimeError(f"dashboard: HTTP {page.status_code}")
                if number == 0:
                    report.http_first_ms = elapsed
                else:
                    report.http_ms.append(elapsed)
    finally:
        processes.stop(children)


async def run(members: int, vouchers: int, loads: int, regenerate: bool = False, say=print) -> Report:
    report = Report(members=members, vouchers=vouchers)
    await db.open_pool()
    try:
        city = await _city()
        report.city = city["name_zh"]
        present_members = await _value("SELECT count(*) FROM member WHERE name = '报表压测'")
        present_vouchers = await _value("SELECT count(*) FROM voucher WHERE code LIKE 'R%'")
        if regenerate or present_members != members or present_vouchers != vouchers:
            report.generated_s = await generate(city, members, vouchers, say)
        else:
            say("bench data present; reusing it")
        say("full aggregation…")
        result = await services.refresh(full=True)
        report.full_s, report.usage_rows = result.seconds, result.usage_rows
        async with db.connection() as c:
            for table in ("report_usage_daily", "report_provider_daily", "report_search_miss_daily"):
                await c.execute(f"VACUUM ANALYZE {table}")
        say(f"  {result.seconds:.1f} s; incremental run…")
        report.incremental_s = (await services.refresh()).seconds
        principal = Principal(kind="operator", id=0, display_name="bench", node_id=city["id"], node_path=city["path"])
        started = time.perf_counter()
        await services.dashboard(principal)
        report.service_first_ms = (time.perf_counter() - started) * 1000
        for _ in range(loads):
            started = time.perf_counter()
            board = await services.dashboard(principal)
            report.service_ms.append((time.perf_counter() - started) * 1000)
        report.parts_ms = board.timings_ms
        say("dashboard over HTTP…")
        await _over_http(city, loads, report, say)
    finally:
        await db.close_pool()
    return report
