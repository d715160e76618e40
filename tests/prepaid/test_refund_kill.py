"""A delisted provider's packages are refunded several at once (bounded), and the process
doing it may be killed at any moment: run it in a process of its own, SIGKILL it midway, run
it again, and every package is refunded once, every member share reaches Stripe once, and
the ledger reconciles with payments to the fen."""

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from marketplace.core.db import engine
from marketplace.prepaid import escrow, services
from marketplace.runtime import processes
from marketplace.vouchers import services as vouchers
from providers import services as providers
from tests.prepaid.helpers import SHARE, balanced, buy, ledger, prepaid_offer
from tests.prepaid.test_prepaid import stripe_refunded
from tests.vouchers.test_claims import many_members, staff_principal

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("clean_state")]

LOG = Path(__file__).resolve().parents[1] / "artifacts" / "crash" / "prepaid-refunds.log"
HOLDERS = 16

# The delisting actor's work in a process of its own, slowed down per package (after each
# refund is committed and sent) so that the kill lands in the middle of the run.
SCRIPT = """
import asyncio, sys
from marketplace import composition  # noqa: F401
from marketplace.core import db
from marketplace.prepaid import services

slow = services.refund_package

async def refund_package(package_id, reason):
    refund = await slow(package_id, reason)
    await asyncio.sleep(0.3)
    return refund

services.refund_package = refund_package

async def main():
    await db.open_pool()
    print("refunding", flush=True)
    await services.refund_provider(int(sys.argv[1]), "delisted", concurrency=3)
    print("done", flush=True)

asyncio.run(main())
"""


async def count(sql: str, *args) -> int:
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


async def test_killing_the_refund_run_midway_loses_and_doubles_nothing(world):
    offer_id = await prepaid_offer(world, sessions=3)
    packages = [await buy(buyer, offer_id) for buyer in await many_members(world, HOLDERS)]
    staff = await staff_principal(world)
    for package in packages[::4]:
        await vouchers.redeem(staff, package["code"])
    provider_id = world.providers["chaoyang"]["id"]
    async with engine().transaction() as transaction:
        await providers.transition(transaction.connection, provider_id, ("active",), "delisted", "system", None)

    LOG.parent.mkdir(parents=True, exist_ok=True)
    child = processes.spawn(["-c", SCRIPT, str(provider_id)], str(LOG))
    try:
        deadline = time.monotonic() + 120
        while await count("SELECT count(*) FROM prepaid_refund") < 4:
            assert child.poll() is None, LOG.read_text()[-2000:]
            assert time.monotonic() < deadline, "no refund within two minutes"
            await asyncio.sleep(0.05)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(10)
    done_before = await count("SELECT count(*) FROM prepaid_refund")
    assert 4 <= done_before < HOLDERS, done_before  # killed midway

    assert await services.refund_provider(provider_id) == HOLDERS - done_before
    assert await services.refund_provider(provider_id) == 0  # and again: nothing more
    assert await count("SELECT count(*) FROM prepaid_refund WHERE sent_at IS NULL") == 0
    for index, package in enumerate(packages):
        row = await ledger(package["id"])
        assert balanced(row) and row["status"] == "refunded"
        expected = SHARE - (escrow.part(SHARE, 3, 1) if index % 4 == 0 else 0)
        assert row["refunded_m"] == expected
        assert await stripe_refunded(package["payment"]) == expected  # sent once, never twice
    assert (
        await count(
            "SELECT count(*) FROM (SELECT package FROM prepaid_entry WHERE kind = 'refund' GROUP BY 1 HAVING count(*) > 1) d"
        )
        == 0
    )
    assert await services.reconcile() == {}
