"""`benefits bench signin`: a cheap API call's latency while people sign in.

Against the demo data in BENEFITS_VAR (seeded members share the demo password), this
starts the web app (uvicorn, one process) and, in three phases of the same length,
measures `GET /api/v1/me` with a bearer token, one call after another from one client:

- idle: nothing else runs;
- 8 and 64 sign-ins: as many clients sign in over and over (`POST /api/v1/auth/token`,
  each as its own member and from its own address), each sign-in an argon2id check.

The call's p95 under sign-ins is compared with its idle p95 in the same run (target:
within 2×). The bench's sessions are deleted at the end; the web app is stopped, also
on error.
"""

import asyncio
import hashlib
import os
import time
from dataclasses import dataclass, field

import aiohttp

from benchmarks import common as benchmarking
from benchmarks.common import Stats
from marketplace.core import db, pii
from marketplace.core.identity import services as identity
from marketplace.runtime import components, processes


@dataclass
class Phase:
    signing_in: int  # concurrent sign-in clients
    call: Stats
    sign_ins: Stats
    statuses: dict[int, int] = field(default_factory=dict)  # of the sign-ins


@dataclass
class Report:
    seconds: float
    phases: list[Phase] = field(default_factory=list)

    def ratio(self, phase: Phase) -> float:
        idle = self.phases[0].call.pct(95)
        return phase.call.pct(95) / idle if idle else float("nan")


async def _members(count: int) -> list[str]:
    """Phones of `count` members whose password is the demo member's (the seed gives every
    member the same one)."""
    from marketplace import seed

    async with db.connection() as connection:
        demo_hash = await connection.fetchval(
            "SELECT password_hash FROM member WHERE phone_hash = $1", pii.lookup_hash(seed.DEMO_MEMBER["phone"])
        )
        if demo_hash is None:
            raise RuntimeError("the demo member is missing: run `benefits seed` (or `benefits demo`) first")
        rows = await connection.fetch(
            "SELECT phone_cipher FROM member WHERE password_hash = $1 AND status = 'active' ORDER BY id LIMIT $2",
            demo_hash,
            count,
        )
    if len(rows) < count:
        raise RuntimeError(f"{count} seeded members are needed, {len(rows)} exist")
    return [pii.decrypt(row["phone_cipher"]) for row in rows]


async def run(seconds: float = 10.0, loads: tuple[int, ...] = (8, 64), log_dir: str | None = None, say=print) -> Report:
    from marketplace import seed

    report = Report(seconds=seconds)
    port = components.free_port()
    base = f"http://127.0.0.1:{port}"
    log_dir = benchmarking.logs_folder(log_dir)
    tokens: list[str] = []
    children = []
    await db.open_pool()
    try:
        phones = await _members(max(loads))
        member_id = (await db.engine().run_ddl("SELECT id FROM member WHERE status = 'active' ORDER BY id LIMIT 1"))[0][
            "id"
        ]
        probe_token, _ = await identity.open_session("member", member_id, "bearer")
        tokens.append(probe_token)
        children.append(benchmarking.spawn_web(port, os.path.join(log_dir, "web-signin.log")))
        await benchmarking.wait_ready(base)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            for signing_in in (0, *loads):
                phase = Phase(
                    signing_in, Stats(f"GET /api/v1/me, {signing_in} signing in", "api"), Stats("sign-in", "api")
                )
                await _phase(http, base, probe_token, phones[:signing_in], seed.MEMBER_PASSWORD, seconds, phase, tokens)
                report.phases.append(phase)
                say(
                    f"{signing_in} signing in: /me p95 {phase.call.pct(95):.1f} ms over {len(phase.call.latencies_ms)} "
                    f"calls; {len(phase.sign_ins.latencies_ms)} sign-ins (p95 {phase.sign_ins.pct(95):.0f} ms)"
                )
    finally:
        processes.stop(children)
        if tokens:
            async with db.connection() as connection:
                await connection.execute(
                    "DELETE FROM auth_session WHERE token_hash = ANY($1::text[])",
                    [hashlib.sha256(token.encode()).hexdigest() for token in tokens],
                )
        await db.close_pool()
    return report


async def _phase(
    http: aiohttp.ClientSession,
    base: str,
    probe_token: str,
    phones: list[str],
    password: str,
    seconds: float,
    phase: Phase,
    tokens: list[str],
) -> None:
    stop = asyncio.Event()

    async def sign_in(number: int, phone: str) -> None:
        # Each client is a different person at a different address, as at a real peak.
        headers = {"X-Forwarded-For": f"198.51.{100 + number // 250}.{1 + number % 250}"}
        body = {"kind": "member", "username": phone, "password": password}
        while not stop.is_set():
            started = time.perf_counter()
            try:
                async with http.post(base + "/api/v1/auth/token", json=body, headers=headers) as response:
                    answer = await response.json() if response.status == 201 else await response.read()
            except (TimeoutError, aiohttp.ClientError):
                phase.sign_ins.errors += 1
                continue
            phase.statuses[response.status] = phase.statuses.get(response.status, 0) + 1
            if response.status == 201:
                tokens.append(answer["token"])
                phase.sign_ins.latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                phase.sign_ins.errors += 1
                await asyncio.sleep(0.1)

    async def probe() -> None:
        headers = {"Authorization": f"Bearer {probe_token}"}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                async with http.get(base + "/api/v1/me", headers=headers) as response:
                    await response.read()
                if response.status != 200:
                    phase.call.errors += 1
            except (TimeoutError, aiohttp.ClientError):
                phase.call.errors += 1
            # A call that timed out counts too: its caller waited that long.
            phase.call.latencies_ms.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.01)  # a client calling now and then, not a flood

    signers = [asyncio.create_task(sign_in(number, phone)) for number, phone in enumerate(phones)]
    if signers:
        await asyncio.sleep(1.0)  # let the sign-ins queue up before measuring
    started = time.perf_counter()
    await probe()
    phase.call.wall_s = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*signers)
    phase.sign_ins.wall_s = phase.call.wall_s
