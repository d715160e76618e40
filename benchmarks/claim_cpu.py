"""`benefits bench claim-cpu`: the web process's CPU time for one refused claim, in-process.

The app (`create_app()`, its lifespan started) is called as ASGI with `POST
/api/v1/offers/<id>/claims` of an offer that is sold out from the start, by members whose
sessions the first round of calls puts in the session cache: no server, no network, no
load generator in the same process, so the figure is what the app itself spends on the
attempt 19 of 20 flash-sale attempts are (authentication from the cache, the route check,
the sold-out memo, the problem answer, the log line). Time is `time.process_time()` per
batch, so other processes on a shared machine move it less than a throughput figure.

With `profile`, the last batch runs under cProfile (statistics written to that file).
The log lines go to /dev/null; the offer stays, paused.
"""

import contextlib
import cProfile
import os
import time
from dataclasses import dataclass, field

from benchmarks import claims
from marketplace.core import db


@dataclass
class Report:
    offer_id: int = 0
    calls: int = 0
    batches_us: list[float] = field(default_factory=list)  # CPU µs per call, per batch
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def median_us(self) -> float:
        ordered = sorted(self.batches_us)
        return ordered[len(ordered) // 2] if ordered else float("nan")


async def run(sessions: int = 500, calls: int = 3000, batches: int = 5, profile: str | None = None) -> Report:
    from marketplace.app import create_app

    report = Report(calls=calls)
    await db.open_pool()
    try:
        report.offer_id = await claims._bench_offer(0)  # sold out from the start
        tokens = await claims._tokens(sessions)
    finally:
        await db.close_pool()
    path = f"/api/v1/offers/{report.offer_id}/claims"

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message) -> None:
        if message["type"] == "http.response.start":
            report.statuses[message["status"]] = report.statuses.get(message["status"], 0) + 1

    async def call(token: str) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"authorization", b"Bearer " + token.encode()),
                (b"content-length", b"0"),
                (b"accept", b"*/*"),
                (b"accept-encoding", b"gzip, deflate"),
                (b"user-agent", b"bench"),
            ],
        }
        await app(scope, receive, send)  # type: ignore[arg-type]

    # The app made inside: its log lines go where stdout was when it configured them.
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        app = create_app()
        async with app.lifespan():
            for token in tokens:  # every session into the cache, the offer into the sold-out memo
                await call(token)
            for batch in range(batches):
                profiler = cProfile.Profile() if profile and batch == batches - 1 else None
                if profiler:
                    profiler.enable()
                started = time.process_time()
                for i in range(calls):
                    await call(tokens[i % len(tokens)])
                report.batches_us.append((time.process_time() - started) / calls * 1e6)
                if profiler and profile:
                    profiler.disable()
                    profiler.dump_stats(profile)
    await db.open_pool()
    try:
        await db.engine().run_ddl(f"UPDATE offer SET status = 'paused' WHERE id = {int(report.offer_id)}")
    finally:
        await db.close_pool()
    return report
