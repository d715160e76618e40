"""`benefits bench claims`: a flash sale of one offer, over HTTP and as raw SQL, in one run.

Against the data in BENEFITS_VAR (seed at least as many members as attempts), this adds
one voucher offer open to every member, opens a bearer session for each of N distinct
members, starts the web app as a subprocess and then, each round:

- resets the offer to its stock and removes the round's vouchers;
- sends N claim attempts (`POST /api/v1/offers/<id>/claims`), one per member, from C
  concurrent clients: claims/s (attempts per second) and p50/p95/p99 latency;
- checks the database: exactly `stock` vouchers, stock never below zero, no member
  with more than the offer's limit of one;
- resets again and makes the same attempts as one raw SQL statement each (the same
  eligibility, limit and stock conditions), from C concurrent connections: the ceiling
  the API is compared with.

Then points spending: P members (64) get POINTS_EACH points each round and C clients
make attempts to claim a points offer for a member chosen at random (so attempts on
one member race), more attempts than the points cover; afterwards no balance is below
zero, every balance is spent to exactly zero and the ledger reconciles. The ceiling is
the ledger's own spend (`points.debit`) called straight from C connections.

The web app is stopped at the end, also on error; the bench offer stays, paused. With
`profile`, the web app runs under cProfile and its statistics are written there when it
stops (`python -m pstats <file>`; the profiler slows the app several times over, so the
figures of such a run are not comparable with others).
"""

import asyncio
import os
import random
import time
from dataclasses import dataclass, field

import aiohttp
import asyncpg

from benchmarks import common as benchmarking
from benchmarks.common import Stats
from marketplace.core import db
from marketplace.core.identity import services as identity
from marketplace.core.settings import get_settings
from marketplace.core.web import server
from marketplace.runtime import components, processes


@dataclass
class Round:
    api: Stats
    sql: Stats
    vouchers: int = 0
    stock_left: int = 0
    over_limit: int = 0
    api_statuses: dict[int, int] = field(default_factory=dict)
    web_cpu_s: float = 0.0  # CPU time of the web app's processes during the HTTP attempts
    load: float = 0.0  # the machine's load average (1 minute) at the end of the HTTP attempts

    @property
    def ratio(self) -> float:
        return self.api.rps / self.sql.rps if self.sql.rps else float("nan")

    @property
    def cpu_ms_per_attempt(self) -> float:
        attempts = sum(self.api_statuses.values())
        return self.web_cpu_s * 1000 / attempts if attempts else float("nan")


@dataclass
class PointsRound:
    api: Stats
    sql: Stats
    spent: int = 0  # successful spends over HTTP
    negative: int = 0  # balances below zero (none, if the ledger holds)
    unspent: int = 0  # points left over after more attempts than the points cover
    mismatched: int = 0  # members whose cached balance differs from their ledger or lots

    @property
    def ratio(self) -> float:
        return self.api.rps / self.sql.rps if self.sql.rps else float("nan")


@dataclass
class Report:
    offer_id: int = 0
    stock: int = 0
    attempts: int = 0
    rounds: list[Round] = field(default_factory=list)
    points_members: int = 0
    points_attempts: int = 0
    points_rounds: list[PointsRound] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


POINTS_PRICE = 10
POINTS_EACH = 1_000  # a hundred spends' worth per member per round


