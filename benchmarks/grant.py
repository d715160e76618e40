"""`benefits bench grant`: a points grant to every member under the national federation.

Against the data in BENEFITS_VAR (seed a million members first), as the national
operator: queue the grant, apply it chunk by chunk as the job does, apply it again (a
redelivered job must grant nothing), then reconcile every balance with the ledger.
"""

import time
from dataclasses import dataclass

from marketplace.core import db
from marketplace.core.identity import services as identity
from marketplace.points import services as points


@dataclass
class GrantReport:
    members: int
    granted: int
    create_s: float
    apply_s: float
    replay_s: float
    reconcile_s: float
    mismatched: int

    @property
    def members_per_s(self) -> float:
        return self.granted / self.apply_s if self.apply_s else 0.0


async def run(amount: int = 100) -> GrantReport:
    await db.open_pool()
    try:
        rows = await db.engine().run_ddl(
            "SELECT o.id FROM operator o JOIN union_node n ON n.id = o.node WHERE n.depth = 0 ORDER BY o.id LIMIT 1"
        )
        if not rows:
            raise RuntimeError("no national operator: seed the data first")
        operator = await identity.load_principal("operator", rows[0]["id"])
        if operator is None or operator.node_id is None:
            raise RuntimeError("the national operator may not sign in")
        started = time.perf_counter()
        grant = await points.create_grant(operator, operator.node_id, None, amount, "压测：全国会员积分发放")
        create_s = time.perf_counter() - started
        started = time.perf_counter()
        await points.apply_grant(grant.id)
        apply_s = time.perf_counter() - started
        started = time.perf_counter()
        await points.apply_grant(grant.id)
        replay_s = time.perf_counter() - started
        done = await points.get_grant(operator, grant.id)
        started = time.perf_counter()
        mismatched = await points.reconcile()
        reconcile_s = time.perf_counter() - started
    finally:
        await db.close_pool()
    return GrantReport(
        members=done.members_total,
        granted=done.members_done,
        create_s=create_s,
        apply_s=apply_s,
        replay_s=replay_s,
        reconcile_s=reconcile_s,
        mismatched=len(mismatched),
    )
