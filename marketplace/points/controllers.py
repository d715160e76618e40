"""JSON API of points: a member's balance and history; operators' grants and corrections."""

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from marketplace.core.idempotency import services as idempotency_keys
from marketplace.core.identity import guards
from marketplace.core.web.params import BigId, IdempotencyKey
from marketplace.points import services
from marketplace.points.schemas import AdjustInput, BalanceRead, GrantCreate, GrantRead, PointsRead


class PointsController(Controller):
    path = "/api/v1/points"
    tags = ["points"]
    # Members only, by the app's route check (guards.check_route: the permission table's "member"
    # routes of the API), with no guard of its own: Litestar copies the handler for every guard.

    @get("", summary="Your points: balance, the next expiry and the latest entries")
    async def mine(self, request: Request) -> PointsRead:
        return await services.my_points(request.user)


class PointsAdminController(Controller):
    path = "/api/v1/console/points"
    tags = ["points"]
    guards = [guards.operator]

    @post(
        "/grants",
        status_code=202,
        summary="Grant points to every member of a subtree or group; applied in the background",
    )
    async def grant(self, request: Request, data: JSONBody[GrantCreate], idempotency_key: IdempotencyKey) -> GrantRead:
        return await idempotency_keys.run_once(
            request.user,
            idempotency_key,
            "points_grant",
            data,
            lambda: services.create_grant(request.user, data.node_id, data.member_group, data.amount, data.reason),
            GrantRead,
        )

    @get("/grants", summary="Grants in your scope, newest first, with their progress")
    async def grants(self, request: Request) -> list[GrantRead]:
        return await services.list_grants(request.user)

    @get("/grants/{grant_id:int}", summary="One grant and its progress")
    async def one_grant(self, request: Request, grant_id: FromPath[BigId]) -> GrantRead:
        return await services.get_grant(request.user, grant_id)

    @post(
        "/members/{member_id:int}/adjustments",
        status_code=201,
        summary="Correct one member's points, with a reason (safe to retry with the same Idempotency-Key)",
    )
    async def adjust(
        self, request: Request, member_id: FromPath[BigId], data: JSONBody[AdjustInput], idempotency_key: IdempotencyKey
    ) -> BalanceRead:
        return await idempotency_keys.run_once(
            request.user,
            idempotency_key,
            f"points_adjust:{member_id}",
            data,
            lambda: services.adjust(request.user, member_id, data.amount, data.reason),
            BalanceRead,
        )


ROUTES: list = [PointsController, PointsAdminController]
