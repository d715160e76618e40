"""Paid offers: the member's share charged through a Stripe PaymentIntent.

Buying a paid offer claims it like any other (limit, slot, stock, all in one
transaction) but leaves the voucher `pending`, holding its stock, and creates a
PaymentIntent for the member's share: the member price minus the union's subsidy, in
fen. The payment page confirms it with Stripe.js. Whichever arrives first, the
member's return from Stripe.js or the `payment_intent.succeeded` webhook, completes
the payment and issues the voucher; the other finds it done.

An unpaid hold is released after `PAYMENT_HOLD_MINUTES` (15): the stock, the slot and
the place in the limit return. A success that arrives for a payment already released
(late, or out of order) is refunded, never turned into a voucher. Cancelling an issued
paid voucher refunds the money through the outbox.

Money that moves in Stripe itself reaches the product: a refund made in the dashboard
(full or partial), a dispute opened and closed by the member's bank. The provider keeps
only what the member finally paid: a statement still a draft is corrected in place, an
approved one never changes and the difference is carried to the provider's next
statement (providers.settlements.services.correct_settled). A dispute holds the voucher until the
bank decides (why: above `disputed_in_stripe`). The voucher's own changes are the vouchers domain's
functions, called with this transaction's connection. A daily reconciliation repairs
what a lost webhook did not tell.

Webhooks: the signature is verified, each event id is stored once and handed to a
worker through the outbox, so the endpoint answers at once and a redelivered or
reordered event changes nothing it should not.
"""

import asyncio
import json
import weakref
from datetime import UTC, datetime, timedelta

import stripe
import structlog

from catalog import pricing, services as catalog
from marketplace.core import dates, money, notifications, pii
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, DomainError, NotFound, Unavailable
from marketplace.core.federation.services import require_current_member
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics
from marketplace.core.settings import get_settings
from marketplace.core.web.nav import N_
from marketplace.payments.schemas import DisputeRead, PaymentRead
from marketplace.prepaid import escrow
from marketplace.vouchers import codes, services as vouchers
from providers.settlements import services as settlements

log = structlog.get_logger(__name__)

STRIPE_EVENT = "stripe.event"
REFUND_REQUESTED = "payment.refund_requested"


class BadSignature(DomainError):
    status = 400
    code = "bad_signature"


HANDLED_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.canceled",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
)


# One client per event loop: its HTTP connections belong to the loop that opened them, and a
# command or a test that runs several loops one after another would otherwise send through
# a closed one ("Event loop is closed", retried, and at worst a payment that fails).
_stripe_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, stripe.StripeClient]" = (
    weakref.WeakKeyDictionary()
)


def stripe_client() -> stripe.StripeClient:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # outside a loop: a client of its own, as before
        return _new_stripe_client()
    client = _stripe_clients.get(loop)
    if client is None:
        client = _stripe_clients[loop] = _new_stripe_client()
    return client


def _new_stripe_client() -> stripe.StripeClient:
    settings = get_settings().stripe
    return stripe.StripeClient(
        settings.api_key,
        base_addresses={"api": settings.api_base} if settings.api_base else None,
        max_network_retries=2,
        http_client=stripe.HTTPXClient(timeout=20),
    )


_PAYMENT_SQL = """
SELECT p.id, p.voucher, p.member, p.amount_fen, p.currency, p.payment_intent, p.status, p.hold_until,
       p.created_at, p.succeeded_at, p.refunded_at, p.refunded_fen, p.dispute_status, o.id AS offer_id, o.title_zh,
       o.title_en,
       o.list_price_fen, v.subsidy_fen, pr.name AS provider_name
FROM payment p JOIN voucher v ON v.id = p.voucher JOIN offer o ON o.id = v.offer JOIN provider pr ON pr.id = v.provider
"""


def _read(row, client_secret: str | None = None, last_error: str | None = None) -> PaymentRead:
    settings = get_settings().stripe
    return PaymentRead(
        id=row["id"],
        order_number=order_number(row["id"], row["created_at"]),
        voucher_id=row["voucher"],
        offer_id=row["offer_id"],
        offer_title_zh=row["title_zh"],
        offer_title_en=row["title_en"],
        provider_name=row["provider_name"],
        amount_fen=row["amount_fen"],
        list_price_fen=row["list_price_fen"],
        subsidy_fen=row["subsidy_fen"],
        currency=row["currency"],
        status=row["status"],
        hold_until=row["hold_until"],
        created_at=row["created_at"],
        succeeded_at=row["succeeded_at"],
        refunded_at=row["refunded_at"],
        client_secret=client_secret,
        last_error=last_error,
        refunded_fen=row["refunded_fen"],
        dispute_status=row["dispute_status"],
        publishable_key=settings.publishable_key,
        payment_methods=list(settings.payment_methods),
        test_mode=settings.stand_in,
    )


def order_number(payment_id: int, created_at: datetime) -> str:
    """What the member quotes to support: the day it was bought and the payment's number."""
    return f"{dates.local(created_at):%Y%m%d}{payment_id:06d}"


async def _payment(payment_id: int, member_id: int | None = None):
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            _PAYMENT_SQL + "WHERE p.id = $1 AND ($2::bigint IS NULL OR p.member = $2)", payment_id, member_id
        )
    if row is None:
        raise NotFound("You have no such payment.", code="payment_not_found")
    return row


