"""What the member journeys stand on, against the real PostgreSQL and the Stripe stand-in:
the claim states of the offer page, whole-day voucher expiry, restock alerts, the orders
tabs, the one price charged, sign-in's return path, and the stand-in answering the
browser as Stripe does (publishable key + client secret)."""

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from catalog import pricing
from catalog.tables import Offer
from marketplace.core import dates
from marketplace.core.federation import services as federation
from marketplace.core.federation.tables import Notification
from marketplace.core.settings import get_settings
from marketplace.core.web.pages import safe_next
from marketplace.payments import services as payments
from marketplace.payments.services import stripe_client
from marketplace.payments.tables import Payment
from marketplace.vouchers import actors as voucher_actors, services as vouchers
from marketplace.vouchers.tables import RestockAlert, Voucher
from tests.factories import now
from tests.journeys import builders
from tests.test_access import _web_login

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def member(world):
    return await federation.member_principal(world.members["chaoyang"][0])


async def offer_row(offer_id: int) -> dict:
    return dict(await Offer.select().where(Offer.id == offer_id).first())


async def test_claim_states_of_the_offer_page(world):
    principal = await member(world)
    free = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800, limit=2)
    state = await vouchers.claim_state(principal, await offer_row(free))
    assert (state.state, state.held, state.limit, state.voucher_id) == ("open", 0, 2, None)
    first = await vouchers.claim(principal, free)
    assert (await vouchers.claim_state(principal, await offer_row(free))).state == "open"  # 1 of 2
    await vouchers.claim(principal, free)
    held = await vouchers.claim_state(principal, await offer_row(free))
    assert (held.state, held.held) == ("held", 2) and held.voucher_id > first.id
    # A cancelled claim gives its place back.
    await vouchers.cancel(principal, first.id)
    assert (await vouchers.claim_state(principal, await offer_row(free))).state == "open"
    # Anonymous visitors see the offer open (the page asks them to sign in).
    assert (await vouchers.claim_state(None, await offer_row(free))).state == "open"

    sold_out = await builders.offer(world, "voucher", "年卡限量抢购", list_fen=99900, stock=0)
    assert (await vouchers.claim_state(principal, await offer_row(sold_out))).state == "sold_out"
    upcoming = await builders.offer(world, "voucher", "春节礼包", list_fen=100, starts=now() + timedelta(days=3))
    assert (await vouchers.claim_state(principal, await offer_row(upcoming))).state == "upcoming"
    booking = await builders.offer(world, "slot", "理疗预约", list_fen=100)
    assert (await vouchers.claim_state(principal, await offer_row(booking), has_slots=False)).state == "no_slots"

    paid = await builders.offer(world, "paid", "私教课", list_fen=29900, member_fen=23890, subsidy_fen=3700)
    payment = await payments.start(principal, paid)
    pending = await vouchers.claim_state(principal, await offer_row(paid))
    assert (pending.state, pending.voucher_id) == ("pending_payment", payment.voucher_id)
    # The payment charges exactly the price every page shows.
    assert payment.amount_fen == pricing.price_of(await offer_row(paid)).pays_fen == 20190

    points_offer = await builders.offer(world, "points", "瑜伽课", list_fen=5900, points=540)
    assert (await vouchers.claim_state(principal, await offer_row(points_offer))).points_balance == 0


async def test_the_offer_page_of_an_approved_offer_not_started_yet_is_no_404(client, world):
    upcoming = await builders.offer(
        world, "voucher", "春节送温暖礼包", list_fen=10000, starts=now() + timedelta(days=5)
    )
    await _web_login(client, "/login", world.members["chaoyang"][1])
    page = await client.get(f"/offers/{upcoming}")
    assert page.status_code == 200
    assert "即将开始" in page.text and 'data-state="upcoming"' in page.text


async def test_the_header_sign_in_returns_to_the_page_it_was_pressed_on(client, world):
    offer_id = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800)
    page = await client.get(f"/offers/{offer_id}?from=search")
    link = re.search(r'href="([^"]+)" data-testid="header-login"', page.text).group(1)
    assert link == f"/login?next=/offers/{offer_id}%3Ffrom%3Dsearch"
    home = await client.get("/")
    assert 'href="/login" data-testid="header-login"' in home.text


