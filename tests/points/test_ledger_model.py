"""A Hypothesis state machine drives one member's points (earn, spend, refund, expire,
replays) against the real PostgreSQL and checks the ledger against a plain model:
the balance equals the model's, the sum of the entries and the sum of the lots, and
never goes below zero."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from marketplace.core.db import engine
from marketplace.core.settings import get_settings
from marketplace.points import services as points

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("clean_state")]


def run(coroutine):
    """Each step on a loop of its own: the machine is synchronous, and without a pool a
    connection lives only as long as its transaction."""
    return asyncio.run(coroutine)


async def _in_transaction(operation):
    async with engine().transaction() as transaction:
        return await operation(transaction.connection)


class Ledger(RuleBasedStateMachine):
    """The model: lots in the order they arrive (which is the order they expire, as the
    clock only moves forward), what each voucher took from which lot, the refs used."""

    world = None

    @initialize()
    def new_member(self):
        self.member_id = run(
            _in_transaction(
                lambda c: c.fetchval(
                    "INSERT INTO member (node, name, gender, birth_year, phone_cipher, phone_hash, phone_masked, "
                    "id_number_cipher, id_number_hash, joined_at, created_at) "
                    "VALUES ($1, '孙悟空', 'M', 1990, '', decode(md5(random()::text), 'hex'), '139****0000', '', "
                    "decode(md5(random()::text), 'hex'), now(), now()) RETURNING id",
                    self.world.nodes["cy_union"],
                )
            )
        )
        self.clock = datetime.now(UTC) - timedelta(days=3 * get_settings().points.expiry_days)
        self.lots: list[list] = []  # [expires_at, remaining]
        self.spends: dict[int, list[tuple[int, int]]] = {}  # voucher → [(lot index, points)]
        self.refunded: set[int] = set()
        self.earned_refs: list[str] = []

    @property
    def balance(self) -> int:
        return sum(remaining for _, remaining in self.lots)

    @rule(amount=st.integers(1, 500), days=st.integers(0, 200))
    def earn(self, amount, days):
        self.clock += timedelta(days=days)
        ref = f"earn:{len(self.earned_refs)}"
        result = run(_in_transaction(lambda c: points.credit(c, self.member_id, "earn", amount, ref, now=self.clock)))
        self.lots.append([self.clock + timedelta(days=get_settings().points.expiry_days), amount])
        self.earned_refs.append(ref)
        assert result == self.balance

    @precondition(lambda self: self.earned_refs)
    @rule(data=st.data())
    def replay_earn(self, data):
        ref = data.draw(st.sampled_from(self.earned_refs))
        assert run(_in_transaction(lambda c: points.credit(c, self.member_id, "earn", 999, ref))) is None

    @rule(amount=st.integers(1, 800))
    def spend(self, amount):
        voucher_id = run(self._voucher())
        result = run(_in_transaction(lambda c: points.spend_for_voucher(c, self.member_id, voucher_id, amount)))
        if amount > self.balance:
            assert result is None
            return
        taken, left = [], amount
        for index, lot in enumerate(self.lots):
            take = min(lot[1], left)
            if take:
                lot[1] -= take
                taken.append((index, take))
                left -= take
        self.spends[voucher_id] = taken
        assert result == self.balance

    @precondition(lambda self: self.spends)
    @rule(data=st.data())
    def refund(self, data):
        voucher_id = data.draw(st.sampled_from(sorted(self.spends)))
        returned = run(_in_transaction(lambda c: points.refund_voucher(c, voucher_id)))
        if voucher_id in self.refunded:
            assert returned == 0  # a replayed refund returns nothing
            return
        for index, take in self.spends[voucher_id]:
            self.lots[index][1] += take
        self.refunded.add(voucher_id)
        assert returned == sum(take for _, take in self.spends[voucher_id])

    @rule(days=st.integers(0, 400))
    def expire(self, days):
        self.clock += timedelta(days=days)
        run(points.expire_points(now=self.clock))
        for lot in self.lots:
            if lot[0] <= self.clock:
                lot[1] = 0

    @invariant()
    def ledger_agrees(self):
        if not hasattr(self, "member_id"):
            return
        rows = run(
            engine().run_ddl(
                f"SELECT (SELECT balance FROM points_balance WHERE member = {self.member_id}) AS cached, "
                f"(SELECT coalesce(sum(amount), 0) FROM points_entry WHERE member = {self.member_id}) AS ledger, "
                f"(SELECT coalesce(sum(remaining), 0) FROM points_lot WHERE member = {self.member_id}) AS lots"
            )
        )
        row = rows[0]
        assert (row["cached"] or 0) == row["ledger"] == row["lots"] == self.balance >= 0

    async def _voucher(self) -> int:
        """A voucher row for a spend to belong to (the claim itself is tested elsewhere)."""
        offer = self.world.offers["public"]
        return await _in_transaction(
            lambda c: c.fetchval(
                "INSERT INTO voucher (code, offer, member, provider, period_start, claimed_at, expires_at) "
                "SELECT substr(md5(random()::text), 1, 14), o.id, $2, o.provider, now(), now(), o.valid_to "
                "FROM offer o WHERE o.id = $1 RETURNING id",
                offer,
                self.member_id,
            )
        )


def test_the_ledger_matches_its_model(world):
    Ledger.world = world
    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
