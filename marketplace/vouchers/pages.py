"""Pages of claims and vouchers: the member's wallet and voucher (with its QR code), and
the provider portal's counter, where staff type or scan a code and redeem it.

Thin handlers: read the form, call one service, render. A refused claim, check or
redemption re-renders its page with the reason and the matching status code.
"""

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Response, Template

from catalog import services as catalog
from catalog.search import service as search
from catalog.search.schemas import SearchQuery
from evaluation.complaints import services as complaints
from evaluation.ratings import services as ratings
from evaluation.schemas import ComplaintInput, ComplaintRead, RatingInput
from marketplace.core.errors import DomainError, Invalid
from marketplace.core.idempotency import services as idempotency_keys
from marketplace.core.identity import guards
from marketplace.core.web import nav, page_parts, qr
from marketplace.core.web.config import local_time
from marketplace.core.web.forms import INT8_MAX, form_error, form_id
from marketplace.core.web.i18n import gettext as _
from marketplace.core.web.nav import N_
from marketplace.core.web.params import BigId
from marketplace.payments import services as payments
from marketplace.vouchers import codes, services
from marketplace.vouchers.schemas import VoucherRead
from providers import services as providers

nav.register("provider", "counter", N_("Redeem vouchers"), "/provider/counter", "ticket", position=5)


@post("/offers/{offer_id:int}/claim", guards=[guards.member], include_in_schema=False)
async def claim(request: Request, offer_id: BigId) -> Response:
    form = await request.form()
    key, slot = form.get("idempotency_key") or None, form.get("slot_id") or ""
    slot_id = form_id(slot, INT8_MAX)
    try:
        voucher = await idempotency_keys.run_once(
            request.user,
            key,
            f"claim:{offer_id}",
            slot_id,
            lambda: services.claim(request.user, offer_id, slot_id),
            VoucherRead,
        )
    except DomainError as error:
        return refused_claim(error, offer_id)
    done = {"slot": "booked", "points": "exchanged"}.get(voucher.kind, "claimed")
    return Redirect(path=f"/vouchers/{voucher.id}?done={done}")


SIMILAR = 4


async def offer_actions(request: Request, detail: dict) -> dict:
    """The offer page's action block (catalog renders the page; claims are ours): the
    member's claim state and, for a sold-out offer, similar offers that still have stock."""
    offer = detail["offer"]
    state = await services.claim_state(request.user, offer, has_slots=bool(detail.get("slots")))
    similar = []
    if state.state == "sold_out":
        found = await search.search(
            request.user,
            SearchQuery(category=offer["category_code"], has_stock=True, page_size=SIMILAR + 1),
            record_miss=False,
        )
        similar = [hit for hit in found.hits if hit.offer_id != offer["id"]][:SIMILAR]
    return {"claim": state, "similar": similar}


page_parts.register("offer_actions", offer_actions)


async def complaint_vouchers(request: Request, voucher_ids: list[int]) -> dict:
    """The provider's complaint page (evaluation renders it; vouchers are ours): the offer,
    masked code and visit day of each voucher complained about."""
    return await services.provider_voucher_facts(request.user, voucher_ids) if voucher_ids else {}


page_parts.register("complaint_vouchers", complaint_vouchers)


@post("/offers/{offer_id:int}/restock-alert", guards=[guards.member], include_in_schema=False)
async def restock_alert(request: Request, offer_id: BigId) -> Response:
    try:
        await services.ask_restock_alert(request.user, offer_id)
    except DomainError as error:
        return refused_claim(error, offer_id)
    return Redirect(path=f"/offers/{offer_id}?alert=set")


def refused_claim(error: DomainError, offer_id: int) -> Template:
    """Why a claim (or a purchase) of an offer was refused, with the matching status."""
    return Template(
        template_name="vouchers/claim_refused.html",
        status_code=error.status,
        context={"message": error.translated(), "code": error.code, "offer_id": offer_id},
    )


ORDER_TABS = tuple(services.ORDER_TABS)


