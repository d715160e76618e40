"""`benefits bench draw`: a fair draw with ENTRIES members, entered and drawn.

Against the data in BENEFITS_VAR (seed first), as the national operator: a fresh copy of
a published voucher offer, open to every member, is given by draw. THROUGH_SERVICE members
enter through the members' own path (`draws.enter`: eligibility, the one-entry key, the
inbox message) from CONCURRENCY clients at once: that is the entry throughput. The rest,
up to ENTRIES, are loaded in one statement (synthetic members are added when the
federation has too few). Then the draw is run as the operator's 开奖 runs it (rank, the
places and waitlist written, every entrant told in the inbox) and verified as
`benefits draw verify` does.
"""

import asyncio
import os
import time
from dataclasses import dataclass

from benchmarks.common import percentile
from marketplace.core import db
from marketplace.core.federation import services as federation
from marketplace.core.identity import services as identity
from marketplace.draws import services as draws

PLACES = 100
SYNTHETIC = "压测抽签会员"


@dataclass
class DrawReport:
    entries: int
    through_service: int
    entry_s: float
    entry_latencies_ms: list[float]
    refused: int
    draw_s: float
    verify_s: float
    problems: list[str]
    winners: int
    draw_cpu_s: float  # this process's CPU during the draw (ranking, encoding): the rest is the database's
    load: tuple[float, float]  # the machine's 1-minute load average before and after the draw

    @property
    def entries_per_s(self) -> float:
        return self.through_service / self.entry_s if self.entry_s else 0.0

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("entries in the draw", f"{self.entries:,}"),
            ("entered through the member's path", f"{self.through_service:,} ({self.refused} refused)"),
            ("entry throughput", f"{self.entries_per_s:,.0f} entries/s"),
            (
                "entry p50 / p95 ms",
                f"{percentile(self.entry_latencies_ms, 50):.1f} / {percentile(self.entry_latencies_ms, 95):.1f}",
            ),
            ("draw (rank, write, tell everyone)", f"{self.draw_s:.2f} s (of it {self.draw_cpu_s:.2f} s CPU here)"),
            (
                "load average before / after the draw",
                f"{self.load[0]:.1f} / {self.load[1]:.1f} ({os.cpu_count()} cores)",
            ),
            ("verify (recompute from the published result)", f"{self.verify_s:.2f} s"),
            ("winners / problems found", f"{self.winners} / {len(self.problems)}"),
        ]


async def _members(connection, wanted: int) -> list[int]:
    """`wanted` active members, adding synthetic ones (under one grassroots union) when short."""
    have = await connection.fetch("SELECT id FROM member WHERE status = 'active' ORDER BY id LIMIT $1", wanted)
    missing = wanted - len(have)
    if missing > 0:
        node = await connection.fetchval("SELECT id FROM union_node ORDER BY depth DESC, id LIMIT 1")
        start = await connection.fetchval("SELECT count(*) FROM member WHERE name = $1", SYNTHETIC)
        await connection.execute(
            "INSERT INTO member (node, name, gender, birth_year, phone_cipher, phone_hash, phone_masked, "
            "id_number_cipher, id_number_hash) SELECT $1, $2, 'F', 1990, '\\x00'::bytea, "
            "sha256(convert_to('bench-draw-phone-' || i, 'UTF8')), '139****' || lpad((i % 10000)::text, 4, '0'), "
            "'\\x00'::bytea, sha256(convert_to('bench-draw-id-' || i, 'UTF8')) "
            "FROM generate_series($3::bigint + 1, $3::bigint + $4) AS i",
            node,
            SYNTHETIC,
            start,
            missing,
        )
        have = await connection.fetch("SELECT id FROM member WHERE status = 'active' ORDER BY id LIMIT $1", wanted)
    return [row["id"] for row in have]


