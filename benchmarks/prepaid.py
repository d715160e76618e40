"""`benefits bench prepaid`: a delisted provider's prepaid packages, every unused balance
refunded through Stripe.

Against the data in BENEFITS_VAR (seed first: `benefits seed` lists a class package at the
demo gym): HOLDERS members each buy the demo provider's prepaid package through the
members' own path (`prepaid.services.purchase`, the payment at the Stripe stand-in, the
return that holds the money in escrow), and some use a session at the counter. BASELINE
other members buy the same provider's plain paid offer. Then, in the same run:

- baseline: each plain paid voucher refunded as a cancellation refunds it today
  (`payments.request_refund_for_voucher` + `payments.refund`: one Stripe refund and its
  bookkeeping), one after another;
- the measure: the provider is delisted and `prepaid.services.refund_provider` refunds
  every package (ledger entry, payment, voucher, campaign subsidy, inbox message, then the
  member's share through Stripe), one package per transaction, REFUND_CONCURRENCY at once
  (`--refund-concurrency`, the delisting actor's default; 1 is the serial run of before), as
  the delisting's actor does.

Reported: wall time, refunds/s, ms per refund against the baseline's, and the ledger's
reconciliation with payments (must be empty). The provider is listed again afterwards.
"""

import asyncio
import time
from dataclasses import dataclass, field

from marketplace.core import db
from marketplace.core.federation import services as federation
from marketplace.core.identity.principal import Principal
from marketplace.payments import services as payments
from marketplace.prepaid import services as prepaid
from marketplace.vouchers import services as vouchers
from providers import services as providers


@dataclass
class PrepaidReport:
    holders: int
    baseline: int
    refund_concurrency: int
    sessions_used: int
    refunded: int
    refund_s: float
    baseline_s: float
    setup_s: float
    reconcile: dict[str, int] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str]]:
        per = self.refund_s / self.refunded * 1000 if self.refunded else float("nan")
        base = self.baseline_s / self.baseline * 1000 if self.baseline else float("nan")
        return [
            (
                "packages bought (setup)",
                f"{self.holders:,} in {self.setup_s:.1f} s; {self.sessions_used:,} sessions used",
            ),
            (
                "baseline: plain paid-voucher refunds",
                f"{self.baseline:,} in {self.baseline_s:.2f} s ({base:.1f} ms each)",
            ),
            (
                "delisting: packages refunded",
                f"{self.refunded:,} in {self.refund_s:.2f} s, {self.refund_concurrency} at once",
            ),
            ("refunds/s", f"{self.refunded / self.refund_s:,.1f}" if self.refund_s else "-"),
            ("ms per package refund / baseline", f"{per:.1f} ms = {per / base:.2f}× the baseline"),
            ("reconciliation with payments", "in step" if not self.reconcile else str(self.reconcile)),
        ]


