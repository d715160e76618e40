from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, QueryParameter

from marketplace.federation import services
from marketplace.federation.schemas import MemberCreate, MemberPage, NodeId, NodeSummary
from marketplace.identity import guards


class FederationController(Controller):
    path = "/api/v1/federation"
    tags = ["federation"]
    guards = [guards.operator]

    @get("/nodes/{node_id:int}", summary="A union node, its children and its member count")
    async def node(self, request: Request, node_id: NodeId) -> NodeSummary:
        return await services.node_summary(request.user, node_id)

    @get("/nodes/{node_id:int}/members", summary="Members in a node's subtree, masked")
    async def members(
        self, request: Request, node_id: NodeId,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> MemberPage:
        return await services.list_members(request.user, node_id, page, page_size)

    @post("/members", summary="Add a member to a grassroots union in your scope")
    async def create_member(self, request: Request, data: JSONBody[MemberCreate]) -> dict[str, int]:
        await services.require_in_scope(request.user, data.node_id)
        return {"id": await services.create_member(data)}
