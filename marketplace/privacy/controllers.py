"""JSON API of personal data: operators reveal with a reason and search the audit log;
members download their data and ask for deletion."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from marketplace.core.identity import guards
from marketplace.core.web.params import BigId
from marketplace.privacy import services


class RevealInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    field: Literal["phone", "id_number"]
    reason: Annotated[str, msgspec.Meta(min_length=5, max_length=500)]


class Revealed(msgspec.Struct, kw_only=True):
    member_id: int
    field: str
    value: str


class DeletionInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    confirmation: str  # 删除


class ConsolePrivacyController(Controller):
    path = "/api/v1/console"
    tags = ["personal data"]
    guards = [guards.operator]

    @get("/members/{member_id:int}", summary="A member in your scope, masked, with the reveals of their data")
    async def member(self, request: Request, member_id: FromPath[BigId]) -> dict:
        return await services.member_card(request.user, member_id)

    @post(
        "/members/{member_id:int}/reveal",
        status_code=200,
        summary="See a member's full phone or ID number, for a reason that is audited",
    )
    async def reveal(self, request: Request, member_id: FromPath[BigId], data: JSONBody[RevealInput]) -> Revealed:
        value = await services.reveal(request.user, member_id, data.field, data.reason)
        return Revealed(member_id=member_id, field=data.field, value=value)

    @get("/audit", summary="The audit log within your scope, newest first")
    async def audit(
        self,
        request: Request,
        action: FromQuery[Annotated[str | None, QueryParameter(required=False, max_length=64)]] = None,
        actor_kind: FromQuery[Annotated[str | None, QueryParameter(required=False, max_length=16)]] = None,
        subject_kind: FromQuery[Annotated[str | None, QueryParameter(required=False, max_length=32)]] = None,
        subject_id: FromQuery[Annotated[int | None, QueryParameter(required=False, gt=0)]] = None,
        since: FromQuery[Annotated[datetime | None, QueryParameter(required=False)]] = None,
        until: FromQuery[Annotated[datetime | None, QueryParameter(required=False)]] = None,
        limit: FromQuery[Annotated[int, QueryParameter(ge=1, le=500)]] = 100,
    ) -> list[dict]:
        return await services.search_audit(
            request.user,
            action=action,
            actor_kind=actor_kind,
            subject_kind=subject_kind,
            subject_id=subject_id,
            since=since,
            until=until,
            limit=limit,
        )


class MemberDataController(Controller):
    path = "/api/v1/me"
    tags = ["personal data"]
    # Members only, by the app's route check (guards.check_route: the permission table's "member"
    # routes of the API), with no guard of its own: Litestar copies the handler for every guard.

    @get("/data", summary="Everything kept about you, as JSON")
    async def data(self, request: Request) -> dict:
        return await services.my_data(request.user)

    @post(
        "/deletion",
        status_code=204,
        summary="Erase your personal data (confirm with 删除); records for accounting stay, anonymous",
    )
    async def delete(self, request: Request, data: JSONBody[DeletionInput]) -> None:
        await services.delete_me(request.user, data.confirmation)


ROUTES: list = [ConsolePrivacyController, MemberDataController]
