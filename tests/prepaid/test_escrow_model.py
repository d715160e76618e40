"""A Hypothesis state machine drives prepaid packages (buy, use a session at the counter,
let months pass, take back in the cooling-off days, refund, delist the provider, publish a
new policy, refund part of a payment by hand in the Stripe dashboard, in any order) against
the real PostgreSQL, payments and the Stripe stand-in, and checks the escrow ledger against a
plain model: never negative, never a session released twice, and for each package held =
released + refunded + left in both shares, to the fen; the member shares refunded are what
the payments and Stripe say went back, and what the escrow could not cover of a dashboard
refund is what operators are shown.

The model keeps each package's unreleased steps of its release schedule (sessions, or months
when released monthly), each [member share, subsidy]: a release takes the first step, a
dashboard refund takes whole steps off the end and the rest of its amount off the member
share of the last step left (the provider had the released ones already).

The policy's release schedule ("per_session" or "monthly") and refund split (the unused
subsidy back to the union, or to the member with their share) are drawn anew by a rule: each
package follows the policy in force when it was bought, whatever is published after."""

import asyncio
import itertools

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from evaluation.enforcement import policy
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, DomainError
from marketplace.payments import services as payments
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


async def refunds_and_uncovered() -> dict[int, tuple[int, int]]:
    """Per package: what its payment says went back to the member, and what the escrow could
    not cover of the refunds made in the dashboard (the operators' alert)."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT p.id, pay.refunded_fen, (SELECT coalesce(sum(x.uncovered_fen), 0) FROM prepaid_outside_refund x "
            "WHERE x.package = p.id) AS uncovered FROM prepaid_package p JOIN payment pay ON pay.id = p.payment"
        )
    return {row["id"]: (row["refunded_fen"], row["uncovered"]) for row in rows}


class Escrow(RuleBasedStateMachine):
    """The model: per package, the policy it was sold under, sessions used, months released,
    the unreleased steps (both shares left), both shares released, what went back to the
    member (through the platform's refunds and the dashboard's) and what the escrow could not
    cover."""

    world = None
    offer_id = 0

    def __init__(self):
        super().__init__()
        self.packages: list[dict] = []
        self.model: dict[int, dict] = {}
        self.delisted = False
        self.policy = {"release": "per_session", "refund_subsidy_to_node": True}
        self.published = 0

    # Twice at most per run: a policy changes only what is bought after it, and the steps left
    # go to the packages.
    @precondition(lambda self: not self.delisted and self.published < 2)
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
        self.published += 1

    @precondition(lambda self: not self.delisted and len(self.packages) < 4)
    @rule()
    def purchase(self):
        package = run(buy(run(member(self.world)), self.offer_id))
        assert (package["release"], package["refund_subsidy_to_node"]) == (
            self.policy["release"],
            self.policy["refund_subsidy_to_node"],
        )
        self.packages.append(package)
        steps = SESSIONS if self.policy["release"] == "per_session" else MONTHS
        self.model[package["id"]] = {
            **self.policy,
            "used": 0,
            "months": 0,
            "steps": [[escrow.part(SHARE, steps, k), escrow.part(SUBSIDY, steps, k)] for k in range(1, steps + 1)],
            "released_m": 0,
            "released_s": 0,
            "refunded_m": 0,
            "back": 0,
            "uncovered": 0,
            "status": "active",
        }

    @staticmethod
    def _left(m: dict) -> tuple[int, int]:
        return sum(step[0] for step in m["steps"]), sum(step[1] for step in m["steps"])

    def _release(self, m: dict, count: int) -> int:
        """The first `count` unreleased steps go to the provider; the fen released."""
        released = 0
        for member_fen, subsidy_fen in m["steps"][:count]:
            m["released_m"] += member_fen
            m["released_s"] += subsidy_fen
            released += member_fen + subsidy_fen
        del m["steps"][:count]
        return released

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
        if m["release"] == "per_session":  # sessions refunded in the dashboard are no longer usable
            self._release(m, 1)
            assert result.sessions_left == len(m["steps"])
        elif m["used"] == SESSIONS:  # a monthly package's last session releases what is left
            self._release(m, len(m["steps"]))
        if not m["steps"]:
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
            due = min(max(months - m["months"], 0), len(m["steps"]))  # months refunded in the dashboard end it sooner
            expected = self._release(m, due)
            m["months"] += due
            if not m["steps"]:
                m["status"] = "used_up"
        assert released == expected

    def _refund(self, m: dict) -> tuple[int, int]:
        """What a refund of what is left gives the member: their share, and the subsidy as far
        as the package's policy and what they paid allow."""
        member_fen, subsidy_fen = self._left(m)
        to_member = 0
        if not m["refund_subsidy_to_node"]:
            to_member = max(0, min(subsidy_fen, SHARE - m["back"] - member_fen))
        m["refunded_m"] += member_fen
        m["back"] += member_fen + to_member
        m["steps"] = []
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
        if allowed:  # all the member paid, less what the dashboard gave back already
            left = SHARE - m["back"]
            assert (result["refund_member_fen"], result["subsidy_to_member_fen"]) == self._refund(m) == (left, 0)
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

    def _refundable(self, within_escrow: bool) -> list[dict]:
        return [
            p
            for p in self.packages
            if self.model[p["id"]]["back"] < SHARE and (not within_escrow or self._left(self.model[p["id"]])[0] > 1)
        ]

    @precondition(lambda self: self._refundable(True))
    @rule(data=st.data())
    def refund_in_stripe_within_escrow(self, data):
        """Finance refunds part of what a package still holds by hand in the Stripe dashboard:
        whole steps off the end, or a fen either side of them (the rule's edges; any amount is
        `refund_in_stripe_any`'s)."""
        package = data.draw(st.sampled_from(self._refundable(True)))
        m = self.model[package["id"]]
        left_m = self._left(m)[0]
        tail = list(itertools.accumulate(step[0] for step in reversed(m["steps"])))
        edges = sorted({amount for t in tail[:-1] for amount in (t - 1, t, t + 1) if 1 <= amount < left_m})
        any_amount = st.integers(min_value=1, max_value=left_m - 1)
        self._refund_in_stripe(package, data.draw(st.sampled_from(edges) if edges else any_amount))

    @precondition(lambda self: self._refundable(False))
    @rule(data=st.data())
    def refund_in_stripe_any(self, data):
        """Finance refunds by hand in the Stripe dashboard any part of a package's payment that
        Stripe has not given back yet: all the escrow holds, a fen either side, or more than it
        holds (the provider had it already: not covered), on any package, ended or not."""
        package = data.draw(st.sampled_from(self._refundable(False)))
        m = self.model[package["id"]]
        room, left_m = SHARE - m["back"], self._left(m)[0]
        edges = sorted({amount for amount in (left_m - 1, left_m, left_m + 1, room) if 1 <= amount <= room})
        self._refund_in_stripe(package, data.draw(st.sampled_from(edges) | st.integers(min_value=1, max_value=room)))

    def _refund_in_stripe(self, package: dict, amount: int) -> None:
        """The refund made in the dashboard; the product follows it as prepaid's actor does when
        payments announces the charge.refunded webhook; the model follows it too."""
        m = self.model[package["id"]]
        left_m = self._left(m)[0]

        async def refund_and_follow():
            async with engine().transaction() as transaction:
                intent_id = await transaction.connection.fetchval(
                    "SELECT payment_intent FROM payment WHERE id = $1", package["payment"]
                )
            await payments.stripe_client().v1.refunds.create_async({"payment_intent": intent_id, "amount": amount})
            followed = await services.follow_stripe_refunds(package["payment"])
            return followed, sum(refund["amount"] for refund in await payments.refunds_in_stripe(package["payment"]))

        followed, in_stripe = run(refund_and_follow())
        assert followed == 1
        m["back"] += amount
        assert in_stripe == m["back"]
        if m["status"] != "active":  # nothing left in escrow: the provider had it all
            m["uncovered"] += amount
        elif amount >= left_m:  # all that is left, and the rest not covered
            m["refunded_m"] += left_m
            m["uncovered"] += amount - left_m
            m["steps"] = []
            m["status"] = "refunded"
        else:  # whole steps off the end while they fit, the rest off the last step left
            rest = amount
            while len(m["steps"]) > 1 and m["steps"][-1][0] <= rest:
                rest -= m["steps"].pop()[0]
            m["steps"][-1][0] -= rest
            m["refunded_m"] += amount

    @invariant()
    def ledger_agrees(self):
        for package in self.packages:
            m = self.model[package["id"]]
            row = run(ledger(package["id"]))
            assert balanced(row)
            assert (row["sessions_used"], row["status"]) == (m["used"], m["status"])
            assert (row["left_member_fen"], row["left_subsidy_fen"]) == self._left(m)
            assert (row["released_m"], row["released_s"]) == (m["released_m"], m["released_s"])
            assert row["refunded_m"] == m["refunded_m"]
        if self.packages:
            assert run(refunds_and_uncovered()) == {
                p["id"]: (self.model[p["id"]]["back"], self.model[p["id"]]["uncovered"]) for p in self.packages
            }
            assert run(services.reconcile()) == {}

    def teardown(self):
        """Each example starts from a clean slate: the packages, payments and policies go, the provider is back."""

        async def reset():
            async with engine().transaction() as transaction:
                c = transaction.connection
                await c.execute(
                    "TRUNCATE prepaid_outside_refund, prepaid_refund, prepaid_entry, prepaid_package, payment, "
                    "voucher, claim_count, notification CASCADE"
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
            max_examples=10,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
                HealthCheck.function_scoped_fixture,
            ],
        ),
    )
