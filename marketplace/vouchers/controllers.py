"""JSON API of claims and vouchers: members claim, hold and cancel; staff redeem at the counter."""

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody

from evaluation.complaints import services as complaints
from evaluation.ratings import services as ratings
from evaluation.schemas import ComplaintInput, ComplaintRead, RatingInput, RatingRead
from marketplace.core.idempotency import services as idempotency_keys
from marketplace.core.identity import guards
from marketplace.core.web.params import BigId, IdempotencyKey
from marketplace.vouchers import services
from marketplace.vouchers.schemas import ClaimInput, CodeInput, CounterVoucher, HonouredInput, RedeemInput, VoucherRead


class ClaimController(Controller):
    """Members only: the app's route check requires a member on these routes, as the permission
    table declares them (guards.check_route), so they have no guard of their own: Litestar copies
    the route handler for every guard of every request."""

    path = "/api/v1"
    tags = ["vouchers"]

    @post(
        "/offers/{offer_id:int}/claims",
        status_code=201,
        summary="Claim a voucher of an offer (safe to retry with the same Idempotency-Key)",
    )
    async def claim(
        self,
        request: Request,
        offer_id: FromPath[BigId],
        idempotency_key: IdempotencyKey,
        data: JSONBody[ClaimInput | None] = None,
    ) -> VoucherRead:
        slot_id = data.slot_id if data else None
        return await idempotency_keys.run_once(
            request.user,
            idempotency_key,
            f"claim:{offer_id}",
            slot_id,
            lambda: services.claim(request.user, offer_id, slot_id),
            VoucherRead,
        )

    @get("/vouchers", summary="Your vouchers, issued ones first")
    async def mine(self, request: Request) -> list[VoucherRead]:
        return await services.my_vouchers(request.user)

    @get("/vouchers/{voucher_id:int}", summary="One of your vouchers")
    async def one(self, request: Request, voucher_id: FromPath[BigId]) -> VoucherRead:
        return await services.my_voucher(request.user, voucher_id)

    @post(
        "/vouchers/{voucher_id:int}/cancel",
        status_code=200,
        summary="Cancel an issued voucher: its stock returns (safe to retry with the same Idempotency-Key)",
    )
    async def cancel(
        self, request: Request, voucher_id: FromPath[BigId], idempotency_key: IdempotencyKey
    ) -> VoucherRead:
        return await idempotency_keys.run_once(
            request.user,
            idempotency_key,
            f"cancel:{voucher_id}",
            None,
            lambda: services.cancel(request.user, voucher_id),
            VoucherRead,
        )

    @put(
        "/vouchers/{voucher_id:int}/rating",
        status_code=200,
        summary="Rate a redeemed voucher of yours (1–5 overall and by dimension); editable for 7 days",
    )
    async def rate(self, request: Request, voucher_id: FromPath[BigId], data: JSONBody[RatingInput]) -> RatingRead:
        return await services.rate(request.user, voucher_id, data, request.client.host if request.client else None)

    @get("/vouchers/{voucher_id:int}/rating", summary="Your rating of a voucher, if you rated it")
    async def rating(self, request: Request, voucher_id: FromPath[BigId]) -> RatingRead | None:
        await services.my_voucher(request.user, voucher_id)
        return await ratings.my_rating(request.user, voucher_id)

    @post(
        "/vouchers/{voucher_id:int}/complaints",
        status_code=201,
        summary="Complain about a voucher of yours; the provider must answer within the response time",
    )
    async def complain(
        self,
        request: Request,
        voucher_id: FromPath[BigId],
        data: JSONBody[ComplaintInput],
        idempotency_key: IdempotencyKey,
    ) -> ComplaintRead:
        return await idempotency_keys.run_once(
            request.user,
            idempotency_key,
            f"complaint:{voucher_id}",
            data,
            lambda: services.complain(request.user, voucher_id, data),
            ComplaintRead,
        )

    @get("/vouchers/{voucher_id:int}/complaints", summary="Your complaints about a voucher, with their answers")
    async def complaints(self, request: Request, voucher_id: FromPath[BigId]) -> list[ComplaintRead]:
        await services.my_voucher(request.user, voucher_id)
        return await complaints.mine(request.user, voucher_id)

    @post(
        "/vouchers/{voucher_id:int}/honoured",
        status_code=200,
        summary="After redemption: was the discount honoured as promised?",
    )
    async def honoured(
        self, request: Request, voucher_id: FromPath[BigId], data: JSONBody[HonouredInput]
    ) -> VoucherRead:
        return await services.answer_honoured(request.user, voucher_id, data.honoured)


class CounterController(Controller):
    """The front desk: check a member's code, then redeem it. Codes travel in the body,
    never in the URL, which access logs and proxies keep."""

    path = "/api/v1/counter"
    tags = ["counter"]
    guards = [guards.provider_user]

    @post("/check", status_code=200, summary="Check a voucher code of your provider (masked member name, state)")
    async def check(self, request: Request, data: JSONBody[CodeInput]) -> CounterVoucher:
        return await services.inspect(request.user, data.code)

    @post(
        "/redemptions",
        status_code=201,
        summary="Redeem a voucher of your provider; a second redemption gets 409 naming the first",
    )
    async def redeem(self, request: Request, data: JSONBody[RedeemInput]) -> CounterVoucher:
        return await services.redeem(request.user, data.code, data.location_id)


ROUTES: list = [ClaimController, CounterController]
