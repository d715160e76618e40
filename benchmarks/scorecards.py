"""`benefits bench scorecards`: scorecards at city scale, in one run.

Against the database in BENEFITS_VAR it first generates its own data with set-based
INSERT … SELECT (kept between runs; regenerated when the sizes differ): a bench city
node with 16 district nodes, 12 categories, 20,000 members, 20,000 active providers
(each with a node, one or two locations with a district and one paused offer, so the
data never reaches search), 1,000,000 redemptions in the last 89 days, each rated (1 %
held as suspicious), 70 % with an "honoured?" answer, 50,000 complaints (80 % answered)
and 20,000 third-party results. Provider quality and volume vary.

Then:
- the full recomputation (`scorecards.recompute_all`), twice at the same `now`: seconds
  each, and whether the two tables are identical (MD5 of every row but its id);
- freshness: N new ratings, one at a time, each written with its outbox event in one
  transaction (`scorecards.rating_changed`, as the ratings code does); the scheduler
  process relays it, a worker process runs the actor, which recomputes the provider;
  the time from commit until the provider's row shows the rating (polled every 5 ms);
- the per-provider recomputation alone, in this process, for the same providers.

The worker and scheduler are stopped at the end, also on error.
"""

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from benchmarks import common as benchmarking
from evaluation.scorecards import services as scorecards
from marketplace.core import db
from marketplace.runtime import processes

DISTRICTS = [
    "东城区",
    "西城区",
    "朝阳区",
    "海淀区",
    "丰台区",
    "石景山区",
    "门头沟区",
    "房山区",
    "通州区",
    "顺义区",
    "昌平区",
    "大兴区",
    "怀柔区",
    "平谷区",
    "密云区",
    "延庆区",
]
CATEGORIES = [
    ("健身", "Fitness"),
    ("体检", "Check-ups"),
    ("餐饮", "Dining"),
    ("电影", "Cinema"),
    ("理发", "Hair"),
    ("按摩", "Massage"),
    ("游泳", "Swimming"),
    ("培训", "Training"),
    ("超市", "Groceries"),
    ("眼镜", "Optician"),
    ("洗衣", "Laundry"),
    ("书店", "Books"),
]
VOUCHER_BASE = 9_000_000_000_000  # bench redemptions' voucher numbers, far above real ones


@dataclass
class Report:
    providers: int = 0
    ratings: int = 0
    complaints: int = 0
    results: int = 0
    generated_s: float | None = None  # None: the data was already there
    recompute_s: list[float] = field(default_factory=list)
    scorecards: int = 0
    digests: list[str] = field(default_factory=list)
    freshness_ms: list[float] = field(default_factory=list)
    freshness_timeouts: int = 0
    single_ms: list[float] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return len(self.digests) >= 2 and len(set(self.digests)) == 1


async def _value(sql: str, *args):
    async with db.engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


async def _present() -> tuple[int, int, int]:
    providers = await _value("SELECT count(*) FROM provider WHERE credit_code LIKE 'BENCH%'")
    ratings = await _value("SELECT count(*) FROM redemption WHERE voucher >= $1", VOUCHER_BASE)
    complaints = await _value("SELECT count(*) FROM complaint WHERE voucher >= $1", VOUCHER_BASE)
    return providers, ratings, complaints


async def _drop(connection) -> None:
    bench = "(SELECT id FROM provider WHERE credit_code LIKE 'BENCH%')"
    for sql in [
        f"DELETE FROM scorecard_snapshot WHERE provider IN {bench}",
        f"DELETE FROM provider_scorecard WHERE provider IN {bench}",
        f"DELETE FROM complaint WHERE provider IN {bench}",
        f"DELETE FROM rating WHERE provider IN {bench}",
        f"DELETE FROM redemption WHERE provider IN {bench}",
        "DELETE FROM evaluator_result WHERE org IN (SELECT id FROM evaluator_org WHERE name = '压测评价机构')",
        "DELETE FROM evaluator_batch WHERE org IN (SELECT id FROM evaluator_org WHERE name = '压测评价机构')",
        "DELETE FROM evaluator_org WHERE name = '压测评价机构'",
        f"DELETE FROM offer WHERE provider IN {bench}",
        f"DELETE FROM location WHERE provider IN {bench}",
        "DELETE FROM provider WHERE credit_code LIKE 'BENCH%'",
        "DELETE FROM member WHERE phone_masked = '138****0000' AND name = '压测会员'",
        "DELETE FROM category WHERE code LIKE 'bench_%'",
        "DELETE FROM union_node WHERE code LIKE 'BENCH-%'",
        "DELETE FROM union_node WHERE code = 'BENCH'",
    ]:
        await connection.execute(sql)