async def test_vouchers_last_whole_days_and_bookings_end_with_their_slot(world):
    principal = await member(world)
    offer_id = await builders.offer(world, "voucher", "体检券", list_fen=100)
    # An API client's end: 2027-02-28T18:00Z, which is 03-01 02:00 in Shanghai.
    odd_end = datetime(2027, 2, 28, 18, 0, tzinfo=UTC)
    await Offer.update({Offer.valid_to: odd_end}).where(Offer.id == offer_id)
    voucher = await vouchers.claim(principal, offer_id)
    assert dates.local(voucher.expires_at).isoformat() == "2027-03-02T00:00:00+08:00"
    assert dates.last_day_text(voucher.expires_at) == "2027-03-01"

    booking = await builders.offer(world, "slot", "理疗预约", list_fen=100)
    day = builders.last_day(2)
    slot_id = await builders.slot(booking, day, "19:00", "20:00")
    booked = await vouchers.claim(principal, booking, slot_id)
    assert dates.local(booked.expires_at).strftime("%H:%M") == "20:00"
    assert booked.slot_starts_at is not None and dates.local(booked.slot_starts_at).strftime("%H:%M") == "19:00"


async def test_a_restock_alert_tells_the_member_once_when_stock_returns(world):
    principal = await member(world)
    offer_id = await builders.offer(world, "voucher", "年卡限量抢购", list_fen=99900, stock=0)
    await vouchers.ask_restock_alert(principal, offer_id)
    await vouchers.ask_restock_alert(principal, offer_id)  # a second tap changes nothing
    assert await RestockAlert.count() == 1
    assert (await vouchers.claim_state(principal, await offer_row(offer_id))).alert_set
    assert await vouchers.notify_restock(offer_id) == 0  # still none left

    await Offer.update({Offer.stock_total: 5, Offer.stock_left: 5}).where(Offer.id == offer_id)
    assert await voucher_actors.on_offer_changed(4242, {"offer_id": offer_id})  # what the worker runs
    assert not await voucher_actors.on_offer_changed(4242, {"offer_id": offer_id})  # once per event
    message = await Notification.select().where(Notification.kind == "restock").first()
    assert (message["member"], message["link"]) == (principal.id, f"/offers/{offer_id}")
    assert await vouchers.notify_restock(offer_id) == 0  # told once
    assert not (await vouchers.claim_state(principal, await offer_row(offer_id))).alert_set


async def test_orders_by_tab_with_counts(world):
    principal = await member(world)
    offer_id = await builders.offer(world, "voucher", "体检券", list_fen=100, limit=5)
    claimed = [await vouchers.claim(principal, offer_id) for _ in range(4)]
    await Voucher.update({Voucher.status: "redeemed", Voucher.redeemed_at: now()}).where(Voucher.id == claimed[0].id)
    await Voucher.update({Voucher.status: "expired"}).where(Voucher.id == claimed[1].id)
    await vouchers.cancel(principal, claimed[2].id)
    mine, counts = await vouchers.my_orders(principal, "to_use")
    assert [v.id for v in mine] == [claimed[3].id]
    assert counts == {"to_use": 1, "used": 1, "to_rate": 1, "expired": 1, "refunds": 1}
    assert [v.id for v in (await vouchers.my_orders(principal, "to_rate"))[0]] == [claimed[0].id]
    assert [v.id for v in (await vouchers.my_orders(principal, "refunds"))[0]] == [claimed[2].id]


@pytest.mark.unit
@pytest.mark.parametrize(
    "text, expected",
    [
        ("/offers/12", "/offers/12"),
        ("/offers/12?lat=39.9&lng=116.4", "/offers/12?lat=39.9&lng=116.4"),
        ("//evil.example/x", None),
        ("https://evil.example/", None),
        ("/\\evil.example", None),
        ("/console/", None),
        ("/api/v1/me", None),
        ("/login", None),
        ("offers/12", None),
        ("/a\r\nSet-Cookie: x", None),
        ("", None),
        (None, None),
    ],
)
def test_sign_in_returns_only_to_a_page_of_the_member_site(text, expected):
    assert safe_next("member", text) == expected


