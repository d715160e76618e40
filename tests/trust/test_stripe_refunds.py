"""Refunds and disputes made in Stripe itself reach the product (charge.refunded,
charge.dispute.created): the voucher is cancelled or flagged, the stock returns and the
settlement no longer pays the provider the member's share."""

import pytest

from marketplace.payments import services as payments
from marketplace.payments.tables import Payment, StripeEvent
from providers.settlements import drafting as statements
from tests.payments.stripe_helpers import pay_at_stripe, signed
from tests.payments.test_payments import member, paid_offer, voucher_status
from tests.vouchers.test_claims import stock_left

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def _paid(world) -> tuple[int, dict]:
    offer_id = await paid_offer(world)
    started = await payments.start(await member(world), offer_id)
    row = await Payment.select().where(Payment.id == started.id).first()
    assert await pay_at_stripe(row["payment_intent"]) == "succeeded"
    await payments.check_return(await member(world), started.id)
    assert await voucher_status(started.voucher_id) == "issued"
    return offer_id, row


async def _refund_in_stripe(intent_id: str) -> dict:
    """What an operator does in the Stripe dashboard: refund the charge in full."""
    refund = await payments.stripe_client().v1.refunds.create_async({"payment_intent": intent_id})
    return {
        "id": "ch_dashboard",
        "object": "charge",
        "payment_intent": intent_id,
        "amount": refund.amount,
        "amount_refunded": refund.amount,
        "refunded": True,
        "refunds": {"data": [{"id": refund.id}]},
    }


async def _deliver(client, event_type: str, obj: dict) -> str:
    payload, headers = signed(event_type, obj)
    response = await client.post("/api/v1/stripe/webhook", content=payload, headers=headers)
    assert response.status_code == 200, response.text
    stored = await StripeEvent.select(StripeEvent.id).order_by(StripeEvent.id, ascending=False).first()
    return await payments.apply_event(stored["id"])


async def test_a_refund_made_in_stripe_cancels_the_voucher_and_returns_the_stock(client, world):
    offer_id, row = await _paid(world)
    assert await stock_left(offer_id) == 99
    charge = await _refund_in_stripe(row["payment_intent"])
    assert await _deliver(client, "charge.refunded", charge) == "voucher_refunded"
    payment = await Payment.select().where(Payment.id == row["id"]).first()
    assert payment["status"] == "refunded" and payment["refund_id"] == charge["refunds"]["data"][0]["id"]
    assert await voucher_status(row["voucher"]) == "refunded"
    assert await stock_left(offer_id) == 100
    # Stripe delivers it again: nothing more happens.
    assert await _deliver(client, "charge.refunded", charge) == "already_done"
    assert await stock_left(offer_id) == 100


async def test_a_refund_after_use_leaves_the_settlement_without_the_members_share(client, world):
    from datetime import UTC, datetime, timedelta

    from marketplace.core.db import engine

    _offer_id, row = await _paid(world)
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE voucher SET status = 'redeemed', redeemed_at = now() WHERE id = $1", row["voucher"]
        )
    provider = world.providers["chaoyang"]["id"]
    window = (datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1))
    before = await statements.redeemed_lines(provider, *window)
    assert [line.paid_fen for line in before] == [row["amount_fen"]]
    assert (
        await _deliver(client, "charge.refunded", await _refund_in_stripe(row["payment_intent"]))
        == "refunded_after_use"
    )
    after = await statements.redeemed_lines(provider, *window)
    assert [line.paid_fen for line in after] == [0] and after[0].subsidy_fen == before[0].subsidy_fen
    assert await voucher_status(row["voucher"]) == "redeemed"


async def test_a_dispute_flags_the_payment(client, world):
    _, row = await _paid(world)
    dispute = {
        "id": "dp_bank",
        "object": "dispute",
        "charge": "ch_x",
        "payment_intent": row["payment_intent"],
        "amount": row["amount_fen"],
        "reason": "fraudulent",
        "status": "needs_response",
    }
    assert await _deliver(client, "charge.dispute.created", dispute) == "flagged"
    payment = await Payment.select().where(Payment.id == row["id"]).first()
    assert payment["dispute_id"] == "dp_bank" and payment["disputed_at"] is not None
    assert payment["status"] == "succeeded" and await voucher_status(row["voucher"]) == "issued"


async def test_events_about_charges_that_are_not_ours_change_nothing(client, world):
    await _paid(world)
    stranger = {
        "id": "ch_other",
        "object": "charge",
        "payment_intent": "pi_not_ours",
        "amount": 100,
        "amount_refunded": 100,
        "refunded": True,
        "refunds": {"data": []},
    }
    assert await _deliver(client, "charge.refunded", stranger) == "not_ours"


async def test_the_daily_reconciliation_repairs_what_no_webhook_told(client, world):
    from marketplace.core.federation import services as federation

    # A: refunded in the Stripe dashboard; its webhook never arrived.
    offer_id, refunded = await _paid(world)
    await payments.stripe_client().v1.refunds.create_async({"payment_intent": refunded["payment_intent"]})
    # B: paid at Stripe while this side still waits (the member closed the page, the webhook was lost).
    other = await federation.member_principal(world.members["haidian"][0])
    waiting = await payments.start(other, offer_id)
    waiting_row = await Payment.select().where(Payment.id == waiting.id).first()
    assert await pay_at_stripe(waiting_row["payment_intent"]) == "succeeded"

    found = await payments.reconcile_with_stripe()
    assert found == {"refund_applied": 1, "payment_completed": 1}, found
    assert await voucher_status(refunded["voucher"]) == "refunded"
    assert (await Payment.select(Payment.status).where(Payment.id == refunded["id"]).first())["status"] == "refunded"
    assert await voucher_status(waiting.voucher_id) == "issued"
    assert await stock_left(offer_id) == 99  # A's unit came back, B holds one
    # A second run finds everything in step.
    assert await payments.reconcile_with_stripe() == {"in_step": 2}