async def generate(providers: int, ratings: int, complaints: int, results: int, say=print) -> float:
    started = time.perf_counter()
    async with db.engine().transaction() as transaction:
        c = transaction.connection
        await _drop(c)
        await c.execute("SET LOCAL work_mem = '128MB'")
        await c.execute("SELECT setseed(0.42)")
        root = await c.fetchval(
            "INSERT INTO union_node (level, code, name_zh, name_en, path, depth) "
            "VALUES ('city', 'BENCH', '压测市总工会', 'Bench city', '/bench-pending/', 0) RETURNING id"
        )
        await c.execute("UPDATE union_node SET path = '/' || id || '/' WHERE id = $1", root)
        await c.execute(
            "INSERT INTO union_node (parent, level, code, name_zh, name_en, path, depth) "
            "SELECT $1, 'district', 'BENCH-' || lpad(d::text, 2, '0'), (ARRAY[{}])[d] || '总工会', 'Bench ' || d, "
            "'/bench-pending/' || d || '/', 1 FROM generate_series(1, 16) d".format(
                ", ".join(f"'{name}'" for name in DISTRICTS)
            ),
            root,
        )
        await c.execute(
            "UPDATE union_node SET path = '/' || $1 || '/' || id || '/' WHERE code LIKE 'BENCH-%'", str(root)
        )
        await c.execute(
            "INSERT INTO category (code, name_zh, name_en) SELECT 'bench_' || lpad(k::text, 2, '0'), "
            "'压测' || (ARRAY[{}])[k], 'Bench ' || (ARRAY[{}])[k] FROM generate_series(1, 12) k".format(
                ", ".join(f"'{zh}'" for zh, _ in CATEGORIES), ", ".join(f"'{en}'" for _, en in CATEGORIES)
            )
        )
        await c.execute(
            "INSERT INTO member (node, name, gender, birth_year, phone_cipher, phone_hash, phone_masked, "
            "id_number_cipher, id_number_hash) "
            "SELECT (SELECT id FROM union_node WHERE code = 'BENCH-' || lpad((1 + g % 16)::text, 2, '0')), "
            "'压测会员', 'F', 1990, '\\x00'::bytea, decode(md5('bench-phone-' || g), 'hex'), '138****0000', "
            "'\\x00'::bytea, decode(md5('bench-id-' || g), 'hex') FROM generate_series(1, 20000) g"
        )
        await c.execute(
            "INSERT INTO provider (name, credit_code, kind, node, contact_name, contact_phone_cipher, "
            "contact_phone_masked, status, created_at) "
            "SELECT '压测商户' || g, 'BENCH' || lpad(g::text, 13, '0'), 'gym', "
            "(SELECT id FROM union_node WHERE code = 'BENCH-' || lpad((1 + g % 16)::text, 2, '0')), '压测', "
            "'\\x00'::bytea, '138****0000', 'active', now() - interval '1 year' FROM generate_series(1, $1) g",
            providers,
        )
        say(f"  {providers} providers…")
        # k: the provider's number; its district, category, quality (mean rating) and volume weight.
        await c.execute(
            "CREATE TEMP TABLE bench_p ON COMMIT DROP AS "
            "SELECT row_number() OVER (ORDER BY p.id)::int AS k, p.id AS provider, "
            "1 + (row_number() OVER (ORDER BY p.id))::int % 16 AS district, "
            "1 + (row_number() OVER (ORDER BY p.id))::int % 12 AS category_k, "
            "2.6 + 2.4 * random() AS quality, NULL::bigint AS offer, NULL::int AS category "
            "FROM provider p WHERE p.credit_code LIKE 'BENCH%'"
        )
        await c.execute(
            "UPDATE bench_p b SET category = c.id FROM category c "
            "WHERE c.code = 'bench_' || lpad(b.category_k::text, 2, '0')"
        )
        await c.execute(
            "INSERT INTO location (provider, name, address, district, latitude, longitude) "
            "SELECT b.provider, '压测门店', '北京市压测路' || b.k || '号', (ARRAY[{}])[b.district], "
            "39.8 + random() * 0.2, 116.3 + random() * 0.2 FROM bench_p b "
            "UNION ALL SELECT b.provider, '压测二店', '北京市压测路' || b.k || '号', "
            "(ARRAY[{}])[1 + (b.district + 3) % 16], 39.9, 116.4 FROM bench_p b WHERE b.k % 5 = 0".format(
                ", ".join(f"'{d}'" for d in DISTRICTS), ", ".join(f"'{d}'" for d in DISTRICTS)
            )
        )
        await c.execute(
            "INSERT INTO offer (provider, category, kind, title_zh, description_zh, list_price_fen, member_price_fen, "
            "subsidy_fen, stock_total, stock_left, per_member_limit, node_scope, status, valid_from, valid_to) "
            "SELECT b.provider, b.category, 'voucher', '压测优惠', '压测用', 10000, 5000, 1000, 1000000, 1000000, 1, "
            "$1, 'paused', now() - interval '1 year', now() + interval '1 year' FROM bench_p b",
            root,
        )
        await c.execute("UPDATE bench_p b SET offer = o.id FROM offer o WHERE o.provider = b.provider")
        await c.execute("CREATE UNIQUE INDEX ON bench_p (k)")
        await c.execute("ANALYZE bench_p")
        first_member = await c.fetchval("SELECT min(id) FROM member WHERE name = '压测会员'")
        # Volume is skewed: provider k = 1 + floor(P · u²) for a uniform u.
        await c.execute(
            "INSERT INTO redemption (voucher, provider, offer, category, member, redeemed_at, honoured, "
            "survey_due_at, survey_sent_at) "
            "SELECT $1::bigint + g, b.provider, b.offer, b.category, $2 + (g % 20000), x.at, "
            "CASE WHEN random() < 0.7 THEN random() < b.quality / 5.2 END, x.at + interval '2 hours', "
            "x.at + interval '2 hours' "
            "FROM (SELECT g, 1 + floor($3 * power(random(), 2))::int AS k, "
            "      now() - interval '89 days' * random() - interval '1 hour' AS at "
            "      FROM generate_series(1, $4) g) x JOIN bench_p b ON b.k = x.k",
            VOUCHER_BASE,
            first_member,
            providers,
            ratings,
        )
        say(f"  {ratings} redemptions…")
        await c.execute(
            "INSERT INTO rating (redemption, provider, member, overall, comment, created_at, updated_at, held, "
            "hold_reason) "
            "SELECT r.id, r.provider, r.member, greatest(1, least(5, round(b.quality + (random() - 0.5) * 2.6)))::int, "
            "'', least(now(), r.redeemed_at + interval '2 hours' + interval '1 day' * random()), "
            "least(now(), r.redeemed_at + interval '3 hours'), x.held, CASE WHEN x.held THEN 'burst' END "
            "FROM redemption r JOIN bench_p b ON b.provider = r.provider "
            "CROSS JOIN LATERAL (SELECT random() < 0.01 AS held) x WHERE r.voucher > $1",
            VOUCHER_BASE,
        )
        say(f"  {ratings} ratings…")
        await c.execute(
            "INSERT INTO complaint (redemption, voucher, provider, member, category, text, status, created_at, "
            "respond_by, answer, answered_at) "
            "SELECT r.id, r.voucher, r.provider, r.member, 'poor_service', '压测投诉', "
            "CASE WHEN y.answered IS NULL THEN 'open' ELSE 'answered' END, x.at, x.at + interval '72 hours', "
            "CASE WHEN y.answered IS NOT NULL THEN '已处理' END, y.answered "
            "FROM (SELECT id FROM redemption WHERE voucher > $1 ORDER BY random() LIMIT $2) pick "
            "JOIN redemption r ON r.id = pick.id "
            "CROSS JOIN LATERAL (SELECT least(now(), r.redeemed_at + interval '1 day' * random()) AS at, "
            "    CASE WHEN random() < 0.8 THEN 1 + random() * 110 END AS answer_h) x "
            "CROSS JOIN LATERAL (SELECT CASE WHEN x.at + x.answer_h * interval '1 hour' <= now() "
            "    THEN x.at + x.answer_h * interval '1 hour' END AS answered) y",
            VOUCHER_BASE,
            complaints,
        )
        say(f"  {complaints} complaints…")
        org = await c.fetchval("INSERT INTO evaluator_org (name, node) VALUES ('压测评价机构', $1) RETURNING id", root)
        batch = await c.fetchval(
            "INSERT INTO evaluator_batch (org, batch_ref, source, rows, content_hash, received_at, applied_at) "
            "VALUES ($1, 'bench', 'json', $2, repeat('0', 64), now(), now()) RETURNING id",
            org,
            results,
        )
        await c.execute(
            "INSERT INTO evaluator_result (batch, org, provider, visit_date, method, score, sample_size) "
            "SELECT $1, $2, b.provider, (now() AT TIME ZONE 'Asia/Shanghai')::date - (random() * 88)::int, "
            "'phone_survey', least(100, greatest(0, (b.quality * 20 + (random() - 0.5) * 30)::int)), "
            "1 + (random() * 49)::int FROM (SELECT 1 + floor($3 * random())::int AS k FROM generate_series(1, $4)) x "
            "JOIN bench_p b ON b.k = x.k",
            batch,
            org,
            providers,
            results,
        )
    for table in ("provider", "location", "offer", "redemption", "rating", "complaint", "evaluator_result"):
        await db.engine().run_ddl(f"ANALYZE {table}")
    return time.perf_counter() - started