async def start(principal: Principal, offer_id: int, slot_id: int | None = None) -> PaymentRead:
    """Claim a paid offer with its voucher pending, and open a PaymentIntent for it."""
    payment = await reserve(principal, offer_id, slot_id)
    return await open_intent(principal, payment.id)


async def reserve(
    principal: Principal,
    offer_id: int,
    slot_id: int | None = None,
    *,
    kinds: tuple[str, ...] = ("paid",),
    check=None,
) -> PaymentRead:
    """The first half of buying: the pending voucher and its payment hold the stock, in one
    short transaction. Callers that wrap it (an Idempotency-Key's `run_once` holds a
    transaction around it) call `open_intent` after, outside: Stripe is never called while
    a transaction holds the offer's row. `kinds`: the offer kinds the caller sells (a prepaid
    package is bought through marketplace.prepaid.services.purchase). `check`: the caller's
    own refusals, `async (connection, offer, amount_fen)` run first in the transaction (a
    prepaid package: its provider's freeze, the member's total)."""
    guards.require_member(principal)
    require_current_member(principal)
    settings = get_settings().stripe
    now = datetime.now(UTC)
    offer = await vouchers.open_offer(principal, offer_id)
    if offer["kind"] not in kinds:
        raise Conflict("This offer is not paid online: claim it instead.", code="not_paid_offer")
    amount = pricing.member_pays_fen(offer["member_price_fen"], offer["subsidy_fen"])
    if amount <= 0:
        raise Conflict("The union's subsidy covers this offer in full; there is nothing to pay.", code="nothing_to_pay")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        if check is not None:
            await check(connection, offer, amount)
        voucher_id, _ = await vouchers.issue(
            connection, principal, offer, now, slot_id=slot_id, status="pending", paid_fen=amount
        )
        payment_id = await connection.fetchval(
            "INSERT INTO payment (voucher, member, amount_fen, hold_until, created_at) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            voucher_id,
            principal.id,
            amount,
            now + timedelta(minutes=settings.hold_minutes),
            now,
        )
        if await catalog.take_stock(connection, offer_id) is None:
            raise Conflict("This offer has run out.", code="sold_out")
    return _read(await _payment(payment_id))


async def open_intent(principal: Principal, payment_id: int) -> PaymentRead:
    """The second half: the PaymentIntent of a reserved payment, created once (Stripe's
    idempotency key), its client secret returned. Must run outside any transaction (the
    network call must not hold a row); safe to repeat. The hold makes a claim whose intent
    never comes into being harmless: it is released."""
    if engine().current_transaction.get() is not None:
        raise RuntimeError("open_intent must not run inside a database transaction")
    settings = get_settings().stripe
    row = await _payment(payment_id, principal.id)
    if row["status"] != "pending":
        return _read(row)
    if row["payment_intent"]:
        return _read(row, (await _retrieve(row["payment_intent"])).client_secret)
    try:
        intent = await stripe_client().v1.payment_intents.create_async(
            {
                "amount": row["amount_fen"],
                "currency": "cny",
                # Since API version 2026-09-30.endive (stripe-python 16 pins 2026-10-28.endive),
                # Stripe refuses payment_method_types with payment_method_types_no_longer_supported.
                "allowed_payment_method_types": list(settings.payment_methods),
                "metadata": {"payment_id": str(payment_id), "voucher_id": str(row["voucher"])},
            },
            {"idempotency_key": f"payment-{payment_id}"},
        )
    except stripe.StripeError as error:
        log.warning("payment_intent_failed", payment_id=payment_id, error=type(error).__name__)
        await release_hold(payment_id)
        raise Unavailable(
            "The payment service could not be reached; nothing was charged. Try again.", code="payment_unavailable"
        ) from error
    async with engine().transaction() as transaction:
        stored = await transaction.connection.fetchval(
            "UPDATE payment SET payment_intent = $2 WHERE id = $1 AND payment_intent IS NULL RETURNING id",
            payment_id,
            intent.id,
        )
    if stored is None:  # a repeat of this call won the race: keep its intent, drop ours
        await _cancel_intent(intent.id)
        row = await _payment(payment_id, principal.id)
        return _read(row, (await _retrieve(row["payment_intent"])).client_secret)
    log.info("payment_started", payment_id=payment_id, voucher_id=row["voucher"], amount_fen=row["amount_fen"])
    return _read(await _payment(payment_id), intent.client_secret)


async def my_payment(principal: Principal, payment_id: int) -> PaymentRead:
    """A payment of the member's; while it is pending, with the client secret Stripe.js needs."""
    guards.require_member(principal)
    row = await _payment(payment_id, principal.id)
    secret = last_error = None
    if row["status"] == "pending" and row["payment_intent"]:
        intent = await _retrieve(row["payment_intent"])
        secret = intent.client_secret
        error = getattr(intent, "last_payment_error", None)
        last_error = (getattr(error, "code", None) or "payment_failed") if error else None
    return _read(row, secret, last_error)