async def _bench_offer(stock: int, kind: str = "voucher", limit: int = 1) -> int:
    """A published offer open to every member, of the first active provider."""
    async with db.engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "SELECT p.id AS provider, (SELECT id FROM category ORDER BY id LIMIT 1) AS category, "
            "(SELECT id FROM union_node WHERE depth = 0 ORDER BY id LIMIT 1) AS root "
            "FROM provider p WHERE p.status = 'active' ORDER BY p.id LIMIT 1"
        )
        if row is None or row["category"] is None or row["root"] is None:
            raise RuntimeError("no active provider, category or national node: seed the data first")
        return await connection.fetchval(
            "INSERT INTO offer (provider, category, kind, title_zh, title_en, description_zh, list_price_fen, "
            "member_price_fen, subsidy_fen, points_price, stock_total, stock_left, per_member_limit, node_scope, "
            "groups, status, valid_from, valid_to, created_at, updated_at, published_at, tags) "
            "VALUES ($1, $2, $5, '压测抢券', 'Flash-sale benchmark voucher', '压测用', 10000, 0, 0, $6, $3, $3, $7, "
            "$4, '{}', 'published', now() - interval '1 day', now() + interval '30 days', now(), now(), now(), '{}') "
            "RETURNING id",
            row["provider"],
            row["category"],
            stock,
            row["root"],
            kind,
            POINTS_PRICE if kind == "points" else None,
            limit,
        )


async def _tokens(count: int) -> list[str]:
    rows = await db.engine().run_ddl(f"SELECT id FROM member WHERE status = 'active' ORDER BY id LIMIT {int(count)}")
    if len(rows) < count:
        raise RuntimeError(f"{count} members are needed, {len(rows)} exist: `benefits seed --members {count}` first")
    tokens: list[str] = []
    for start in range(0, count, 200):
        opened = await asyncio.gather(
            *(identity.open_session("member", row["id"], "bearer") for row in rows[start : start + 200])
        )
        tokens.extend(token for token, _ in opened)
    return tokens


async def _reset(offer_id: int, stock: int) -> None:
    async with db.engine().transaction() as transaction:
        connection = transaction.connection
        await connection.execute("DELETE FROM voucher WHERE offer = $1", offer_id)
        await connection.execute("DELETE FROM claim_count WHERE offer = $1", offer_id)
        await connection.execute("UPDATE offer SET stock_left = $2, stock_total = $2 WHERE id = $1", offer_id, stock)


async def _check(offer_id: int, result: Round) -> None:
    async with db.engine().transaction() as transaction:
        connection = transaction.connection
        result.vouchers = await connection.fetchval("SELECT count(*) FROM voucher WHERE offer = $1", offer_id)
        result.stock_left = await connection.fetchval("SELECT stock_left FROM offer WHERE id = $1", offer_id)
        result.over_limit = await connection.fetchval(
            "SELECT count(*) FROM (SELECT member FROM voucher WHERE offer = $1 GROUP BY member "
            "HAVING count(*) > 1) AS over",
            offer_id,
        )


