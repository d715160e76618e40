"""JSON API of payments: buy a paid offer, follow the payment; Stripe's webhook."""

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody

from marketplace.core.idempotency import services as idempotency_keys
from marketplace.core.web.params import BigId, IdempotencyKey
from marketplace.payments import services
from marketplace.payments.schemas import PaymentRead, PaymentStart

StripeSignature = Annotated[str | None, HeaderParameter(name="Stripe-Signature", required=False, max_length=2000)]


class PaymentController(Controller):
    path = "/api/v1"
    tags = ["payments"]
    # Members only, by the app's route check (guards.check_route: the permission table's "member"
    # routes of the API), with no guard of its own: Litestar copies the handler for every guard.

    @post(
        "/offers/{offer_id:int}/payments",
        status_code=201,
        summary="Buy a paid offer: a pending voucher holds the stock while Stripe.js confirms the payment",
    )
    async def start(
        self,
        request: Request,
        offer_id: FromPath[BigId],
        idempotency_key: IdempotencyKey,
        data: JSONBody[PaymentStart | None] = None,
    ) -> PaymentRead:
        slot_id = data.slot_id if data else None
        # The stock is held under the key's transaction; Stripe is called after, outside it.
        payment = await idempotency_keys.run_once(
            request.user,
            idempotency_key,
            f"pay:{offer_id}",
            slot_id,
            lambda: services.reserve(request.user, offer_id, slot_id),
            PaymentRead,
        )
        return await services.open_intent(request.user, payment.id)

    @get("/payments/{payment_id:int}", summary="One of your payments (with its client secret while pending)")
    async def one(self, request: Request, payment_id: FromPath[BigId]) -> PaymentRead:
        return await services.my_payment(request.user, payment_id)

    @post(
        "/payments/{payment_id:int}/cancel",
        status_code=200,
        summary="Give up a pending payment: the held stock returns at once",
    )
    async def cancel(self, request: Request, payment_id: FromPath[BigId]) -> PaymentRead:
        return await services.abandon(request.user, payment_id)


@post(
    "/api/v1/stripe/webhook",
    status_code=200,
    tags=["payments"],
    summary="Stripe's events (signed); stored once and applied by a worker",
)
async def stripe_webhook(request: Request, stripe_signature: StripeSignature) -> dict:
    new = await services.receive_event(await request.body(), stripe_signature)
    return {"received": True, "duplicate": not new}


ROUTES: list = [PaymentController, stripe_webhook]