async def states_of_vouchers(principal: Principal, voucher_ids: list[int]) -> dict[int, PaymentRead]:
    """The payments behind some of the member's vouchers, {voucher id: payment}, without
    asking Stripe (for lists: paid, refunding, refunded)."""
    guards.require_member(principal)
    if not voucher_ids:
        return {}
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _PAYMENT_SQL + "WHERE p.member = $1 AND p.voucher = ANY($2::bigint[])", principal.id, voucher_ids
        )
    return {row["voucher"]: _read(row) for row in rows}


async def payment_of_voucher(principal: Principal, voucher_id: int) -> int:
    """The payment behind one of the member's paid vouchers."""
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        payment_id = await transaction.connection.fetchval(
            "SELECT id FROM payment WHERE voucher = $1 AND member = $2", voucher_id, principal.id
        )
    if payment_id is None:
        raise NotFound("You have no such payment.", code="payment_not_found")
    return payment_id


async def _retrieve(intent_id: str):
    try:
        return await stripe_client().v1.payment_intents.retrieve_async(intent_id)
    except stripe.StripeError as error:
        raise Unavailable("The payment service could not be reached. Try again.", code="payment_unavailable") from error


async def check_return(principal: Principal, payment_id: int) -> PaymentRead:
    """The member is back from Stripe.js: ask Stripe, and complete the payment if it
    succeeded (the webhook may still be on its way)."""
    guards.require_member(principal)
    row = await _payment(payment_id, principal.id)
    if row["status"] == "pending" and row["payment_intent"]:
        intent = await _retrieve(row["payment_intent"])
        if intent.status == "succeeded":
            await complete(payment_id, intent.id, intent.amount)
    return await my_payment(principal, payment_id)


async def complete(payment_id: int, intent_id: str, amount: int) -> str:
    """Stripe says the intent succeeded: issue the voucher, or refund a payment that was
    released meanwhile. Safe to repeat; returns what happened."""
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "SELECT id, voucher, status, amount_fen, payment_intent FROM payment WHERE id = $1 FOR UPDATE", payment_id
        )
        if row is None or (row["payment_intent"] not in (None, intent_id)) or row["amount_fen"] != amount:
            log.error("payment_mismatch", payment_id=payment_id, intent=intent_id, amount_fen=amount)
            return "mismatch"
        if row["status"] == "pending" and not await _provider_active(connection, row["voucher"]):
            # Delisted while the member paid: no voucher of it is issued any more; the hold
            # is released and the money goes back.
            await connection.execute(
                "UPDATE payment SET status = 'cancelled', cancelled_at = now() WHERE id = $1", payment_id
            )
            await vouchers.cancel_pending(connection, row["voucher"])
            row = {**dict(row), "status": "cancelled"}
        if row["status"] == "pending":
            await connection.execute(
                "UPDATE payment SET status = 'succeeded', succeeded_at = now(), payment_intent = $2 WHERE id = $1",
                payment_id,
                intent_id,
            )
            await vouchers.issue_paid(connection, row["voucher"])
            # A prepaid package: the money is held in escrow, the voucher lasts the package's months.
            package = await escrow.hold(connection, row["voucher"])
            if package is not None:
                await vouchers.set_expiry(connection, row["voucher"], package["expires_at"])
            log.info("payment_succeeded", payment_id=payment_id, voucher_id=row["voucher"])
            return "issued"
        if row["status"] == "cancelled":
            await connection.execute(
                "UPDATE payment SET status = 'refunding', payment_intent = $2 WHERE id = $1", payment_id, intent_id
            )
            await outbox.publish(REFUND_REQUESTED, {"payment_id": payment_id})
            log.warning("payment_succeeded_after_release", payment_id=payment_id)
            return "refunding"
    return "already_done"


async def _provider_active(connection, voucher_id: int) -> bool:
    return await connection.fetchval(
        "SELECT p.status = 'active' FROM voucher v JOIN provider p ON p.id = v.provider WHERE v.id = $1", voucher_id
    )


async def release_hold(payment_id: int) -> bool:
    """Give up an unpaid payment: its voucher is cancelled and its stock, slot and place
    in the limit return. False when it was no longer pending."""
    async with engine().transaction() as transaction:
        connection = transaction.connection
        voucher_id = await connection.fetchval(
            "UPDATE payment SET status = 'cancelled', cancelled_at = now() WHERE id = $1 AND status = 'pending' "
            "RETURNING voucher",
            payment_id,
        )
        if voucher_id is None:
            return False
        await vouchers.cancel_pending(connection, voucher_id)
    log.info("payment_hold_released", payment_id=payment_id)
    return True


async def abandon(principal: Principal, payment_id: int) -> PaymentRead:
    """The member gives up paying: the hold is released at once."""
    guards.require_member(principal)
    row = await _payment(payment_id, principal.id)
    if row["status"] != "pending":
        raise Conflict("This payment is no longer waiting to be paid.", code="not_pending", status_now=row["status"])
    await _cancel_intent(row["payment_intent"])
    await release_hold(payment_id)
    return await my_payment(principal, payment_id)


async def _cancel_intent(intent_id: str | None) -> None:
    """Best effort: an intent that cannot be cancelled any more has succeeded, and its
    webhook will have that payment refunded."""
    if intent_id is None:
        return
    try:
        await stripe_client().v1.payment_intents.cancel_async(intent_id)
    except stripe.StripeError as error:
        log.info("payment_intent_not_cancelled", intent=intent_id, error=type(error).__name__)


