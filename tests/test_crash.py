"""Killing any process at any moment loses and duplicates nothing.

The real processes (`benefits serve`, `benefits worker`, `benefits scheduler`) run
against the test session's components, and are killed with SIGKILL (their whole process
group: the worker's forked children too) in the middle of a flash sale over HTTP and of
a points grant, then started again. Meanwhile new members join, each announced by an
outbox event whose consumer sends one welcome message.
"""

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from marketplace.core import db
from marketplace.core.identity import approvals, services as identity
from marketplace.core.jobs.broker import HEARTBEAT_TIMEOUT_MS
from marketplace.points import services as points
from marketplace.runtime import components, processes
from tests.factories import add_member, build_world

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[1]
LOG_DIR = REPO_ROOT / "tests" / "artifacts" / "crash"

GRANT_MEMBERS = 4 * points.GRANT_CHUNK + 1_000  # five chunks: a worker can die between them
CLAIMANTS = 300  # per sale, each claims once (with retries), more than the stock
STOCK = 200
CONCURRENCY = 24


# The processes --------------------------------------------------------------------------------


class Role:
    """One of the platform's processes, started as `python -m marketplace.cli <args>`."""

    def __init__(self, name: str, args: list[str], ready_line: str | None = None):
        self.name, self.args, self.ready_line = name, args, ready_line
        self.log = LOG_DIR / f"{name}.log"
        self.process = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log, "ab") as log:
            log.write(f"\n--- start {self.starts} ---\n".encode())
        self.process = processes.spawn(["-m", "marketplace.cli", *self.args], str(self.log))

    def kill(self) -> None:
        """SIGKILL to the process and everything in its session, as a crash would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    async def ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.name} exited; see {self.log}"
            if self.ready_line and self.log.read_text().split(f"--- start {self.starts} ---")[-1].count(
                self.ready_line
            ):
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} not ready within {timeout:.0f} s; see {self.log}")


class Web(Role):
    def __init__(self, port: int):
        super().__init__("web", ["serve", "--port", str(port)])
        self.base = f"http://127.0.0.1:{port}"

    async def ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, f"web exited; see {self.log}"
                try:
                    async with http.get(self.base + "/health") as response:
                        if response.status == 200:
                            return
                except (TimeoutError, aiohttp.ClientError):
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"web not ready within {timeout:.0f} s; see {self.log}")


# The load: a flash sale over HTTP, grants, members joining --------------------------------------


@dataclass
class Sale:
    offer_id: int
    answers: dict[int, tuple[int, dict]] = field(default_factory=dict)  # member → (status, body)
    retries: int = 0  # attempts that got no answer (the web process was down or died)
    server_errors: int = 0
    a_third_answered: asyncio.Event = field(default_factory=asyncio.Event)  # the moment to kill

    @property
    def answered(self) -> int:
        return len(self.answers)


async def _offer(world, stock: int) -> int:
    async with db.connection() as connection:
        return await connection.fetchval(
            "INSERT INTO offer (provider, category, kind, title_zh, title_en, description_zh, list_price_fen, "
            "member_price_fen, subsidy_fen, stock_total, stock_left, per_member_limit, node_scope, groups, status, "
            "valid_from, valid_to, created_at, updated_at, published_at, tags) "
            "SELECT $1, (SELECT id FROM category LIMIT 1), 'voucher', '秒杀券', 'Flash sale', '限量', 10000, 0, 0, "
            "$2, $2, 1, $3, '{}', 'published', now() - interval '1 day', now() + interval '30 days', now(), now(), "
            "now(), '{}' RETURNING id",
            world.providers["chaoyang"]["id"],
            stock,
            world.nodes["national"],
        )


async def _claim_all(base: str, sale: Sale, tokens: dict[int, str]) -> None:
    """Every claimant claims once with an Idempotency-Key of their own, retrying with the
    same key until an answer arrives, as a phone app would."""
    queue = list(tokens.items())

    async def client(http: aiohttp.ClientSession) -> None:
        while queue:
            member_id, token = queue.pop()
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
            while True:
                try:
                    async with http.post(f"{base}/api/v1/offers/{sale.offer_id}/claims", headers=headers) as response:
                        body = await response.json(content_type=None)
                except (TimeoutError, aiohttp.ClientError):
                    sale.retries += 1
                    await asyncio.sleep(0.2)
                    continue
                if response.status >= 500:
                    sale.server_errors += 1
                    await asyncio.sleep(0.2)
                    continue
                sale.answers[member_id] = (response.status, body)
                if sale.answered >= CLAIMANTS // 3:
                    sale.a_third_answered.set()
                break
            await asyncio.sleep(0.01)  # people, not a loop: the sale lasts past the kill on any machine

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        await asyncio.gather(*(client(http) for _ in range(CONCURRENCY)))


async def _grant(operator, approver, node_id: int) -> int:
    """A grant to thousands waits for a second operator (four eyes): the approver says yes at once."""
    grant = await points.create_grant(operator, node_id, None, 10, "秒杀压测发放")
    [approval] = [
        row
        for row in await approvals.in_scope(approver)
        if row["kind"] == "points_grant" and row["subject_id"] == grant.id
    ]
    await approvals.decide(approver, approval["id"], True)
    return grant.id


async def _grant_progress(grant_id: int) -> tuple[str, int, int]:
    async with db.connection() as connection:
        row = await connection.fetchrow(
            "SELECT status, members_done, members_total FROM points_grant WHERE id = $1", grant_id
        )
    return row["status"], row["members_done"], row["members_total"]


async def _bulk_members(node_id: int, count: int) -> list[int]:
    """Members straight into the table (the grant needs thousands; their phones are never used)."""
    async with db.connection() as connection:
        rows = await connection.fetch(
            "INSERT INTO member (node, name, gender, birth_year, phone_cipher, phone_hash, phone_masked, "
            "id_number_cipher, id_number_hash, status) "
            "SELECT $1, '压测会员', 'F', 1990, '\\x00'::bytea, decode(md5('crash-phone-' || g), 'hex'), "
            "'138****0000', '\\x00'::bytea, decode(md5('crash-id-' || g), 'hex'), 'active' "
            "FROM generate_series(1, $2) g RETURNING id",
            node_id,
            count,
        )
    return sorted(row["id"] for row in rows)


async def _until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} within {timeout:.0f} s")


# The test -------------------------------------------------------------------------------------


async def test_killing_web_worker_and_scheduler_mid_sale_and_mid_grant_loses_and_duplicates_nothing():
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    for old in LOG_DIR.glob("*.log"):
        old.unlink()
    world = await build_world()
    operator = await identity.load_principal("operator", await _operator_id("op_hebei"))
    approver = await identity.load_principal("operator", await _operator_id("op_national"))
    members = await _bulk_members(world.nodes["sjz_union"], GRANT_MEMBERS)
    claimants = members[:CLAIMANTS]
    tokens = {member_id: (await identity.open_session("member", member_id, "bearer"))[0] for member_id in claimants}

    web = Web(components.free_port())
    worker = Role("worker", ["worker", "--threads", "2"], ready_line="Worker process is ready for action")
    scheduler = Role("scheduler", ["scheduler"], ready_line="scheduler_leading")
    roles = [web, worker, scheduler]
    for role in roles:
        role.start()
    joined: list[int] = []
    stop_joining = asyncio.Event()

    async def join() -> None:
        """New members all along: each one's `member.joined` event must be applied once."""
        for serial in range(500, 1000):
            if stop_joining.is_set():
                return
            joined.append((await add_member(world.nodes["cy_union"], serial, "新会员"))[0])
            await asyncio.sleep(0.1)

    joining = asyncio.create_task(join())
    sales: list[Sale] = []
    grants: list[int] = []
    kills: list[str] = []
    try:
        await asyncio.gather(*(role.ready() for role in roles))

        async def kill_and_restart(victim: Role, sale: Sale, grant_id: int) -> None:
            state = await _grant_progress(grant_id)
            victim.kill()
            kills.append(
                f"{victim.name}: killed with {sale.answered} of {CLAIMANTS} claims answered, "
                f"grant {grant_id} {state[0]} {state[1]}/{state[2]}"
            )
            victim.start()
            await victim.ready()

        async def start_sale() -> tuple[Sale, asyncio.Task]:
            sale = Sale(await _offer(world, STOCK))
            sales.append(sale)
            return sale, asyncio.create_task(_claim_all(web.base, sale, tokens))

        # The web process, a third into a sale, while a grant runs.
        grants.append(await _grant(operator, approver, world.nodes["hebei"]))
        sale, selling = await start_sale()
        await sale.a_third_answered.wait()
        await kill_and_restart(web, sale, grants[-1])
        await selling

        # The worker, in the middle of a grant (one chunk applied, the next one waiting on
        # the grant's row, which this test holds) and a third into a sale.
        holding = await asyncpg.connect(os.environ["DATABASE_URL"])  # apart from the test's own connections
        try:
            grants.append(await _grant(operator, approver, world.nodes["hebei"]))
            deadline = time.monotonic() + 120
            while await holding.fetchval("SELECT members_done FROM points_grant WHERE id = $1", grants[-1]) == 0:
                assert time.monotonic() < deadline, "the grant's first chunk never came"
                await asyncio.sleep(0.005)
            async with holding.transaction():
                # Waits for the chunk in flight, if any, then holds the next one back.
                status, done = await holding.fetchrow(
                    "SELECT status, members_done FROM points_grant WHERE id = $1 FOR UPDATE", grants[-1]
                )
                assert status == "running" and done < GRANT_MEMBERS, (status, done)
                sale, selling = await start_sale()
                await sale.a_third_answered.wait()
                await kill_and_restart(worker, sale, grants[-1])
        finally:
            await holding.close()
        await selling

        # The scheduler, a third into a sale, just after a grant was queued.
        sale, selling = await start_sale()
        await sale.a_third_answered.wait()
        grants.append(await _grant(operator, approver, world.nodes["hebei"]))
        await kill_and_restart(scheduler, sale, grants[-1])
        await selling
        assert all(len(sale.answers) == CLAIMANTS for sale in sales)
    finally:
        stop_joining.set()
        await joining
        # Everything announced so far reaches its consumers (a killed worker's message
        # comes back after the heartbeat timeout).
        drain_s = HEARTBEAT_TIMEOUT_MS / 1000 + 60
        try:
            await _until(lambda: _all_done(grants, joined), drain_s, "every grant and welcome applied")
        finally:
            processes.stop([role.process for role in roles])
    print("\n".join(kills))

    # No voucher lost or duplicated; stock and limits reconcile.
    async with db.connection() as connection:
        for sale in sales:
            statuses = Counter(status for status, _ in sale.answers.values())
            codes = Counter(body.get("code") for status, body in sale.answers.values() if status == 409)
            assert sale.server_errors == 0
            assert len(sale.answers) == CLAIMANTS
            assert statuses == {201: STOCK, 409: CLAIMANTS - STOCK}, statuses
            assert set(codes) == {"sold_out"}, codes  # never "limit_reached": a retry found its first answer
            answered = {body["id"]: member for member, (status, body) in sale.answers.items() if status == 201}
            assert len(answered) == STOCK  # one distinct voucher per successful claimant
            stored = {
                row["id"]: row["member"]
                for row in await connection.fetch("SELECT id, member FROM voucher WHERE offer = $1", sale.offer_id)
            }
            assert stored == answered  # every voucher in the database is one a member was told about
            offer = await connection.fetchrow("SELECT stock_total, stock_left FROM offer WHERE id = $1", sale.offer_id)
            assert offer["stock_left"] == 0 and offer["stock_total"] - offer["stock_left"] == len(stored)
            assert await connection.fetchval(
                "SELECT coalesce(sum(claims), 0) FROM claim_count WHERE offer = $1", sale.offer_id
            ) == len(stored)
        assert any(sale.retries for sale in sales), "no claim was cut off by the web process dying"

        # Every grant reached every member exactly once; the points ledger reconciles.
        for grant_id in grants:
            status, done, total = await _grant_progress(grant_id)
            assert (status, done, total) == ("done", GRANT_MEMBERS, GRANT_MEMBERS)
            assert (
                await connection.fetchval(
                    "SELECT count(DISTINCT member) FROM points_entry WHERE points_grant = $1", grant_id
                )
                == GRANT_MEMBERS
            )
            assert (
                await connection.fetchval("SELECT count(*) FROM points_entry WHERE points_grant = $1", grant_id)
                == GRANT_MEMBERS
            )
        assert await points.reconcile() == []

        # Every outbox event delivered; each member.joined applied exactly once.
        assert await connection.fetchval("SELECT count(*) FROM outbox_event WHERE delivered_at IS NULL") == 0
        events = await connection.fetch(
            "SELECT id, (payload->>'member_id')::bigint AS member FROM outbox_event WHERE topic = 'member.joined' "
            "AND (payload->>'member_id')::bigint = ANY($1::bigint[])",
            joined,
        )
        assert len(events) == len(joined) > 0
        markers = Counter(
            row["event_id"]
            for row in await connection.fetch(
                "SELECT event_id FROM processed_event WHERE consumer = 'federation.send_welcome'"
            )
        )
        welcomes = Counter(
            row["member"]
            for row in await connection.fetch(
                "SELECT member FROM notification WHERE kind = 'welcome' AND member = ANY($1::bigint[])", joined
            )
        )
        assert all(markers[event["id"]] == 1 for event in events)
        assert welcomes == Counter(joined)  # one welcome each, none twice


async def _operator_id(username: str) -> int:
    async with db.connection() as connection:
        return await connection.fetchval("SELECT id FROM operator WHERE username = $1", username)


async def _all_done(grants: list[int], joined: list[int]) -> bool:
    async with db.connection() as connection:
        unfinished = await connection.fetchval(
            "SELECT count(*) FROM points_grant WHERE id = ANY($1::bigint[]) AND status <> 'done'", grants
        )
        pending = await connection.fetchval("SELECT count(*) FROM outbox_event WHERE delivered_at IS NULL")
        welcomed = await connection.fetchval(
            "SELECT count(DISTINCT member) FROM notification WHERE kind = 'welcome' AND member = ANY($1::bigint[])",
            joined,
        )
    return unfinished == 0 and pending == 0 and welcomed == len(joined)
