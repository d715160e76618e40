"""A Hypothesis state machine drives prepaid packages (buy, use a session at the counter,
let months pass, take back in the cooling-off days, refund, delist the provider, publish a
new policy, in any order) against the real PostgreSQL, payments and the Stripe stand-in, and
checks the escrow ledger against a plain model: never negative, never a session released
twice, and for each package held = released + refunded + left in both shares, to the fen;
the member shares refunded are what the payments and Stripe say went back.

The policy's release schedule ("per_session" or "monthly") and refund split (the unused
subsidy back to the union, or to the member with their share) are drawn anew by a rule: each
package follows the policy in force when it was bought, whatever is published after."""

import asyncio

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from evaluation.enforcement import policy
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, DomainError
from marketplace.prepaid import escrow, services
from marketplace.vouchers import services as vouchers
from tests.points.test_ledger import operator
from tests.prepaid.helpers import SHARE, SUBSIDY, balanced, buy, delist, ledger, member, prepaid_offer
from tests.vouchers.test_claims import staff_principal

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("clean_state")]

SESSIONS = 4
MONTHS = 6


def run(coroutine):
    return asyncio.run(coroutine)


class Escrow(RuleBasedStateMachine):
    """The model: per package, the policy it was sold under, sessions used, months released,
    both shares left and released, and what went back to the member."""

    world = None
    offer_id = 0

    def __init__(self):
        super().__init__()
        self.packages: list[dict] = []
        self.model: dict[int, dict] = {}
        self.delisted = False
        self.policy = {"release": "per_session", "refund_subsidy_to_node": True}

    @precondition(lambda self: not self.delisted)
    @rule(release=st.sampled_from(["per_session", "monthly"]), to_node=st.booleans())
    def publish_policy(self, release, to_node):
        rules = {
            **policy.DEFAULT_RULES,
            "prepaid": {**policy.DEFAULT_RULES["prepaid"], "release": release, "refund_subsidy_to_node": to_node},
        }

        async def publish():
            await policy.publish_policy(await operator(self.world, "chaoyang"), self.world.nodes["chaoyang"], rules)

        run(publish())
        self.policy = {"release": release, "refund_subsidy_to_node": to_node}

    @precondition(lambda self: not self.delisted and len(self.packages) < 4)
    @rule()
    def purchase(self):
        package = run(buy(run(member(self.world)), self.offer_id))
        assert (package["release"], package["refund_subsidy_to_node"]) == (
            self.policy["release"],
            self.policy["refund_subsidy_to_node"],
        )
        self.packages.append(package)
        self.model[package["id"]] = {
            **self.policy,
            "used": 0,
            "months": 0,
            "left_m": SHARE,
            "left_s": SUBSIDY,
            "released_m": 0,
            "released_s": 0,
            "refunded_m": 0,
            "back": 0,
            "status": "active",
        }

    def _release(self, m: dict, member_fen: int, subsidy_fen: int) -> None:
        m["left_m"] -= member_fen
        m["left_s"] -= subsidy_fen
        m["released_m"] += member_fen
        m["released_s"] += subsidy_fen

    @precondition(lambda self: self.packages)
    @rule(data=st.data())
    def use_session(self, data):
        package = data.draw(st.sampled_from(self.packages))
        m = self.model[package["id"]]
        open_ = m["status"] == "active" and not self.delisted

        async def scan():
            try:
                return await vouchers.redeem(await staff_principal(self.world), package["code"])
            except DomainError as error:
                return error.code

        result = run(scan())
        if not open_:
            assert isinstance(result, str)
            return
        assert not isinstance(result, str), result
        m["used"] += 1
        assert result.session == m["used"]
        last = m["used"] == SESSIONS
        if m["release"] == "per_session":
            self._release(m, escrow.part(SHARE, SESSIONS, m["used"]), escrow.part(SUBSIDY, SESSIONS, m["used"]))
        elif last:  # a monthly package's last session releases what is left
            self._release(m, m["left_m"], m["left_s"])
        if last:
            m["status"] = "used_up"

    @precondition(lambda self: self.packages)
    @rule(data=st.data(), months=st.integers(min_value=1, max_value=MONTHS))
    def months_pass(self, data, months):
        package = data.draw(st.sampled_from(self.packages))
        m = self.model[package["id"]]

        async def release():
            async with engine().transaction() as transaction:
                return await escrow.release_months(
                    transaction.connection, package["id"], escrow.add_months(package["starts_at"], months)
                )

        released = run(release())
        expected = 0
        if m["status"] == "active" and m["release"] == "monthly":
            for month in range(m["months"] + 1, months + 1):
                member_fen, subsidy_fen = escrow.part(SHARE, MONTHS, month), escrow.part(SUBSIDY, MONTHS, month)
                self._release(m, member_fen, subsidy_fen)
                expected += member_fen + subsidy_fen
                m["months"] = month
                if month == MONTHS:
                    m["status"] = "used_up"
        assert released == expected

    def _refund(self, m: dict) -> tuple[int, int]:
        """What a refund of what is left gives the member: their share, and the subsidy as far
        as the package's policy and what they paid allow."""
        to_member = 0
        if not m["refund_subsidy_to_node"]:
            to_member = max(0, min(m["left_s"], SHARE - m["back"] - m["left_m"]))
        member_fen = m["left_m"]
        m["refunded_m"] += member_fen
        m["back"] += member_fen + to_member
        m["left_m"] = m["left_s"] = 0
        m["status"] = "refunded"
        return member_fen, to_member

    @precondition(lambda self: self.packages)
    @rule(data=st.data())
    def take_back(self, data):
        package = data.draw(st.sampled_from(self.packages))
        m = self.model[package["id"]]
        allowed = m["status"] == "active" and m["used"] == 0 and m["months"] == 0

        async def attempt():
            try:
                return await services.take_back(await member(self.world), package["id"])
            except Conflict as error:
                return error.code

        result = run(attempt())
        if allowed:
            assert (result["refund_member_fen"], result["subsidy_to_member_fen"]) == self._refund(m) == (SHARE, 0)
        else:
            assert result == "cooling_off_over"

    @precondition(lambda self: self.packages)
    @rule(data=st.data())
    def refund_unused(self, data):
        package = data.draw(st.sampled_from(self.packages))
        m = self.model[package["id"]]
        result = run(services.refund_package(package["id"], "unused"))
        if m["status"] != "active":
            assert result is None
        else:
            assert (result["refund_member_fen"], result["subsidy_to_member_fen"]) == self._refund(m)

    @precondition(lambda self: self.packages and not self.delisted)
    @rule()
    def delist_provider(self):
        run(delist(self.world.providers["chaoyang"]["id"]))
        self.delisted = True
        for m in self.model.values():
            if m["status"] == "active":
                self._refund(m)

    @invariant()
    def ledger_agrees(self):
        for package in self.packages:
            m = self.model[package["id"]]
            row = run(ledger(package["id"]))
            assert balanced(row)
            assert (row["sessions_used"], row["status"]) == (m["used"], m["status"])
            assert (row["left_member_fen"], row["left_subsidy_fen"]) == (m["left_m"], m["left_s"])
            assert (row["released_m"], row["released_s"]) == (m["released_m"], m["released_s"])
            assert row["refunded_m"] == m["refunded_m"]
        if self.packages:
            assert run(services.reconcile()) == {}

    def teardown(self):
        """Each example starts from a clean slate: the packages, payments and policies go, the provider is back."""

        async def reset():
            async with engine().transaction() as transaction:
                c = transaction.connection
                await c.execute(
                    "TRUNCATE prepaid_refund, prepaid_entry, prepaid_package, payment, voucher, claim_count, "
                    "notification CASCADE"
                )
                await c.execute("DELETE FROM enforcement_policy")
                await c.execute(
                    "UPDATE provider SET status = 'active' WHERE id = $1", self.world.providers["chaoyang"]["id"]
                )
                await c.execute("UPDATE offer SET stock_left = stock_total")

        run(reset())


def test_the_escrow_ledger_matches_its_model(world):
    Escrow.world = world
    Escrow.offer_id = run(prepaid_offer(world, sessions=SESSIONS, months=MONTHS))
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
