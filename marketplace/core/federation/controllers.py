from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, QueryParameter

from marketplace.core.errors import Invalid
from marketplace.core.federation import scope, services
from marketplace.core.federation.roster import services as roster
from marketplace.core.federation.schemas import MemberCreate, MemberPage, NodeSummary
from marketplace.core.identity import guards
from marketplace.core.web.params import BigId, Id


class TransferInput(msgspec.Struct, forbid_unknown_fields=True):
    node_id: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class LeaveInput(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


def _import(result: roster.ImportRead) -> dict:
    return {
        "id": result.id,
        "filename": result.filename,
        "status": result.status,
        "rows": result.rows,
        "rows_done": result.rows_done,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "error_count": result.error_count,
        "errors": [error.as_dict() for error in result.errors],
        "created_at": result.created_at.isoformat(),
        "finished_at": result.finished_at.isoformat() if result.finished_at else None,
    }


class FederationController(Controller):
    path = "/api/v1/federation"
    tags = ["federation"]
    guards = [guards.operator]

    @get("/nodes/{node_id:int}", summary="A union node, its children and its member count")
    async def node(self, request: Request, node_id: Id) -> NodeSummary:
        return await services.node_summary(request.user, node_id)

    @get("/nodes/{node_id:int}/members", summary="Members in a node's subtree, masked")
    async def members(
        self,
        request: Request,
        node_id: Id,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> MemberPage:
        return await services.list_members(request.user, node_id, page, page_size)

    @post("/members", summary="Add a member to a grassroots union in your scope")
    async def create_member(self, request: Request, data: JSONBody[MemberCreate]) -> dict[str, int]:
        await scope.require_in_scope(request.user, data.node_id, field="node_id")
        return {"id": await services.create_member(data)}

    @post(
        "/roster-imports",
        summary="Import a roster CSV (the request body) into your scope",
        request_max_body_size=256 * 1024 * 1024,
    )
    async def import_roster(
        self, request: Request, filename: Annotated[str, QueryParameter(max_length=255)] = "roster.csv"
    ) -> dict:
        """Small files are applied at once (status done); larger ones are queued (poll the
        import). A file with any problem changes nothing: 422 `invalid_roster` with `row_errors`."""
        result = await roster.start_import(request.user, filename, await request.body())
        if result.status == "failed":
            raise Invalid(
                "%(count)s problem(s) in the roster file; nothing was applied.",
                params={"count": result.error_count},
                code="invalid_roster",
                import_id=result.id,
                row_errors=[error.as_dict() for error in result.errors],
            )
        return _import(result)

    @get("/roster-imports/{import_id:int}", summary="A roster import: progress, counts, per-row errors")
    async def roster_import(self, request: Request, import_id: BigId) -> dict:
        return _import(await roster.get_import(request.user, import_id))

    @post(
        "/members/{member_id:int}/transfer",
        summary="Move a member to another grassroots union in your scope",
        status_code=200,
    )
    async def transfer(self, request: Request, member_id: BigId, data: JSONBody[TransferInput]) -> dict:
        await services.transfer_member(request.user, member_id, data.node_id, data.reason)
        return {"member_id": member_id, "node_id": data.node_id}

    @post("/members/{member_id:int}/leave", summary="Mark a member as having left the union", status_code=200)
    async def leave(self, request: Request, member_id: BigId, data: JSONBody[LeaveInput]) -> dict:
        await services.leave_member(request.user, member_id, data.reason)
        return {"member_id": member_id, "status": "left"}


ROUTES = [FederationController]