async def _new_rating(provider_id: int) -> tuple[int, float]:
    """A redemption and its rating now, with the outbox event, in one transaction; the
    rating count the scorecard should show afterwards, and the commit time."""
    async with db.engine().transaction() as transaction:
        c = transaction.connection
        row = await c.fetchrow(
            "SELECT offer, category, member FROM redemption WHERE provider = $1 LIMIT 1", provider_id
        )
        voucher = await c.fetchval(
            "SELECT coalesce(max(voucher), $1) + 1 FROM redemption WHERE voucher > $1", VOUCHER_BASE
        )
        redemption = await c.fetchval(
            "INSERT INTO redemption (voucher, provider, offer, category, member, redeemed_at, survey_due_at) "
            "VALUES ($1, $2, $3, $4, $5, now(), now()) RETURNING id",
            voucher,
            provider_id,
            row["offer"],
            row["category"],
            row["member"],
        )
        await c.execute(
            "INSERT INTO rating (redemption, provider, member, overall, created_at, updated_at) "
            "VALUES ($1, $2, $3, 5, now(), now())",
            redemption,
            provider_id,
            row["member"],
        )
        expected = await c.fetchval(
            "SELECT count(*) FROM rating WHERE provider = $1 AND created_at > now() - make_interval(days => $2) "
            "AND (NOT held OR cleared_at IS NOT NULL)",
            provider_id,
            scorecards.window_days(),
        )
        await scorecards.rating_changed(provider_id)
    return expected, time.perf_counter()