async def release_expired_holds(now: datetime | None = None) -> int:
    """Pending payments past their hold: completed if Stripe has the money after all,
    released otherwise. Returns how many were released."""
    now = now or datetime.now(UTC)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT id, payment_intent FROM payment WHERE status = 'pending' AND hold_until <= $1 "
            "ORDER BY hold_until LIMIT 500",
            now,
        )
    released = 0
    for row in rows:
        if row["payment_intent"]:
            try:
                intent = await stripe_client().v1.payment_intents.retrieve_async(row["payment_intent"])
            except stripe.StripeError:
                intent = None  # released anyway: a late success is refunded
            if intent is not None and intent.status == "succeeded":
                await complete(row["id"], intent.id, intent.amount)
                continue
            if intent is not None and intent.status == "processing":
                continue  # the money is on its way; its webhook settles it
            await _cancel_intent(row["payment_intent"])
        released += await release_hold(row["id"])
    return released


async def request_refund_for_voucher(voucher_id: int) -> None:
    """A paid voucher was cancelled: its payment is refunded (through the outbox)."""
    async with engine().transaction() as transaction:
        payment_id = await transaction.connection.fetchval(
            "UPDATE payment SET status = 'refunding' WHERE voucher = $1 AND status = 'succeeded' RETURNING id",
            voucher_id,
        )
        if payment_id is not None:
            await outbox.publish(REFUND_REQUESTED, {"payment_id": payment_id})


async def refund(payment_id: int) -> bool:
    """Send the money of a refunding payment back through Stripe; the voucher ends up
    `refunded`. Safe to repeat: Stripe sees the same idempotency key."""
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT payment_intent, amount_fen, status FROM payment WHERE id = $1", payment_id
        )
    if row is None or row["status"] != "refunding":
        return False
    result = await stripe_client().v1.refunds.create_async(
        {"payment_intent": row["payment_intent"], "metadata": {"payment_id": str(payment_id)}},
        {"idempotency_key": f"refund-{payment_id}"},
    )
    async with engine().transaction() as transaction:
        connection = transaction.connection
        voucher_id = await connection.fetchval(
            "UPDATE payment SET status = 'refunded', refund_id = $2, refunded_at = now(), refunded_fen = amount_fen "
            "WHERE id = $1 AND status = 'refunding' RETURNING voucher",
            payment_id,
            result.id,
        )
        if voucher_id is not None:
            await vouchers.money_returned(connection, voucher_id)
            member = await connection.fetchrow(
                "SELECT p.member, o.title_zh FROM payment p JOIN voucher v ON v.id = p.voucher "
                "JOIN offer o ON o.id = v.offer WHERE p.id = $1",
                payment_id,
            )
            await notifications.add(
                connection,
                [
                    notifications.Message(
                        member["member"],
                        "refund_sent",
                        {
                            "amount": money.yuan(row["amount_fen"]),
                            "offer": member["title_zh"],
                            "date": dates.day_text(datetime.now(UTC)),
                            "days": REFUND_WORKING_DAYS,
                        },
                        link=f"/vouchers/{voucher_id}",
                    )
                ],
            )
    log.info("payment_refunded", payment_id=payment_id, refund=result.id)
    return True


# Part of a payment back (prepaid packages: what is left in escrow) -------------------------------


async def owe_refund(connection, payment_id: int, amount_fen: int) -> int:
    """Record, in the caller's transaction, that `amount_fen` more of the payment goes back to
    the member (sent by `send_part_refund`); the payment is refunded once all of it is. Written
    before Stripe is called, so that Stripe's `charge.refunded` webhook finds it done. Returns
    the payment's refunded total."""
    refunded = await connection.fetchval(
        "UPDATE payment SET refunded_fen = refunded_fen + $2, refunded_at = coalesce(refunded_at, now()), "
        "status = CASE WHEN refunded_fen + $2 >= amount_fen THEN 'refunded' ELSE status END "
        "WHERE id = $1 AND status = 'succeeded' AND refunded_fen + $2 <= amount_fen RETURNING refunded_fen",
        payment_id,
        amount_fen,
    )
    if refunded is None:
        raise Conflict("This payment cannot be refunded by that much.", code="refund_too_large")
    return refunded


async def send_part_refund(payment_id: int, amount_fen: int, key: str) -> str:
    """Send `amount_fen` of a payment back through Stripe (a refund on its PaymentIntent),
    once per `key` (Stripe's idempotency key); the refund's id. Outside any transaction."""
    if engine().current_transaction.get() is not None:
        raise RuntimeError("send_part_refund must not run inside a database transaction")
    async with engine().transaction() as transaction:
        intent_id = await transaction.connection.fetchval(
            "SELECT payment_intent FROM payment WHERE id = $1", payment_id
        )
    result = await stripe_client().v1.refunds.create_async(
        {"payment_intent": intent_id, "amount": amount_fen, "metadata": {"payment_id": str(payment_id), "key": key}},
        {"idempotency_key": key},
    )
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE payment SET refund_id = coalesce(refund_id, $2) WHERE id = $1", payment_id, result.id
        )
    log.info("payment_part_refunded", payment_id=payment_id, amount_fen=amount_fen, refund=result.id)
    return str(result.id)


