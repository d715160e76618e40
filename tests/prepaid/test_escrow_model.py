"""A Hypothesis state machine drives prepaid packages (buy, use a session at the counter,
take back in the cooling-off days, refund, delist the provider, in any order) against the
real PostgreSQL, payments and the Stripe stand-in, and checks the escrow ledger against a
plain model: never negative, never a session released twice, and for each package
held = released + refunded + left in both shares, to the fen; the member shares refunded
are what the payments and Stripe say went back."""

import asyncio

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from marketplace.core.db import engine
from marketplace.core.errors import Conflict, DomainError
from marketplace.prepaid import escrow, services
from marketplace.vouchers import services as vouchers
from tests.prepaid.helpers import SHARE, SUBSIDY, balanced, buy, delist, ledger, member, prepaid_offer
from tests.vouchers.test_claims import staff_principal

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("clean_state")]

SESSIONS = 4


def run(coroutine):
    return asyncio.run(coroutine)


class Escrow(RuleBasedStateMachine):
    """The model: per package, sessions used and whether (and why) it was refunded."""

    world = None
    offer_id = 0

    def __init__(self):
        super().__init__()
        self.packages: list[dict] = []
        self.used: dict[int, int] = {}
        self.refunded: dict[int, int] = {}  # package → member fen refunded
        self.delisted = False

    @precondition(lambda self: not self.delisted and len(self.packages) < 4)
    @rule()
    def purchase(self):
        package = run(buy(run(member(self.world)), self.offer_id))
        self.packages.append(package)
        self.used[package["id"]] = 0

    @precondition(lambda self: self.packages)
    @rule(data=st.data())
    def use_session(self, data):
        package = data.draw(st.sampled_from(self.packages))
        pid = package["id"]
        open_ = pid not in self.refunded and self.used[pid] < SESSIONS and not self.delisted

        async def scan():
            try:
                return await vouchers.redeem(await staff_principal(self.world), package["code"])
            except DomainError as error:
                return error.code

        result = run(scan())
        if open_:
            assert not isinstance(result, str), result
            self.used[pid] += 1
            assert result.session == self.used[pid]
        else:
            assert isinstance(result, str)

    @precondition(lambda self: self.packages)
    @rule(data=st.data())
    def take_back(self, data):
        package = data.draw(st.sampled_from(self.packages))
        pid = package["id"]
        allowed = pid not in self.refunded and self.used[pid] == 0

        async def attempt():
            try:
                return await services.take_back(await member(self.world), pid)
            except Conflict as error:
                return error.code

        result = run(attempt())
        if allowed:
            assert result["refund_member_fen"] == SHARE
            self.refunded[pid] = SHARE
        else:
            assert result == "cooling_off_over"

    @precondition(lambda self: self.packages)
    @rule(data=st.data())
    def refund_unused(self, data):
        package = data.draw(st.sampled_from(self.packages))
        pid = package["id"]
        result = run(services.refund_package(pid, "unused"))
        if pid in self.refunded or self.used[pid] == SESSIONS:
            assert result is None
        else:
            expected = SHARE - sum(escrow.part(SHARE, SESSIONS, k) for k in range(1, self.used[pid] + 1))
            assert result["refund_member_fen"] == expected
            self.refunded[pid] = expected

    @precondition(lambda self: self.packages and not self.delisted)
    @rule()
    def delist_provider(self):
        run(delist(self.world.providers["chaoyang"]["id"]))
        self.delisted = True
        for package in self.packages:
            pid = package["id"]
            if pid not in self.refunded and self.used[pid] < SESSIONS:
                self.refunded[pid] = SHARE - sum(escrow.part(SHARE, SESSIONS, k) for k in range(1, self.used[pid] + 1))

    @invariant()
    def ledger_agrees(self):
        for package in self.packages:
            pid = package["id"]
            row = run(ledger(pid))
            assert balanced(row)
            assert row["releases"] == row["sessions_used"] == self.used[pid]
            assert row["released_m"] == sum(escrow.part(SHARE, SESSIONS, k) for k in range(1, self.used[pid] + 1))
            assert row["released_s"] == sum(escrow.part(SUBSIDY, SESSIONS, k) for k in range(1, self.used[pid] + 1))
            assert row["refunded_m"] == self.refunded.get(pid, 0)
        if self.packages:
            assert run(services.reconcile()) == {}

    def teardown(self):
        """Each example starts from a clean slate: the packages and payments go, the provider is back."""

        async def reset():
            async with engine().transaction() as transaction:
                c = transaction.connection
                await c.execute(
                    "TRUNCATE prepaid_refund, prepaid_entry, prepaid_package, payment, voucher, claim_count, "
                    "notification CASCADE"
                )
                await c.execute(
                    "UPDATE provider SET status = 'active' WHERE id = $1", self.world.providers["chaoyang"]["id"]
                )
                await c.execute("UPDATE offer SET stock_left = stock_total")

        run(reset())


def test_the_escrow_ledger_matches_its_model(world):
    Escrow.world = world
    Escrow.offer_id = run(prepaid_offer(world, sessions=SESSIONS))
    run_state_machine_as_test(
        Escrow,
        settings=settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
                HealthCheck.function_scoped_fixture,
            ],
        ),
    )
