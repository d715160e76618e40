"""What Stripe and a member's bank card do, for the payment tests: pay an intent at the
Stripe stand-in (localstripe), and sign events the way Stripe signs its webhooks."""

import hashlib
import hmac
import json
import time
import uuid

from marketplace.core.settings import get_settings
from marketplace.payments.services import stripe_client


async def pay_at_stripe(intent_id: str, card: str = "4242424242424242") -> str:
    """The member's card pays the intent (what Stripe.js does in the browser); its status."""
    client = stripe_client()
    method = await client.v1.payment_methods.create_async(
        {"type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    await client.v1.payment_intents.update_async(intent_id, {"payment_method": method.id})
    intent = await client.v1.payment_intents.confirm_async(intent_id)
    return intent.status


async def intent(intent_id: str):
    return await stripe_client().v1.payment_intents.retrieve_async(intent_id)


def signed(
    event_type: str,
    intent_object: dict,
    *,
    secret: str | None = None,
    event_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, dict]:
    """A webhook body and its Stripe-Signature header."""
    timestamp = timestamp or int(time.time())
    payload = json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "type": event_type,
            "created": timestamp,
            "data": {"object": intent_object},
        }
    ).encode()
    secret = secret or get_settings().stripe.webhook_secret
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, {"Stripe-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"}


def intent_object(intent_id: str, payment_id: int, amount: int) -> dict:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "currency": "cny",
        "status": "succeeded",
        "metadata": {"payment_id": str(payment_id)},
    }
