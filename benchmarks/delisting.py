"""`benefits bench delisting`: how soon a delisted provider's offers leave search and its
offers stop being claimable.

Against the data in BENEFITS_VAR (seeded and indexed: `benefits seed`, `benefits
reindex`), this starts the web app, a worker and the scheduler, signs in as the demo
member and, for N providers whose offers the member finds: opens a delisting case, has
the national operator decide "delist" (`evaluation.enforcement.cases.decide`, as the case page does),
then measures

- the milliseconds until the search API shows none of the provider's offers (the
  provider's status event goes through the outbox to the search sync), and
- whether a claim of one of its offers sent right after the decision is refused (claims
  read the provider's status in the database, so this is immediate);

then lists the provider again (bench clean-up, not the appeal path) and waits until its
offers are back.
"""

import os
import random
import time
from dataclasses import dataclass, field

import httpx

from benchmarks import common as benchmarking
from benchmarks.search import DEMO_MEMBER, _operator, _wait_until
from evaluation.enforcement import cases, policy
from marketplace.core import db
from marketplace.runtime import components, processes
from providers import services as providers


@dataclass
class Report:
    gone_ms: list[float] = field(default_factory=list)
    timeouts: int = 0
    claims_refused: int = 0
    claims_tried: int = 0


async def run(n: int = 20, timeout: float = 20, say=print) -> Report:
    report = Report()
    port = components.free_port()
    base = f"http://127.0.0.1:{port}"
    log_dir = benchmarking.logs_folder()
    children: list = []
    await db.open_pool()
    try:
        children.append(benchmarking.spawn_web(port, os.path.join(log_dir, "web-delisting.log")))
        children += benchmarking.spawn_jobs(log_dir, "-delisting")
        await benchmarking.wait_ready(base)
        operator = await _operator()
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            response = await http.post("/api/v1/auth/token", json=DEMO_MEMBER)
            response.raise_for_status()
            headers = {"Authorization": f"Bearer {response.json()['token']}"}
            hits = (await http.get("/api/v1/search", params={"page_size": 50}, headers=headers)).json()["hits"]
            offers: dict[int, int] = {}
            for hit in hits:
                offers.setdefault(hit["provider_id"], hit["offer_id"])
            chosen = list(offers.items())
            random.Random(5).shuffle(chosen)
            for provider_id, offer_id in chosen[:n]:

                async def visible(provider_id: int = provider_id) -> bool:
                    found = await http.get(
                        "/api/v1/search", params={"provider_id": provider_id, "page_size": 50}, headers=headers
                    )
                    found.raise_for_status()
                    return bool(found.json()["hits"])

                async with db.engine().transaction() as transaction:
                    case_id = await policy.open_case(
                        transaction.connection,
                        provider_id,
                        "delisting",
                        None,
                        {},
                        [{"code": "bench", "text": "压测：下架生效时间"}],
                    )
                if case_id is None:
                    continue
                decided = time.perf_counter()
                await cases.decide(operator, case_id, "delist", "压测：下架后多快从搜索消失、停止领取。")
                claim = await http.post(f"/api/v1/offers/{offer_id}/claims", headers=headers)
                report.claims_tried += 1
                report.claims_refused += claim.status_code == 404
                waited = await _wait_until(visible, False, timeout, pollers=1)
                gone = None if waited is None else (time.perf_counter() - decided) * 1000
                if gone is None:
                    report.timeouts += 1
                else:
                    report.gone_ms.append(gone)  # from the decision's commit request to no hit left
                async with db.engine().transaction() as transaction:
                    await providers.transition(
                        transaction.connection,
                        provider_id,
                        ("delisted",),
                        "active",
                        "operator",
                        operator.id,
                        "delisting benchmark: listed again",
                    )
                    await transaction.connection.execute(
                        "UPDATE provider_standing SET state = 'good', deadline = NULL WHERE provider = $1", provider_id
                    )
                    await transaction.connection.execute(
                        "UPDATE enforcement_case SET status = 'closed' WHERE id = $1", case_id
                    )
                await _wait_until(visible, True, timeout, pollers=1)
                say(
                    f"provider {provider_id}: gone from search after {gone:.0f} ms; a claim right after the decision "
                    f"got HTTP {claim.status_code}"
                    if gone is not None
                    else f"provider {provider_id}: timed out"
                )
    finally:
        processes.stop(children)
        await db.close_pool()
    return report