async def refunds_in_stripe(payment_id: int) -> list[dict]:
    """The refunds Stripe holds for the payment, but failed or cancelled ones: {"id", "amount",
    "status", "key"} (`key` the idempotency key this platform gave a part refund it sent, ""
    for one it did not send)."""
    async with engine().transaction() as transaction:
        intent_id = await transaction.connection.fetchval(
            "SELECT payment_intent FROM payment WHERE id = $1", payment_id
        )
    if not intent_id:
        return []
    found = await stripe_client().v1.refunds.list_async({"payment_intent": intent_id, "limit": 100})
    refunds = [refund.to_dict() for refund in found.data]
    return [
        {
            "id": str(refund["id"]),
            "amount": int(refund["amount"]),
            "status": str(refund.get("status") or ""),
            "key": str((refund.get("metadata") or {}).get("key") or ""),
        }
        for refund in refunds
        if refund.get("status") not in ("failed", "canceled")
    ]


# How long banks take to show a card refund (Stripe: 5–10 business days); the member is told.
REFUND_WORKING_DAYS = "5–10"
notifications.register(
    "refund_sent",
    N_("Refund sent"),
    N_("%(amount)s for %(offer)s went back to your card on %(date)s. Your bank shows it within %(days)s working days."),
)


# Webhooks -----------------------------------------------------------------------------------------


async def receive_event(payload: bytes, signature: str | None) -> bool:
    """Verify and store a Stripe event; True when it is new (then a worker applies it)."""
    secret = get_settings().stripe.webhook_secret
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, secret, stripe.Webhook.DEFAULT_TOLERANCE
        )
        event = json.loads(payload)
        event_id, event_type = event["id"], event["type"]
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise BadSignature(
            "The Stripe-Signature header does not match this payload.", field="Stripe-Signature"
        ) from None
    async with engine().transaction() as transaction:
        stored = await transaction.connection.fetchval(
            "INSERT INTO stripe_event (event_id, type, payload, received_at) VALUES ($1, $2, $3::jsonb, now()) "
            "ON CONFLICT (event_id) DO NOTHING RETURNING id",
            event_id,
            event_type,
            payload.decode("utf-8"),
        )
        if stored is not None and event_type in HANDLED_EVENTS:
            await outbox.publish(STRIPE_EVENT, {"stripe_event_id": stored})
    return stored is not None


async def apply_event(stripe_event_id: int) -> str:
    """What a stored Stripe event means for its payment."""
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT type, payload FROM stripe_event WHERE id = $1", stripe_event_id
        )
    intent = json.loads(row["payload"])["data"]["object"]
    # Events about a charge name its PaymentIntent (Stripe does not copy the intent's metadata).
    charge_events = {
        "charge.refunded": refunded_in_stripe,
        "charge.dispute.created": disputed_in_stripe,
        "charge.dispute.updated": disputed_in_stripe,
        "charge.dispute.closed": dispute_closed_in_stripe,
    }
    if row["type"] in charge_events:
        outcome = await charge_events[row["type"]](intent)
        async with engine().transaction() as transaction:
            await transaction.connection.execute(
                "UPDATE stripe_event SET processed_at = now() WHERE id = $1", stripe_event_id
            )
        return outcome
    payment_id = str((intent.get("metadata") or {}).get("payment_id") or "")
    if not payment_id.isdigit():
        return "not_ours"
    if row["type"] == "payment_intent.succeeded":
        outcome = await complete(int(payment_id), intent["id"], intent["amount"])
    elif row["type"] == "payment_intent.canceled":
        outcome = "released" if await release_hold(int(payment_id)) else "already_done"
    else:  # payment_failed: the member may try another card while the hold lasts
        outcome = "noted"
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE stripe_event SET processed_at = now() WHERE id = $1", stripe_event_id
        )
    return outcome


# Money moved in Stripe itself (the dashboard, the member's bank) ----------------------------------


async def refunded_in_stripe(charge: dict) -> str:
    """`charge.refunded`: a refund made in Stripe (not through `refund`); `amount_refunded`
    is the charge's total refunded so far. A full refund of a voucher not yet used cancels it
    (`refunded`) and gives back its stock, slot, points and place in the limit; a used one
    stays redeemed. A partial refund leaves the voucher to the member and records the amount.
    Either way the provider keeps only what the member finally paid: a statement still
    open reads it, an approved one gets a correction on the provider's next statement.
    Safe to repeat."""
    intent_id = charge.get("payment_intent")
    if not intent_id:
        return "not_ours"
    amount_refunded = int(charge.get("amount_refunded") or 0)
    refunds = (charge.get("refunds") or {}).get("data") or []
    refund_id = refunds[0].get("id") if refunds else None
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "SELECT id, voucher, member, status, amount_fen, refunded_fen FROM payment WHERE payment_intent = $1 "
            "FOR UPDATE",
            intent_id,
        )
        if row is None:
            return "not_ours"
        # A prepaid package's money sits in escrow (marketplace/prepaid): the escrow takes a
        # refund made in Stripe off the package, and records it on the payment through owe_refund.
        if amount_refunded > row["refunded_fen"] and await connection.fetchval(
            "SELECT o.kind = 'prepaid' FROM voucher v JOIN offer o ON o.id = v.offer WHERE v.id = $1", row["voucher"]
        ):
            await outbox.publish(topics.PrepaidRefundedInStripe(payment_id=row["id"]))
            log.warning("prepaid_payment_refunded_in_stripe", payment_id=row["id"], refunded_fen=amount_refunded)
            return "sent_to_escrow"
        full = bool(charge.get("refunded")) or amount_refunded >= row["amount_fen"]
        if row["status"] == "refunded":
            return "already_done"
        if row["status"] not in ("succeeded", "refunding"):
            return "ignored"
        if full:
            outcome = await _returned_in_full(connection, row, refund_id, "refund")
        else:
            if amount_refunded <= row["refunded_fen"]:
                return "already_done"
            await connection.execute(
                "UPDATE payment SET refunded_fen = $2, refund_id = coalesce(refund_id, $3), "
                "refunded_at = coalesce(refunded_at, now()) WHERE id = $1",
                row["id"],
                amount_refunded,
                refund_id,
            )
            await vouchers.record_refund(connection, row["voucher"], amount_refunded)
            await _correct_settlement(connection, row, amount_refunded, "partial_refund")
            outcome = "partial_refund_recorded"
        await _tell_refund(connection, row, (row["amount_fen"] if full else amount_refunded) - row["refunded_fen"])
    log.warning("payment_refunded_in_stripe", payment_id=row["id"], outcome=outcome, refunded_fen=amount_refunded)
    return outcome