def _session_cpu_seconds(session: int) -> float:
    """User + system CPU seconds of every live process of a session (the web app and its
    uvicorn workers, which `processes.spawn` starts in a session of their own), from /proc:
    a figure the load of a shared machine moves far less than throughput."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # fields after the name: state, ppid, pgrp, session, ...
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def _race(attempt, count: int, concurrency: int, stats: Stats) -> None:
    """`attempt(i)` for i in 0..count-1 by `concurrency` workers; latencies into stats."""
    counter = iter(range(count))

    async def worker() -> None:
        for i in counter:
            started = time.perf_counter()
            try:
                await attempt(i)
            except Exception:
                stats.errors += 1
                continue
            stats.latencies_ms.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    stats.wall_s = time.perf_counter() - started


# One statement: the eligibility and window of the offer, the member's limit (one per
# offer, as the bench offer has) and the stock, then the voucher. The claim count is
# written only while stock is left, like the API's early "sold out" answer.
_CLAIM_SQL = """
WITH offered AS (
    SELECT o.id, o.provider, o.valid_to FROM offer o JOIN provider p ON p.id = o.provider
    WHERE o.id = $2 AND o.status = 'published' AND p.status = 'active' AND o.valid_from <= now()
      AND o.valid_to > now() AND o.node_scope = ANY($3::int[]) AND cardinality(o.groups) = 0 AND o.stock_left > 0
), counted AS (
    INSERT INTO claim_count (member, offer, period_start, claims)
    SELECT $1, id, 'epoch', 1 FROM offered
    ON CONFLICT (member, offer, period_start) DO UPDATE SET claims = claim_count.claims + 1
    WHERE claim_count.claims < 1
    RETURNING offer
), taken AS (
    UPDATE offer SET stock_left = stock_left - 1
    WHERE id = (SELECT offer FROM counted) AND stock_left > 0 RETURNING id, provider, valid_to
)
INSERT INTO voucher (code, offer, member, provider, period_start, claimed_at, expires_at)
SELECT $4, id, $1, provider, 'epoch', now(), valid_to FROM taken RETURNING id
"""


async def run(
    attempts: int = 20_000,
    stock: int = 1_000,
    concurrency: int = 64,
    rounds: int = 10,
    web_workers: int = 1,
    log_dir: str | None = None,
    points: bool = True,
    profile: str | None = None,
    say=print,
) -> Report:
    from marketplace.vouchers import codes

    report = Report(stock=stock, attempts=attempts)
    port = components.free_port()
    base = f"http://127.0.0.1:{port}"
    log_dir = benchmarking.logs_folder(log_dir)
    children: list = []
    await db.open_pool()
    try:
        report.offer_id = offer_id = await _bench_offer(stock)
        root = await db.engine().run_ddl("SELECT id FROM union_node WHERE depth = 0 ORDER BY id LIMIT 1")
        say(f"bench offer {offer_id}; opening {attempts} member sessions…")
        tokens = await _tokens(attempts)
        member_ids = [
            row["id"]
            for row in await db.engine().run_ddl(
                f"SELECT id FROM member WHERE status = 'active' ORDER BY id LIMIT {int(attempts)}"
            )
        ]
        children.append(
            benchmarking.spawn_web(
                port,
                os.path.join(log_dir, "web-claims.log"),
                *("--no-proxy-headers", "--loop", "uvloop", "--http", server.HTTP_PROTOCOL),  # as `benefits serve`
                *("--workers", str(web_workers)),
                profile=profile,
            )
        )
        await benchmarking.wait_ready(base)
        pool = await asyncpg.create_pool(get_settings().database.url, min_size=concurrency, max_size=concurrency)
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency), timeout=aiohttp.ClientTimeout(total=30)
        )
        url = f"{base}/api/v1/offers/{offer_id}/claims"
        async with pool, http:
            for number in range(1, rounds + 1):
                result = Round(api=Stats("claims", "api"), sql=Stats("claims", "sql"))

                async def over_http(i: int, result: Round = result) -> None:
                    async with http.post(url, headers={"Authorization": f"Bearer {tokens[i]}"}) as response:
                        await response.read()
                    result.api_statuses[response.status] = result.api_statuses.get(response.status, 0) + 1
                    if response.status not in (201, 409):
                        raise RuntimeError(f"HTTP {response.status}")

                async def as_sql(i: int) -> None:
                    async with pool.acquire() as connection:
                        await connection.fetchval(
                            _CLAIM_SQL, member_ids[i], offer_id, [root[0]["id"]], codes.new_code()
                        )

                await _reset(offer_id, stock)
                cpu_before = _session_cpu_seconds(children[0].pid)
                await _race(over_http, attempts, concurrency, result.api)
                result.web_cpu_s = _session_cpu_seconds(children[0].pid) - cpu_before
                result.load = os.getloadavg()[0]
                await _check(offer_id, result)
                await _reset(offer_id, stock)
                await _race(as_sql, attempts, concurrency, result.sql)
                report.rounds.append(result)
                say(
                    f"round {number}: {result.vouchers} vouchers, stock left {result.stock_left}, "
                    f"{result.over_limit} members over the limit; API {result.api.rps:.0f} claims/s "
                    f"(p99 {result.api.pct(99):.1f} ms, {result.api.errors} errors), SQL {result.sql.rps:.0f}/s, "
                    f"ratio {result.ratio:.2f}, web CPU {result.cpu_ms_per_attempt:.2f} ms per attempt, load {result.load:.1f}"
                )
            await db.engine().run_ddl(f"UPDATE offer SET status = 'paused' WHERE id = {int(offer_id)}")
            if points:
                await _points_rounds(report, http, pool, base, tokens, member_ids, concurrency, rounds, say)
    finally:
        processes.stop(children)
        await db.close_pool()
    return report


async def _points_rounds(
    report: Report, http, pool, base: str, tokens: list[str], member_ids: list[int], concurrency: int, rounds: int, say
) -> None:
    from marketplace.points import services as points

    # Members with no points of their own (the demo member has some), so that every
    # balance must come out at exactly zero.
    async with db.engine().transaction() as transaction:
        holders = {
            row["member"]
            for row in await transaction.connection.fetch(
                "SELECT member FROM points_balance WHERE balance > 0 AND member = ANY($1::bigint[])", member_ids
            )
        }
    chosen = [index for index, member_id in enumerate(member_ids) if member_id not in holders][:64]
    tokens, member_ids = [tokens[index] for index in chosen], [member_ids[index] for index in chosen]
    members = report.points_members = len(member_ids)
    spends_each = POINTS_EACH // POINTS_PRICE
    attempts = report.points_attempts = members * spends_each * 3 // 2  # a third more than the points cover
    offer_id = await _bench_offer(10_000_000, kind="points", limit=10_000_000)
    url = f"{base}/api/v1/offers/{offer_id}/claims"
    chooser = random.Random(7)

    async def grant(tag: str) -> None:
        async with db.engine().transaction() as transaction:
            for member_id in member_ids[:members]:
                await points.credit(transaction.connection, member_id, "grant", POINTS_EACH, f"bench:{offer_id}:{tag}")

    async def check(result: PointsRound) -> None:
        async with db.engine().transaction() as transaction:
            balances = await transaction.connection.fetch(
                "SELECT balance FROM points_balance WHERE member = ANY($1::bigint[])", member_ids[:members]
            )
        result.negative = sum(row["balance"] < 0 for row in balances)
        result.unspent = sum(row["balance"] for row in balances)

    for number in range(1, rounds + 1):
        result = PointsRound(api=Stats("points", "api"), sql=Stats("points", "sql"))
        # Every member gets half again as many attempts as their points cover, in random
        # order, so attempts on one member run at the same time.
        picks = [member for member in range(members) for _ in range(attempts // members)]
        chooser.shuffle(picks)

        async def over_http(i: int, result: PointsRound = result, picks: list[int] = picks) -> None:
            async with http.post(url, headers={"Authorization": f"Bearer {tokens[picks[i]]}"}) as response:
                await response.read()
            if response.status == 201:
                result.spent += 1
            elif response.status != 409:
                raise RuntimeError(f"HTTP {response.status}")

        async def as_sql(i: int, number: int = number, picks: list[int] = picks) -> None:
            async with pool.acquire() as connection, connection.transaction():
                await points.debit(
                    connection, member_ids[picks[i]], "spend", POINTS_PRICE, f"bench:{offer_id}:{number}:{i}"
                )

        await grant(f"{number}:api")
        await _race(over_http, attempts, concurrency, result.api)
        await check(result)
        await grant(f"{number}:sql")
        await _race(as_sql, attempts, concurrency, result.sql)
        result.mismatched = len(await points.reconcile())
        report.points_rounds.append(result)
        say(
            f"points round {number}: {result.spent} spends, {result.negative} negative balances, "
            f"{result.unspent} points unspent; API {result.api.rps:.0f} claims/s (p99 {result.api.pct(99):.1f} ms, "
            f"{result.api.errors} errors), "
            f"ledger {result.sql.rps:.0f}/s, ratio {result.ratio:.2f}"
        )
    await db.engine().run_ddl(f"UPDATE offer SET status = 'paused' WHERE id = {int(offer_id)}")