@get("/vouchers", guards=[guards.member], include_in_schema=False)
async def wallet(request: Request) -> Template:
    """我的订单: the member's vouchers by tab (待使用, 已使用, 待评价, 已过期, 退款/取消)."""
    tab = request.query_params.get("tab")
    tab = tab if tab in ORDER_TABS else "to_use"
    vouchers, counts = await services.my_orders(request.user, tab)
    return Template(
        template_name="vouchers/wallet.html",
        context={
            "vouchers": vouchers,
            "order_tab": tab,
            "tabs": ORDER_TABS,
            "counts": counts,
            "payments": await payments.states_of_vouchers(request.user, [v.id for v in vouchers if v.paid_fen]),
        },
    )


async def _voucher_page(
    request: Request,
    voucher_id: int,
    error: str | None = None,
    status: int = 200,
    values: dict | None = None,
    complaint_error: dict | None = None,
    rating_error: dict | None = None,
) -> Template:
    voucher = await services.my_voucher(request.user, voucher_id)
    done = request.query_params.get("done")
    return Template(
        template_name="vouchers/voucher.html",
        status_code=status,
        context={
            "voucher": voucher,
            "qr": qr.qr_svg(voucher.code) if voucher.status == "issued" else None,
            "error": error,
            "values": values or {},
            "complaint_error": complaint_error,
            "rating_error": rating_error,
            "done": done
            if done in ("claimed", "booked", "exchanged", "paid", "cancelled", "rated", "complained")
            else None,
            "payment": (await payments.states_of_vouchers(request.user, [voucher.id])).get(voucher.id)
            if voucher.paid_fen
            else None,
            "rating": await ratings.my_rating(request.user, voucher_id) if voucher.status == "redeemed" else None,
            "complaints": await complaints.mine(request.user, voucher_id),
            "response_hours": int(complaints.response_time().total_seconds() // 3600),
            "may_complain": services.may_complain(voucher),
        },
    )


@get("/vouchers/{voucher_id:int}", guards=[guards.member], include_in_schema=False)
async def voucher_page(request: Request, voucher_id: BigId) -> Template:
    return await _voucher_page(request, voucher_id)


@post("/vouchers/{voucher_id:int}/cancel", guards=[guards.member], include_in_schema=False)
async def cancel(request: Request, voucher_id: BigId) -> Response:
    try:
        await services.cancel(request.user, voucher_id)
    except DomainError as error:
        return await _voucher_page(request, voucher_id, error.translated(), error.status)
    return Redirect(path=f"/vouchers/{voucher_id}?done=cancelled")


@post("/vouchers/{voucher_id:int}/honoured", guards=[guards.member], include_in_schema=False)
async def honoured(request: Request, voucher_id: BigId) -> Response:
    answer = (await request.form()).get("honoured")
    try:
        await services.answer_honoured(request.user, voucher_id, answer == "yes")
    except DomainError as error:
        return await _voucher_page(request, voucher_id, error.translated(), error.status)
    return Redirect(path=f"/vouchers/{voucher_id}")


def _score(value: str | None) -> int | None:
    return int(value) if value in ("1", "2", "3", "4", "5") else None


@post("/vouchers/{voucher_id:int}/rating", guards=[guards.member], include_in_schema=False)
async def rate(request: Request, voucher_id: BigId) -> Response:
    form = dict(await request.form())
    overall, comment = _score(form.get("overall")), (form.get("comment") or "").strip()
    try:
        if overall is None:
            raise Invalid("Choose from 1 to 5 stars overall.", field="overall")
        if len(comment) > 500:
            raise Invalid("A comment has at most 500 characters.", field="comment")
        data = RatingInput(
            overall=overall,
            service=_score(form.get("service")),
            honoured=_score(form.get("honoured")),
            environment=_score(form.get("environment")),
            attitude=_score(form.get("attitude")),
            comment=comment,
        )
        await services.rate(request.user, voucher_id, data, request.client.host if request.client else None)
    except DomainError as error:
        if error.field in ("overall", "service", "honoured", "environment", "attitude", "comment"):
            return await _voucher_page(request, voucher_id, None, error.status, form, rating_error=form_error(error))
        return await _voucher_page(request, voucher_id, error.translated(), error.status, form)
    return Redirect(path=f"/vouchers/{voucher_id}?done=rated#rating")


@post(
    "/vouchers/{voucher_id:int}/complaints",
    guards=[guards.member],
    include_in_schema=False,
    request_max_body_size=catalog.MAX_IMAGE_BYTES + 64 * 1024,
)
async def complain(request: Request, voucher_id: BigId) -> Response:
    """A complaint with an optional photo (checked and resized as offer pictures are)."""
    received = await request.form()
    upload = received.get("photo")
    form = {key: value for key, value in received.items() if isinstance(value, str)}
    category, text = form.get("category"), (form.get("text") or "").strip()
    photo = None
    if isinstance(upload, UploadFile) and upload.filename:  # a file input left empty sends no name
        photo = await upload.read(catalog.MAX_IMAGE_BYTES + 1)
    try:
        if category not in complaints.CATEGORIES:
            raise Invalid("Choose what the complaint is about.", field="category")
        if not 5 <= len(text) <= 2000:
            raise Invalid("Describe what happened in 5 to 2,000 characters.", field="text")
        await idempotency_keys.run_once(
            request.user,
            form.get("idempotency_key") or None,
            f"complaint:{voucher_id}",
            None,
            lambda: services.complain(request.user, voucher_id, ComplaintInput(category=category, text=text), photo),
            ComplaintRead,
        )
    except DomainError as error:
        if error.field in ("image", "category", "text"):
            return await _voucher_page(request, voucher_id, None, error.status, form, complaint_error=form_error(error))
        return await _voucher_page(request, voucher_id, error.translated(), error.status, form)
    return Redirect(path=f"/vouchers/{voucher_id}?done=complained#complaints")


# The counter ------------------------------------------------------------------------------------


def _counter_error(error: DomainError) -> dict:
    """A refusal at the counter, in the viewer's language; a second use carries the first
    redemption's time, place and staff for the red banner."""
    shown: dict[str, Any] = {**form_error(error)}  # a second use adds a dict
    if error.code == "already_redeemed":
        shown["second_use"] = {
            "time": local_time(error.extra.get("redeemed_at")),
            "location": error.extra.get("location"),
            "staff": error.extra.get("staff"),
        }
    return shown


async def _counter_page(
    request: Request,
    *,
    code: str = "",
    voucher=None,
    redeemed: bool = False,
    error: dict | None = None,
    status: int = 200,
) -> Template:
    locations = await providers.list_locations(request.user.provider_id)
    if voucher is not None and not redeemed and voucher.status == "redeemed":
        # Checking a used code is as loud as trying to redeem it again.
        error = {
            "message": _("This voucher was already redeemed at %(time)s.") % {"time": local_time(voucher.redeemed_at)},
            "field": "code",
            "second_use": {
                "time": local_time(voucher.redeemed_at),
                "location": voucher.redeemed_location,
                "staff": voucher.redeemed_by,
            },
        }
    return Template(
        template_name="vouchers/counter.html",
        status_code=status,
        context={
            "code": code,
            "voucher": voucher,
            "redeemed": redeemed,
            "error": error,
            "locations": locations,
            "code_length": codes.CODE_LENGTH,
            "today": await services.todays_redemptions(request.user),
        },
    )


@get("/provider/counter", guards=[guards.provider_user], include_in_schema=False)
async def counter(request: Request) -> Template:
    return await _counter_page(request)


@post("/provider/counter/check", guards=[guards.provider_user], include_in_schema=False)
async def counter_check(request: Request) -> Template:
    code = (await request.form()).get("code") or ""
    try:
        voucher = await services.inspect(request.user, code)
    except DomainError as error:
        return await _counter_page(request, code=code, error=_counter_error(error), status=error.status)
    return await _counter_page(request, code=code, voucher=voucher)


@post("/provider/counter/redeem", guards=[guards.provider_user], include_in_schema=False)
async def counter_redeem(request: Request) -> Template:
    form = await request.form()
    code, location = form.get("code") or "", form.get("location_id") or ""
    try:
        voucher = await services.redeem(request.user, code, form_id(location))
    except DomainError as error:
        return await _counter_page(request, code=code, error=_counter_error(error), status=error.status)
    return await _counter_page(request, voucher=voucher, redeemed=True)


ROUTES: list = [
    claim,
    restock_alert,
    wallet,
    voucher_page,
    cancel,
    honoured,
    rate,
    complain,
    counter,
    counter_check,
    counter_redeem,
]
