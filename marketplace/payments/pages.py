"""Pages of payments: buy a paid offer, pay with Stripe.js (or, with the Stripe stand-in,
its test card form), then the success page (order number, amounts, what happens next) or
the failure page (in the member's words, with the form to try again while the hold lasts).

Thin handlers: read the form, call one service, render or redirect."""

from datetime import UTC, datetime

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Response, Template

from marketplace.core.errors import DomainError
from marketplace.core.idempotency import services as idempotency_keys
from marketplace.core.identity import guards
from marketplace.core.settings import get_settings
from marketplace.core.web import todo
from marketplace.core.web.forms import INT8_MAX, form_id
from marketplace.core.web.i18n import gettext as _
from marketplace.core.web.nav import N_, register
from marketplace.core.web.params import BigId
from marketplace.payments import services
from marketplace.payments.schemas import PaymentRead
from marketplace.vouchers import services as vouchers
from marketplace.vouchers.pages import refused_claim

register("console", "disputes", N_("Disputes"), "/console/disputes", "alert", position=42)
todo.register(
    "disputes",
    N_("Payment disputes to answer"),
    "/console/disputes?status=open",
    services.count_open_disputes,
    position=72,
)


@post("/offers/{offer_id:int}/pay", guards=[guards.member], include_in_schema=False)
async def buy(request: Request, offer_id: BigId) -> Response:
    form = await request.form()
    key, slot = form.get("idempotency_key") or None, form.get("slot_id") or ""
    slot_id = form_id(slot, INT8_MAX)
    try:
        payment = await idempotency_keys.run_once(
            request.user,
            key,
            f"pay:{offer_id}",
            slot_id,
            lambda: services.reserve(request.user, offer_id, slot_id),
            PaymentRead,
        )
        # Stripe is called outside the key's transaction, which held the offer's row.
        payment = await services.open_intent(request.user, payment.id)
    except DomainError as error:
        return refused_claim(error, offer_id)
    return Redirect(path=f"/payments/{payment.id}")


async def _payment_page(request: Request, payment_id: int, message: str | None = None, status: int = 200) -> Response:
    payment = await services.my_payment(request.user, payment_id)
    if payment.status == "succeeded":
        return Template(
            template_name="payments/success.html",
            context={"payment": payment, "voucher": await vouchers.my_voucher(request.user, payment.voucher_id)},
        )
    left = max(int((payment.hold_until - datetime.now(UTC)).total_seconds()), 0)
    return Template(
        template_name="payments/pay.html",
        status_code=status,
        context={
            "payment": payment,
            "stripe_js": get_settings().stripe.js_url,
            "message": message,
            "expired": left == 0,
            "hold_left": f"{left // 60}:{left % 60:02d}",
        },
    )


@get("/payments/{payment_id:int}", guards=[guards.member], include_in_schema=False)
async def payment_page(request: Request, payment_id: BigId) -> Response:
    return await _payment_page(request, payment_id)


@get("/payments/{payment_id:int}/return", guards=[guards.member], include_in_schema=False)
async def returned(request: Request, payment_id: BigId) -> Response:
    """Stripe.js sends the member here when it is done; Stripe is asked how it went. The
    success page, or the payment page saying why it failed (with its form to try again)."""
    payment = await services.check_return(request.user, payment_id)
    if payment.status == "succeeded":
        return Redirect(path=f"/payments/{payment_id}")
    return await _payment_page(
        request, payment_id, None if payment.last_error else _("The payment has not gone through yet. Try again.")
    )


@get("/vouchers/{voucher_id:int}/payment", guards=[guards.member], include_in_schema=False)
async def voucher_payment(request: Request, voucher_id: BigId) -> Redirect:
    return Redirect(path=f"/payments/{await services.payment_of_voucher(request.user, voucher_id)}")


@post("/payments/{payment_id:int}/cancel", guards=[guards.member], include_in_schema=False)
async def abandon(request: Request, payment_id: BigId) -> Response:
    try:
        await services.abandon(request.user, payment_id)
    except DomainError as error:
        return await _payment_page(request, payment_id, error.translated(), error.status)
    return Redirect(path=f"/payments/{payment_id}")


# Console: disputes (chargebacks) for finance to answer in Stripe --------------------------------------


@get("/console/disputes", guards=[guards.operator], include_in_schema=False)
async def console_disputes(request: Request, status: FromQuery[str] = "") -> Template:
    open_only = status == "open"
    return Template(
        template_name="payments/console_disputes.html",
        context={"disputes": await services.list_disputes(request.user, open_only=open_only), "open_only": open_only},
    )


@get("/console/disputes/{payment_id:int}", guards=[guards.operator], include_in_schema=False)
async def console_dispute(request: Request, payment_id: BigId) -> Template:
    return Template(
        template_name="payments/console_dispute.html",
        context={"dispute": await services.dispute_for_operator(request.user, payment_id)},
    )


ROUTES: list = [buy, payment_page, returned, voucher_payment, abandon, console_disputes, console_dispute]