async def test_the_stand_in_answers_the_browser_as_stripe_does(world):
    """What the payment page's Stripe.js does, against the stand-in: create the card's
    PaymentMethod with the publishable key, confirm with the client secret, 3-D Secure."""
    principal = await member(world)
    offer_id = await builders.offer(world, "paid", "私教课", list_fen=29900, member_fen=23890, subsidy_fen=3700)
    started = await payments.start(principal, offer_id)
    secret = started.client_secret
    intent_id = secret.split("_secret_")[0]
    base, key = get_settings().stripe.api_base, get_settings().stripe.publishable_key
    card = {"number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"}  # declined on charge
    async with httpx.AsyncClient(base_url=base) as browser:
        assert (await browser.post("/v1/payment_methods", json={"type": "card", "card": card})).status_code == 401
        method = await browser.post("/v1/payment_methods", json={"key": key, "type": "card", "card": card})
        assert method.status_code == 200, method.text
        wrong = await browser.post(
            f"/v1/payment_intents/{intent_id}/confirm",
            json={"key": key, "client_secret": "pi_x_secret_y", "payment_method": method.json()["id"]},
        )
        assert wrong.status_code == 401
        declined = await browser.post(
            f"/v1/payment_intents/{intent_id}/confirm",
            json={"key": key, "client_secret": secret, "payment_method": method.json()["id"]},
        )
        assert declined.status_code == 402 and declined.json()["error"]["code"] == "card_declined"
        failed = await payments.my_payment(principal, started.id)
        assert (failed.status, failed.last_error) == ("pending", "card_declined")

        # Another card, whose bank asks for 3-D Secure: requires_action, then authenticated.
        secure = await browser.post(
            "/v1/payment_methods", json={"key": key, "type": "card", "card": {**card, "number": "4000002760003184"}}
        )
        confirmed = await browser.post(
            f"/v1/payment_intents/{intent_id}/confirm",
            json={"key": key, "client_secret": secret, "payment_method": secure.json()["id"], "use_stripe_sdk": True},
        )
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "requires_action"
        done = await browser.post(
            f"/v1/payment_intents/{intent_id}/_authenticate?success=true", json={"key": key, "client_secret": secret}
        )
        assert done.json()["status"] == "succeeded"
        seen = await browser.get(f"/v1/payment_intents/{intent_id}", params={"key": key, "client_secret": secret})
        assert seen.json()["status"] == "succeeded"
        assert (await browser.get(f"/v1/payment_intents/{intent_id}", params={"key": key})).status_code == 401
        again = await browser.post(
            f"/v1/payment_intents/{intent_id}/confirm",
            json={"key": key, "client_secret": secret, "payment_method": secure.json()["id"]},
        )
        assert again.status_code == 400  # a succeeded intent takes no other card
    # The member's return completes it; the server never touched a card.
    assert (await payments.check_return(principal, started.id)).status == "succeeded"
    assert (await Payment.select(Payment.status).first())["status"] == "succeeded"
    intent = await stripe_client().v1.payment_intents.retrieve_async(intent_id)
    assert intent.amount == 20190


async def test_the_payment_page_says_a_failure_in_chinese_with_a_way_to_retry(client, world):
    offer_id = await builders.offer(world, "paid", "私教课", list_fen=29900, member_fen=23890, subsidy_fen=3700)
    await _web_login(client, "/login", world.members["chaoyang"][1])
    bought = await client.post(f"/offers/{offer_id}/pay", data={"_csrf_token": client.cookies.get("csrftoken")})
    assert bought.status_code in (302, 303), bought.text
    page_path = bought.headers["location"]
    payment = await Payment.select().first()
    intent = await stripe_client().v1.payment_intents.retrieve_async(payment["payment_intent"])
    base, key = get_settings().stripe.api_base, get_settings().stripe.publishable_key
    async with httpx.AsyncClient(base_url=base) as browser:
        method = await browser.post(
            "/v1/payment_methods",
            json={
                "key": key,
                "type": "card",
                "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            },
        )
        await browser.post(
            f"/v1/payment_intents/{intent.id}/confirm",
            json={"key": key, "client_secret": intent.client_secret, "payment_method": method.json()["id"]},
        )
    page = await client.get(f"{page_path}/return")
    assert page.status_code == 200
    assert "支付未成功" in page.text and "银行拒绝了这张卡，未扣款" in page.text
    shown = re.sub(r"<script.*?</script>", "", page.text, flags=re.S)  # what a member reads
    assert "declined" not in shown.lower() and "Bad request" not in shown
    assert 'data-testid="pay-form"' in page.text  # the form stays to try again
    assert "剩余支付时间" in page.text


async def test_a_hold_that_ran_out_says_so_and_offers_to_buy_again(client, world):
    offer_id = await builders.offer(world, "paid", "私教课", list_fen=29900, member_fen=23890, subsidy_fen=3700)
    await _web_login(client, "/login", world.members["chaoyang"][1])
    bought = await client.post(f"/offers/{offer_id}/pay", data={"_csrf_token": client.cookies.get("csrftoken")})
    await Payment.update({Payment.hold_until: now() - timedelta(seconds=1)}).where(Payment.id > 0)
    page = await client.get(bought.headers["location"])  # before the release job has run
    assert "支付已超时" in page.text and f'href="/offers/{offer_id}"' in page.text
    assert 'data-testid="pay-form"' not in page.text
    assert await payments.release_expired_holds() == 1
    released = await client.get(bought.headers["location"])
    assert "订单已取消" in released.text and "未扣款" in released.text and "重新购买" in released.text
