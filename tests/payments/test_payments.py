"""Paid offers through the Stripe stand-in (localstripe) and the real PostgreSQL: the
hold on stock, completion by the member's return or by the webhook, webhooks forged,
repeated and reordered, a payment that arrives after its claim was released, refunds."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from catalog.tables import Offer
from marketplace.core.db import engine
from marketplace.core.errors import Conflict
from marketplace.core.federation import services as federation
from marketplace.payments import services as payments
from marketplace.payments.tables import Payment, StripeEvent
from marketplace.vouchers import services as vouchers
from marketplace.vouchers.tables import Voucher
from tests.payments.stripe_helpers import intent, intent_object, pay_at_stripe, signed
from tests.test_errors import assert_problem, bearer
from tests.vouchers.test_claims import RACERS, many_members, stock_left

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

SHARE = 9900 - 3000  # the world's offers: member price ¥99, union subsidy ¥30


async def paid_offer(world) -> int:
    offer_id = world.offers["public"]
    await Offer.update({Offer.kind: "paid"}).where(Offer.id == offer_id)
    return offer_id


async def member(world, key="chaoyang"):
    return await federation.member_principal(world.members[key][0])


async def outbox_topics() -> list[str]:
    return [row["topic"] for row in await engine().run_ddl("SELECT topic FROM outbox_event ORDER BY id")]


async def voucher_status(voucher_id: int) -> str:
    return (await Voucher.select(Voucher.status).where(Voucher.id == voucher_id).first())["status"]


async def test_buying_holds_the_stock_and_paying_issues_the_voucher(client, world):
    offer_id = await paid_offer(world)
    headers = await bearer(client, "member", world.members["chaoyang"][1])
    response = await client.post(f"/api/v1/offers/{offer_id}/payments", headers=headers)
    assert response.status_code == 201, response.text
    started = response.json()
    assert (started["status"], started["amount_fen"], started["currency"]) == ("pending", SHARE, "cny")
    assert started["client_secret"].startswith("pi_")
    assert await voucher_status(started["voucher_id"]) == "pending"
    assert await stock_left(offer_id) == 99
    row = await Payment.select().where(Payment.id == started["id"]).first()
    at_stripe = await intent(row["payment_intent"])
    assert (at_stripe.amount, at_stripe.currency, at_stripe.metadata["payment_id"]) == (
        SHARE,
        "cny",
        str(started["id"]),
    )
    # A pending voucher cannot be redeemed, and it counts against the member's limit.
    assert_problem(await client.post(f"/api/v1/offers/{offer_id}/payments", headers=headers), 409, "limit_reached")

    assert await pay_at_stripe(row["payment_intent"]) == "succeeded"
    done = await payments.check_return(await member(world), started["id"])
    assert done.status == "succeeded" and done.client_secret is None
    assert await voucher_status(started["voucher_id"]) == "issued"
    # Stripe's webhook arrives afterwards: nothing more happens.
    assert await payments.complete(started["id"], row["payment_intent"], SHARE) == "already_done"


async def test_webhooks_are_verified_stored_once_and_applied_by_a_worker(client, world):
    offer_id = await paid_offer(world)
    started = await payments.start(await member(world), offer_id)
    intent_id = (await Payment.select().first())["payment_intent"]
    body, headers = signed("payment_intent.succeeded", intent_object(intent_id, started.id, SHARE), event_id="evt_1")

    forged = await client.post(
        "/api/v1/stripe/webhook",
        content=body,
        headers={**headers, "Stripe-Signature": headers["Stripe-Signature"][:-4] + "0000"},
    )
    assert_problem(forged, 400, "bad_signature")
    _, wrong_secret = signed("payment_intent.succeeded", {}, secret="whsec_someone_else")
    assert_problem(
        await client.post("/api/v1/stripe/webhook", content=body, headers=wrong_secret), 400, "bad_signature"
    )
    stale_body, stale = signed(
        "payment_intent.succeeded",
        intent_object(intent_id, started.id, SHARE),
        timestamp=int(datetime.now(UTC).timestamp()) - 3600,
    )
    assert_problem(await client.post("/api/v1/stripe/webhook", content=stale_body, headers=stale), 400, "bad_signature")
    assert await StripeEvent.count() == 0

    first = await client.post("/api/v1/stripe/webhook", content=body, headers=headers)
    again = await client.post("/api/v1/stripe/webhook", content=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert await StripeEvent.count() == 1
    assert (await outbox_topics()).count(payments.STRIPE_EVENT) == 1
    # The worker's side: Stripe's word is that the intent succeeded.
    event = await StripeEvent.select(StripeEvent.id).first()
    assert await payments.apply_event(event["id"]) == "issued"
    assert await voucher_status(started.voucher_id) == "issued"


async def test_events_out_of_order_change_nothing_they_should_not(world):
    offer_id = await paid_offer(world)
    started = await payments.start(await member(world), offer_id)
    intent_id = (await Payment.select().first())["payment_intent"]
    for event_type in (
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.succeeded",
    ):
        body, headers = signed(event_type, intent_object(intent_id, started.id, SHARE))
        assert await payments.receive_event(body, headers["Stripe-Signature"])
    outcomes = [
        await payments.apply_event(row["id"])
        for row in await StripeEvent.select(StripeEvent.id).order_by(StripeEvent.id)
    ]
    assert outcomes == ["noted", "issued", "noted", "already_done", "already_done"]
    assert await voucher_status(started.voucher_id) == "issued"
    # An event whose amount is not the payment's is not believed.
    assert await payments.complete(started.id, intent_id, SHARE - 1) == "mismatch"


async def test_a_payment_that_arrives_after_the_hold_was_released_is_refunded(world):
    offer_id = await paid_offer(world)
    started = await payments.start(await member(world), offer_id)
    intent_id = (await Payment.select().first())["payment_intent"]
    # The hold ran out while the bank was still deciding (and Stripe was not told in time).
    assert await payments.release_hold(started.id)
    assert await voucher_status(started.voucher_id) == "cancelled" and await stock_left(offer_id) == 100
    assert await pay_at_stripe(intent_id) == "succeeded"

    body, headers = signed("payment_intent.succeeded", intent_object(intent_id, started.id, SHARE))
    await payments.receive_event(body, headers["Stripe-Signature"])
    event = await StripeEvent.select(StripeEvent.id).first()
    assert await payments.apply_event(event["id"]) == "refunding"
    assert payments.REFUND_REQUESTED in await outbox_topics()
    assert await payments.refund(started.id)
    assert not await payments.refund(started.id)  # a redelivered job refunds nothing more
    row = await Payment.select().first()
    assert row["status"] == "refunded" and row["refund_id"].startswith("re_")
    assert await voucher_status(started.voucher_id) == "refunded"
    assert await stock_left(offer_id) == 100  # no voucher came into being


async def test_unpaid_holds_are_released_and_paid_ones_completed(world):
    offer_id = await paid_offer(world)
    await Offer.update({Offer.per_member_limit: 5}).where(Offer.id == offer_id)
    buyer = await member(world)
    unpaid = await payments.start(buyer, offer_id)
    paid = await payments.start(buyer, offer_id)
    paid_intent = (await Payment.select().where(Payment.id == paid.id).first())["payment_intent"]
    await pay_at_stripe(paid_intent)  # its webhook has not come yet
    assert await payments.release_expired_holds() == 0  # nothing is due yet
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert await payments.release_expired_holds(now=later) == 1
    assert await voucher_status(unpaid.voucher_id) == "cancelled"
    assert await voucher_status(paid.voucher_id) == "issued"
    assert await stock_left(offer_id) == 99
    unpaid_intent = (await Payment.select().where(Payment.id == unpaid.id).first())["payment_intent"]
    assert (await intent(unpaid_intent)).status == "canceled"
    # The member's place in the limit came back with the stock.
    counts = await engine().run_ddl("SELECT sum(claims) AS n FROM claim_count")
    assert counts[0]["n"] == 1


async def test_cancelling_a_paid_voucher_refunds_the_money(world):
    offer_id = await paid_offer(world)
    buyer = await member(world)
    started = await payments.start(buyer, offer_id)
    await pay_at_stripe((await Payment.select().first())["payment_intent"])
    await payments.check_return(buyer, started.id)
    await vouchers.cancel(buyer, started.voucher_id)
    rows = await engine().run_ddl("SELECT payload FROM outbox_event WHERE topic = 'voucher.paid_cancelled'")
    assert json.loads(rows[0]["payload"]) == {"voucher_id": started.voucher_id}
    await payments.request_refund_for_voucher(started.voucher_id)
    await payments.request_refund_for_voucher(started.voucher_id)  # a redelivery asks nothing twice
    assert (await outbox_topics()).count(payments.REFUND_REQUESTED) == 1
    assert await payments.refund(started.id)
    assert await voucher_status(started.voucher_id) == "refunded"
    assert await stock_left(offer_id) == 100


async def test_an_unreachable_stripe_charges_nothing_and_holds_nothing(world, monkeypatch):
    import stripe

    offer_id = await paid_offer(world)
    monkeypatch.setattr(
        payments,
        "stripe_client",
        lambda: stripe.StripeClient(
            "sk_test_local",
            base_addresses={"api": "http://127.0.0.1:9"},
            max_network_retries=0,
            http_client=stripe.HTTPXClient(timeout=2),
        ),
    )
    with pytest.raises(Exception) as refused:
        await payments.start(await member(world), offer_id)
    assert refused.value.code == "payment_unavailable" and refused.value.status == 503
    assert await stock_left(offer_id) == 100
    assert [row["status"] for row in await Voucher.select(Voucher.status)] == ["cancelled"]


@pytest.mark.slow
async def test_racing_purchases_never_hold_more_than_the_stock(world):
    offer_id = await paid_offer(world)
    await Offer.update({Offer.stock_left: 10, Offer.stock_total: 10}).where(Offer.id == offer_id)
    buyers = await many_members(world, 40)

    async def buy(buyer):
        async with RACERS:
            try:
                return await payments.start(buyer, offer_id)
            except Conflict as error:
                return error.code

    results = await asyncio.gather(*(buy(buyer) for buyer in buyers))
    assert sum(not isinstance(result, str) for result in results) == 10
    assert {result for result in results if isinstance(result, str)} == {"sold_out"}
    assert await stock_left(offer_id) == 0
    assert await Voucher.count() == 10 and await Payment.count() == 10


async def test_a_payment_for_a_provider_delisted_meanwhile_is_refunded_not_issued(world):
    from providers.tables import Provider

    offer_id = await paid_offer(world)
    started = await payments.start(await member(world), offer_id)
    intent_id = (await Payment.select().first())["payment_intent"]
    await pay_at_stripe(intent_id)
    await Provider.update({Provider.status: "delisted"}).where(Provider.id == world.providers["chaoyang"]["id"])
    assert await payments.complete(started.id, intent_id, SHARE) == "refunding"
    assert await voucher_status(started.voucher_id) == "cancelled"
    assert await stock_left(offer_id) == 100
    assert await payments.refund(started.id)
    assert await voucher_status(started.voucher_id) == "refunded"