async def _returned_in_full(connection, row, refund_id: str | None, reason: str) -> str:
    """The member's whole payment went back (a refund, a dispute lost): the payment is
    refunded, the voucher too (or stays redeemed), the provider's settlement corrected."""
    await connection.execute(
        "UPDATE payment SET status = 'refunded', refunded_fen = amount_fen, refund_id = coalesce(refund_id, $2), "
        "refunded_at = now() WHERE id = $1",
        row["id"],
        refund_id,
    )
    outcome = await vouchers.money_returned(connection, row["voucher"])
    await _correct_settlement(connection, row, row["amount_fen"], reason)
    return outcome


async def _correct_settlement(connection, row, refunded_fen: int, reason: str) -> None:
    """The provider keeps the member's share less what went back; the payment's row lock
    (held by the caller) orders two corrections of one voucher."""
    await settlements.correct_settled(connection, row["voucher"], max(row["amount_fen"] - refunded_fen, 0), reason)


async def _tell_refund(connection, row, amount_fen: int) -> None:
    if amount_fen <= 0:
        return
    title = await connection.fetchval(
        "SELECT o.title_zh FROM voucher v JOIN offer o ON o.id = v.offer WHERE v.id = $1", row["voucher"]
    )
    await notifications.add(
        connection,
        [
            notifications.Message(
                row["member"],
                "refund_sent",
                {
                    "amount": money.yuan(amount_fen),
                    "offer": title,
                    "date": dates.day_text(datetime.now(UTC)),
                    "days": REFUND_WORKING_DAYS,
                },
                link=f"/vouchers/{row['voucher']}",
            )
        ],
    )


# Disputes: what a real card scheme does. While the bank decides (weeks), the money is held by
# Stripe and may go back to the member; a voucher used meanwhile would be a service given for
# nothing. So the voucher is held: the counter refuses it (saying why) and the member cannot
# cancel it (a refund on top of a chargeback pays twice). Won: the hold is lifted. Lost: as a
# full refund. Finance sees every dispute on the console (to-do count, list, detail) and
# answers it in Stripe with the evidence.


async def disputed_in_stripe(dispute: dict) -> str:
    """`charge.dispute.created` (and `.updated`): the payment is flagged with the dispute's
    reason, amount and status, the voucher held, the member told once. Safe to repeat."""
    intent_id = dispute.get("payment_intent")
    if not intent_id:
        return "not_ours"
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "SELECT id, voucher, member, disputed_at, dispute_closed_at FROM payment WHERE payment_intent = $1 "
            "FOR UPDATE",
            intent_id,
        )
        if row is None:
            return "not_ours"
        if row["dispute_closed_at"] is not None:
            return "already_done"  # an update that arrives after the close changes nothing
        await connection.execute(
            "UPDATE payment SET disputed_at = coalesce(disputed_at, now()), dispute_id = coalesce(dispute_id, $2), "
            "dispute_status = $3, dispute_reason = coalesce($4, dispute_reason), "
            "dispute_amount_fen = coalesce($5, dispute_amount_fen) WHERE id = $1",
            row["id"],
            dispute.get("id"),
            str(dispute.get("status") or "needs_response")[:32],
            (str(dispute["reason"])[:64] if dispute.get("reason") else None),
            (int(dispute["amount"]) if dispute.get("amount") is not None else None),
        )
        await vouchers.hold_for_dispute(connection, row["voucher"])
        if row["disputed_at"] is None:
            await notifications.add(
                connection,
                [
                    notifications.Message(
                        row["member"],
                        "payment_disputed",
                        {"order": order_number(row["id"], datetime.now(UTC))},
                        link=f"/vouchers/{row['voucher']}",
                    )
                ],
            )
    log.warning("payment_disputed", payment_id=row["id"], dispute=dispute.get("id"), status=dispute.get("status"))
    return "flagged" if row["disputed_at"] is None else "updated"