async def _pay(member: Principal, payment_id: int) -> None:
    async with db.engine().transaction() as transaction:
        intent_id = await transaction.connection.fetchval(
            "SELECT payment_intent FROM payment WHERE id = $1", payment_id
        )
    client = payments.stripe_client()
    method = await client.v1.payment_methods.create_async(
        {"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    await client.v1.payment_intents.update_async(intent_id, {"payment_method": method.id})
    await client.v1.payment_intents.confirm_async(intent_id)
    await payments.check_return(member, payment_id)


async def run(
    holders: int = 2000,
    baseline: int = 200,
    concurrency: int = 8,
    refund_concurrency: int = prepaid.REFUND_CONCURRENCY,
    say=print,
) -> PrepaidReport:
    await db.open_pool()
    try:
        async with db.engine().transaction() as transaction:
            c = transaction.connection
            offer = await c.fetchrow(
                "SELECT o.id, o.provider, o.node_scope, n.path FROM offer o JOIN provider p ON p.id = o.provider "
                "JOIN union_node n ON n.id = o.node_scope WHERE o.kind = 'prepaid' AND o.status = 'published' "
                "AND p.status = 'active' AND o.valid_to > now() + interval '1 day' "
                "AND EXISTS (SELECT 1 FROM offer x WHERE x.provider = o.provider AND x.kind = 'paid' "
                "AND x.status = 'published' AND x.valid_to > now() AND cardinality(x.groups) = 0) "
                "AND cardinality(o.groups) = 0 "
                # HOLDERS 0: the packages an earlier (interrupted) run bought are refunded; otherwise
                # preferably a provider nobody holds a package of, so that the measure is this run's
                # refunds (the demo seed buys a few packages at each prepaid offer: they are refunded too).
                "AND ($1 > 0 OR EXISTS (SELECT 1 FROM prepaid_package pp WHERE pp.provider = o.provider "
                "AND pp.status = 'active')) ORDER BY EXISTS (SELECT 1 FROM prepaid_package pp "
                "WHERE pp.provider = o.provider AND pp.status = 'active'), o.id LIMIT 1",
                holders,
            )
            if offer is None:
                raise RuntimeError("no published prepaid offer with a paid one beside it: run `benefits seed` first")
            paid = await c.fetchval(
                "SELECT id FROM offer WHERE provider = $1 AND kind = 'paid' AND status = 'published' "
                "AND valid_to > now() AND cardinality(groups) = 0 ORDER BY id LIMIT 1",
                offer["provider"],
            )
            # Enough stock and one of each per member for the run (bench set-up).
            await c.execute(
                "UPDATE offer SET stock_total = stock_total + $2, stock_left = stock_left + $2, per_member_limit = 100 "
                "WHERE id = ANY($1::bigint[])",
                [offer["id"], paid],
                holders + baseline,
            )
            members = [
                row["id"]
                for row in await c.fetch(
                    "SELECT m.id FROM member m JOIN union_node n ON n.id = m.node WHERE m.status = 'active' "
                    "AND n.path LIKE $1 || '%' ORDER BY m.id LIMIT $2",
                    offer["path"],
                    max(holders, 1) + baseline,
                )
            ]
        if len(members) < max(holders, 1) + baseline:
            raise RuntimeError(f"only {len(members)} members can buy it: seed more (`benefits seed --members ...`)")
        say(f"offer {offer['id']} of provider {offer['provider']}: {holders} packages, {baseline} paid vouchers")
        gate = asyncio.Semaphore(concurrency)
        started = time.perf_counter()

        async def buy(member_id: int, kind: str) -> int:
            async with gate:
                member = await federation.member_principal(member_id)
                assert member is not None, member_id
                if kind == "prepaid":
                    payment = await prepaid.purchase(member, offer["id"])
                else:
                    payment = await payments.start(member, paid)
                await _pay(member, payment.id)
                return payment.voucher_id

        package_vouchers = await asyncio.gather(*(buy(m, "prepaid") for m in members[:holders]))
        if not holders:
            async with db.engine().transaction() as transaction:
                holders = await transaction.connection.fetchval(
                    "SELECT count(*) FROM prepaid_package WHERE provider = $1 AND status = 'active'", offer["provider"]
                )
        paid_vouchers = await asyncio.gather(*(buy(m, "paid") for m in members[-baseline:]))
        # A third of the holders used a session or two before the provider was delisted.
        used = 0
        async with db.engine().transaction() as transaction:
            staff_id = await transaction.connection.fetchval(
                "SELECT id FROM provider_user WHERE provider = $1 ORDER BY id LIMIT 1", offer["provider"]
            )
        if staff_id is not None:
            from marketplace.core.identity import services as identity

            staff = await identity.load_principal("provider", staff_id)
            assert staff is not None
            async with db.engine().transaction() as transaction:
                codes = await transaction.connection.fetch(
                    "SELECT code FROM voucher WHERE id = ANY($1::bigint[]) ORDER BY id", list(package_vouchers)
                )
            for index, row in enumerate(codes[::3]):
                for _ in range(1 + index % 2):
                    await vouchers.redeem(staff, row["code"])
                    used += 1
        setup_s = time.perf_counter() - started
        say(f"set up in {setup_s:.1f} s")

        started = time.perf_counter()
        for voucher_id in paid_vouchers:
            await payments.request_refund_for_voucher(voucher_id)
            async with db.engine().transaction() as transaction:
                payment_id = await transaction.connection.fetchval(
                    "SELECT id FROM payment WHERE voucher = $1", voucher_id
                )
            await payments.refund(payment_id)
        baseline_s = time.perf_counter() - started

        async with db.engine().transaction() as transaction:
            await providers.transition(
                transaction.connection, offer["provider"], ("active",), "delisted", "system", None, "prepaid benchmark"
            )
        started = time.perf_counter()
        refunded = await prepaid.refund_provider(offer["provider"], concurrency=refund_concurrency)
        refund_s = time.perf_counter() - started
        async with db.engine().transaction() as transaction:
            await providers.transition(
                transaction.connection, offer["provider"], ("delisted",), "active", "system", None, "benchmark clean-up"
            )
        return PrepaidReport(
            holders=holders,
            baseline=baseline,
            refund_concurrency=refund_concurrency,
            sessions_used=used,
            refunded=refunded,
            refund_s=refund_s,
            baseline_s=baseline_s,
            setup_s=setup_s,
            reconcile=await prepaid.reconcile(),
        )
    finally:
        await db.close_pool()
