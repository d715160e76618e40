"""JSON API of complaints: a provider's inbox and answers, the operators' mediation.
Members file complaints through their vouchers (marketplace/vouchers/controllers.py)."""

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from evaluation.complaints import services as complaints
from evaluation.schemas import ComplaintAnswer, ComplaintEvent, ComplaintRead
from marketplace.core.identity import guards
from marketplace.core.web.params import BigId


class Resolution(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    resolution: Annotated[str, msgspec.Meta(min_length=2, max_length=2000)]


class Forward(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # None: to the provider's own union; else an operator who mediates complaints for it.
    operator_id: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)] | None = None
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=500)]


class ProviderComplaintController(Controller):
    path = "/api/v1/provider"
    tags = ["quality"]
    guards = [guards.provider_user]

    @get("/complaints", summary="Your complaints, open ones first")
    async def inbox(self, request: Request) -> list[ComplaintRead]:
        return await complaints.inbox(request.user)

    @post("/complaints/{complaint_id:int}/answer", status_code=200, summary="Answer a complaint")
    async def answer(
        self, request: Request, complaint_id: FromPath[BigId], data: JSONBody[ComplaintAnswer]
    ) -> ComplaintRead:
        return await complaints.answer(request.user, complaint_id, data.text)


class ConsoleComplaintController(Controller):
    path = "/api/v1/console"
    tags = ["quality"]
    guards = [guards.operator]

    @get("/complaints", summary="Complaints about providers in your scope")
    async def complaints(
        self, request: Request, status: Annotated[str | None, QueryParameter(required=False)] = None
    ) -> list[ComplaintRead]:
        return await complaints.in_scope(request.user, status)

    @get(
        "/complaints/{complaint_id:int}/history",
        summary="A complaint's history, oldest first: filed, answered, each forward (by whom, to whom, why), closed",
    )
    async def history(self, request: Request, complaint_id: FromPath[BigId]) -> list[ComplaintEvent]:
        events = await complaints.history(request.user, complaint_id)
        return [msgspec.convert(event, ComplaintEvent) for event in events]

    @post("/complaints/{complaint_id:int}/close", status_code=200, summary="Close a complaint with a resolution")
    async def close(self, request: Request, complaint_id: FromPath[BigId], data: JSONBody[Resolution]) -> ComplaintRead:
        return await complaints.close(request.user, complaint_id, data.resolution)

    @post(
        "/complaints/{complaint_id:int}/forward",
        status_code=200,
        summary="Forward a complaint to the provider's own union or to a named operator, with a reason",
    )
    async def forward(self, request: Request, complaint_id: FromPath[BigId], data: JSONBody[Forward]) -> ComplaintRead:
        return await complaints.forward(request.user, complaint_id, data.operator_id, data.reason)


ROUTES: list = [ProviderComplaintController, ConsoleComplaintController]