async def dispute_closed_in_stripe(dispute: dict) -> str:
    """`charge.dispute.closed`: won (or a warning closed) lifts the voucher's hold; lost
    returns the money to the member, as a full refund. Safe to repeat."""
    intent_id = dispute.get("payment_intent")
    if not intent_id:
        return "not_ours"
    status = str(dispute.get("status") or "")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "SELECT id, voucher, member, status, amount_fen, refunded_fen, dispute_closed_at FROM payment "
            "WHERE payment_intent = $1 FOR UPDATE",
            intent_id,
        )
        if row is None:
            return "not_ours"
        if row["dispute_closed_at"] is not None:
            return "already_done"
        await connection.execute(
            "UPDATE payment SET disputed_at = coalesce(disputed_at, now()), dispute_id = coalesce(dispute_id, $2), "
            "dispute_status = $3, dispute_closed_at = now(), "
            "dispute_reason = coalesce(dispute_reason, $4) WHERE id = $1",
            row["id"],
            dispute.get("id"),
            status[:32] or "closed",
            (str(dispute["reason"])[:64] if dispute.get("reason") else None),
        )
        await vouchers.lift_dispute_hold(connection, row["voucher"], lost=status == "lost")
        if status == "lost" and row["status"] in ("succeeded", "refunding"):
            await _returned_in_full(connection, row, None, "dispute_lost")
        outcome = "dispute_lost" if status == "lost" else "dispute_won"
        await notifications.add(
            connection,
            [
                notifications.Message(
                    row["member"],
                    "payment_dispute_lost" if outcome == "dispute_lost" else "payment_dispute_won",
                    {"order": order_number(row["id"], datetime.now(UTC)), "amount": money.yuan(row["amount_fen"])},
                    link=f"/vouchers/{row['voucher']}",
                )
            ],
        )
    log.warning("payment_dispute_closed", payment_id=row["id"], dispute=dispute.get("id"), status=status)
    return outcome


notifications.register(
    "payment_disputed",
    N_("Your bank disputes a payment"),
    N_("Your bank opened a dispute on order %(order)s. The voucher cannot be used until the bank decides."),
)
notifications.register(
    "payment_dispute_won",
    N_("The dispute is closed"),
    N_("Your bank closed the dispute on order %(order)s in the provider's favour; the voucher can be used again."),
)
notifications.register(
    "payment_dispute_lost",
    N_("The dispute is closed"),
    N_("Your bank returned %(amount)s of order %(order)s to you; the voucher is cancelled."),
)


_DISPUTE_SQL = """
SELECT p.id, p.created_at, p.amount_fen, p.refunded_fen, p.status, p.dispute_id, p.dispute_status, p.dispute_reason,
       p.dispute_amount_fen, p.disputed_at, p.dispute_closed_at, v.id AS voucher_id, v.code, v.status AS voucher_status,
       v.redeemed_at, m.name AS member_name, o.title_zh, o.title_en, pr.id AS provider_id, pr.name AS provider_name,
       pr.node AS provider_node
FROM payment p JOIN voucher v ON v.id = p.voucher JOIN member m ON m.id = p.member JOIN offer o ON o.id = v.offer
JOIN provider pr ON pr.id = v.provider JOIN union_node n ON n.id = pr.node
WHERE p.disputed_at IS NOT NULL AND n.path LIKE $1 || '%'
"""


def _dispute(row) -> DisputeRead:
    return DisputeRead(
        payment_id=row["id"],
        order_number=order_number(row["id"], row["created_at"]),
        voucher_id=row["voucher_id"],
        voucher_code=codes.masked(row["code"]),
        voucher_status=row["voucher_status"],
        member_name=pii.mask_name(row["member_name"] or ""),
        offer_title_zh=row["title_zh"],
        offer_title_en=row["title_en"],
        provider_id=row["provider_id"],
        provider_name=row["provider_name"],
        amount_fen=row["amount_fen"],
        disputed_fen=row["dispute_amount_fen"] or row["amount_fen"],
        refunded_fen=row["refunded_fen"],
        reason=row["dispute_reason"],
        status=row["dispute_status"] or "needs_response",
        stripe_dispute_id=row["dispute_id"],
        disputed_at=row["disputed_at"],
        closed_at=row["dispute_closed_at"],
        redeemed_at=row["redeemed_at"],
    )