async def _offer(connection) -> int:
    """A fresh published voucher offer open to every member, copied from one of the seed."""
    return await connection.fetchval(
        "INSERT INTO offer (provider, category, kind, title_zh, title_en, description_zh, list_price_fen, "
        "member_price_fen, subsidy_fen, stock_total, stock_left, per_member_limit, node_scope, groups, status, "
        "valid_from, valid_to, created_at, tags, terms_zh, limit_period, published_at, updated_at) "
        "SELECT o.provider, o.category, 'voucher', '压测抽签：' || o.title_zh, o.title_en, o.description_zh, "
        "o.list_price_fen, o.member_price_fen, 0, $1, $1, 1, "
        "(SELECT id FROM union_node WHERE depth = 0 ORDER BY id LIMIT 1), '{}', 'published', now() - interval '1 day', "
        "now() + interval '30 days', now(), '{}', '', 'total', now(), now() "
        "FROM offer o JOIN provider p ON p.id = o.provider AND p.status = 'active' "
        "WHERE o.status = 'published' AND o.kind = 'voucher' ORDER BY o.id LIMIT 1 RETURNING id",
        PLACES,
    )


async def run(entries: int = 100_000, through_service: int = 2_000, concurrency: int = 16, say=print) -> DrawReport:
    from datetime import UTC, datetime, timedelta

    await db.open_pool()
    try:
        rows = await db.engine().run_ddl(
            "SELECT o.id FROM operator o JOIN union_node n ON n.id = o.node WHERE n.depth = 0 ORDER BY o.id LIMIT 1"
        )
        if not rows:
            raise RuntimeError("no national operator: seed the data first")
        operator = await identity.load_principal("operator", rows[0]["id"])
        if operator is None:
            raise RuntimeError("the national operator cannot sign in: seed the data again")
        async with db.connection() as connection:
            offer_id = await _offer(connection)
            if offer_id is None:
                raise RuntimeError("no published voucher offer of an active provider: seed the data first")
            say(f"members for {entries:,} entries…")
            members = await _members(connection, entries)
        now = datetime.now(UTC)
        draw_id = await draws.create_draw(
            operator,
            draws.DrawCreate(
                offer_id=offer_id,
                opens_at=now - timedelta(minutes=1),
                closes_at=now + timedelta(days=1),
                places=PLACES,
                claim_hours=48,
                weights={"hardship": 3, "gig": 2},
            ),
        )
        through_service = min(through_service, len(members))
        principals = [await federation.member_principal(member) for member in members[:through_service]]
        say(f"{through_service:,} members enter through the member's path, {concurrency} at once…")
        latencies: list[float] = []
        refused = 0
        gate = asyncio.Semaphore(concurrency)

        async def one(principal) -> None:
            nonlocal refused
            async with gate:
                started = time.perf_counter()
                try:
                    await draws.enter(principal, draw_id)
                except Exception:
                    refused += 1
                    return
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(one(principal) for principal in principals if principal is not None))
        entry_s = time.perf_counter() - started
        async with db.connection() as connection:
            await connection.execute(
                "INSERT INTO draw_entry (draw, member, weight, entered_at) "
                "SELECT $1, m, 1 + (m % 7 = 0)::int + (m % 11 = 0)::int * 2, now() FROM unnest($2::bigint[]) AS m "
                "ON CONFLICT (draw, member) DO NOTHING",
                draw_id,
                members[through_service:],
            )
        say("drawing…")
        load_before = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        await draws.run_draw(operator, draw_id)
        draw_s, draw_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        load_after = os.getloadavg()[0]
        result = await draws.published_result(draw_id)
        started = time.perf_counter()
        problems = draws.verify(result)
        verify_s = time.perf_counter() - started
        notice = await draws.notice(draw_id, shown=0)
    finally:
        await db.close_pool()
    return DrawReport(
        entries=len(result["entries"]),
        through_service=len(latencies),
        entry_s=entry_s,
        entry_latencies_ms=latencies,
        refused=refused,
        draw_s=draw_s,
        verify_s=verify_s,
        problems=problems,
        winners=len(notice["winners"]),
        draw_cpu_s=draw_cpu_s,
        load=(load_before, load_after),
    )