async def _freshness(report: Report, providers: list[int], timeout: float) -> None:
    for provider_id in providers:
        expected, committed = await _new_rating(provider_id)
        deadline = committed + timeout
        while True:
            seen = await _value("SELECT ratings_n FROM provider_scorecard WHERE provider = $1", provider_id)
            now = time.perf_counter()
            if seen is not None and seen >= expected:
                report.freshness_ms.append((now - committed) * 1000)
                break
            if now > deadline:
                report.freshness_timeouts += 1
                break
            await asyncio.sleep(0.005)


async def run(
    providers: int = 20_000,
    ratings: int = 1_000_000,
    complaints: int = 50_000,
    results: int = 20_000,
    freshness: int = 200,
    regenerate: bool = False,
    log_dir: str | None = None,
    say=print,
) -> Report:
    report = Report(providers=providers, ratings=ratings, complaints=complaints, results=results)
    log_dir = benchmarking.logs_folder(log_dir)
    children: list = []
    await db.open_pool()
    try:
        if regenerate or await _present() != (providers, ratings, complaints):
            say(f"generating {providers} providers, {ratings} redemptions and ratings, {complaints} complaints…")
            report.generated_s = await generate(providers, ratings, complaints, results, say)
            say(f"generated in {report.generated_s:.1f} s")
        else:
            say("bench data already present (--regenerate to make it again)")
        now = datetime.now(UTC)
        for attempt in (1, 2):
            result = await scorecards.recompute_all(now)
            report.recompute_s.append(result.seconds)
            report.scorecards = result.providers
            report.digests.append(await scorecards.table_digest())
            say(
                f"full recomputation {attempt}: {result.providers} scorecards in {result.seconds:.2f} s, "
                f"digest {report.digests[-1]}"
            )
        if freshness:
            ids = [
                row["id"]
                for row in await db.engine().run_ddl(
                    "SELECT id FROM provider WHERE credit_code LIKE 'BENCH%' ORDER BY id"
                )
            ]
            chosen = random.Random(7).sample(ids, min(freshness, len(ids)))
            children += benchmarking.spawn_jobs(log_dir)
            say(f"worker and scheduler started (logs in {log_dir}); warming up…")
            await _freshness(Report(), chosen[:5], timeout=60)  # processes up, connections open
            await _freshness(report, chosen, timeout=10)
            processes.stop(children)
            children = []
            for provider_id in chosen:
                started = time.perf_counter()
                await scorecards.recompute_provider(provider_id)
                report.single_ms.append((time.perf_counter() - started) * 1000)
    finally:
        processes.stop(children)
        await db.close_pool()
    return report