async def list_disputes(principal: Principal, open_only: bool = False, limit: int = 200) -> list[DisputeRead]:
    """Disputes on payments for providers in the operator's scope, open ones first, newest first."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _DISPUTE_SQL
            + ("AND p.dispute_closed_at IS NULL " if open_only else "")
            + "ORDER BY (p.dispute_closed_at IS NULL) DESC, p.disputed_at DESC, p.id DESC LIMIT $2",
            principal.node_path or "-",
            limit,
        )
    return [_dispute(row) for row in rows]


async def dispute_for_operator(principal: Principal, payment_id: int) -> DisputeRead:
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            _DISPUTE_SQL + "AND p.id = $2", principal.node_path or "-", payment_id
        )
    if row is None:
        raise NotFound("There is no such dispute.", code="dispute_not_found")
    return _dispute(row)


async def count_open_disputes(principal: Principal) -> int:
    """The console's to-do: disputes still waiting for the bank's decision, in the scope."""
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT count(*) FROM payment p JOIN voucher v ON v.id = p.voucher JOIN provider pr ON pr.id = v.provider "
            "JOIN union_node n ON n.id = pr.node WHERE p.disputed_at IS NOT NULL AND p.dispute_closed_at IS NULL "
            "AND n.path LIKE $1 || '%'",
            principal.node_path or "-",
        )


# Reconciliation with Stripe ---------------------------------------------------------------------

RECONCILE_DAYS = 35  # a refund or a late payment in Stripe is looked for this long after the purchase


async def reconcile_with_stripe(days: int = RECONCILE_DAYS) -> dict[str, int]:
    """Daily: each payment of the last `days` against its PaymentIntent and refunds in
    Stripe, and each open dispute against Stripe's. Drift with one right answer is repaired
    (a refund, full or partial, made in Stripe whose webhook was lost, a payment Stripe took
    while this side still waits, a dispute closed there); the rest is reported for finance.
    Returns counts by finding; safe to repeat."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT id, payment_intent, status, amount_fen, refunded_fen, dispute_status FROM payment "
            "WHERE payment_intent IS NOT NULL "
            "AND created_at >= now() - make_interval(days => $1) ORDER BY id",
            days,
        )
    found: dict[str, int] = {}
    for row in rows:
        try:
            finding = await _reconcile_one(row)
        except stripe.StripeError as error:
            log.warning("payment_reconcile_unreachable", payment_id=row["id"], error=type(error).__name__)
            finding = "stripe_unreachable"
        found[finding] = found.get(finding, 0) + 1
        if finding not in ("in_step", "stripe_unreachable"):
            log.warning("payment_drift", payment_id=row["id"], finding=finding)
    for finding in await _reconcile_open_disputes():
        found[finding] = found.get(finding, 0) + 1
    log.info("payments_reconciled", **found)
    return found


async def _reconcile_open_disputes() -> list[str]:
    """Each dispute still open here asked of Stripe: one closed there (its webhook lost) is
    closed here, won or lost. Findings only for disputes that are not in step."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT id, payment_intent, dispute_id, dispute_status FROM payment "
            "WHERE dispute_id IS NOT NULL AND dispute_closed_at IS NULL ORDER BY id"
        )
    findings = []
    for row in rows:
        try:
            dispute = await stripe_client().v1.disputes.retrieve_async(row["dispute_id"])
        except stripe.StripeError as error:  # the Stripe stand-in has no disputes
            log.warning("dispute_reconcile_unreachable", payment_id=row["id"], error=type(error).__name__)
            findings.append("dispute_unchecked")
            continue
        facts = {
            "id": dispute.id,
            "payment_intent": row["payment_intent"],
            "status": dispute.status,
            "reason": dispute.reason,
            "amount": dispute.amount,
        }
        if dispute.status in ("won", "lost", "warning_closed"):
            findings.append("dispute_close_applied")
            await dispute_closed_in_stripe(facts)
        elif dispute.status != row["dispute_status"]:
            findings.append("dispute_status_applied")
            await disputed_in_stripe(facts)
    return findings


async def _reconcile_one(row) -> str:
    client = stripe_client()
    intent = await client.v1.payment_intents.retrieve_async(row["payment_intent"])
    refunded = 0
    refund_id = None
    if intent.status == "succeeded":
        refunds = await client.v1.refunds.list_async({"payment_intent": intent.id, "limit": 100})
        done = [refund for refund in refunds.data if refund.status == "succeeded"]
        refunded = sum(refund.amount for refund in done)
        refund_id = done[0].id if done else None
    status = row["status"]
    if intent.status == "succeeded" and refunded >= intent.amount:
        if status in ("succeeded", "refunding"):
            await refunded_in_stripe(
                {
                    "payment_intent": intent.id,
                    "amount": intent.amount,
                    "amount_refunded": refunded,
                    "refunded": True,
                    "refunds": {"data": [{"id": refund_id}]},
                }
            )
            return "refund_applied"
        return "in_step" if status in ("refunded", "cancelled") else "refunded_at_stripe_" + status
    if intent.status == "succeeded" and status == "succeeded" and refunded < row["refunded_fen"]:
        return "partial_refund_missing_at_stripe"
    if intent.status == "succeeded" and status == "succeeded" and refunded > row["refunded_fen"]:
        # Part of the charge went back in Stripe and no webhook said so (or said less).
        outcome = await refunded_in_stripe(
            {
                "payment_intent": intent.id,
                "amount": intent.amount,
                "amount_refunded": refunded,
                "refunded": False,
                "refunds": {"data": [{"id": refund_id}]},
            }
        )
        return "partial_refund_applied" if outcome == "partial_refund_recorded" else outcome
    if intent.status == "succeeded":
        if status == "pending":
            await complete(row["id"], intent.id, intent.amount)
            return "payment_completed"
        if status == "refunded":
            # A dispute lost sends the money back without a refund object.
            return "in_step" if row["dispute_status"] == "lost" else "refund_missing_at_stripe"
        if status == "cancelled":
            await complete(row["id"], intent.id, intent.amount)  # released meanwhile: refunded
            return "late_payment_refunded"
        return "in_step"
    if status in ("succeeded", "refunding", "refunded"):
        return "not_paid_at_stripe"
    return "in_step"
