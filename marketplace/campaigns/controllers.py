"""JSON API of campaigns, for operators within their scope."""

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from marketplace.campaigns import services
from marketplace.campaigns.schemas import CampaignCreate, CampaignDetail, CampaignRead
from marketplace.core.idempotency import services as idempotency_keys
from marketplace.core.identity import guards
from marketplace.core.web.params import BigId, IdempotencyKey


class CampaignController(Controller):
    path = "/api/v1/console/campaigns"
    tags = ["campaigns"]
    guards = [guards.operator]

    @post("", status_code=201, summary="Create a subsidy campaign of a node in your scope")
    async def create(
        self, request: Request, data: JSONBody[CampaignCreate], idempotency_key: IdempotencyKey
    ) -> CampaignRead:
        return await idempotency_keys.run_once(
            request.user,
            idempotency_key,
            "campaign_create",
            data,
            lambda: services.create_campaign(request.user, data),
            CampaignRead,
        )

    @get("", summary="Campaigns of the nodes in your scope, with budget, spent and remaining")
    async def list(self, request: Request) -> list[CampaignRead]:
        return await services.list_campaigns(request.user)

    @get("/{campaign_id:int}", summary="One campaign: its burn per day and where its money went")
    async def detail(self, request: Request, campaign_id: FromPath[BigId]) -> CampaignDetail:
        return await services.campaign_detail(request.user, campaign_id)

    @post("/{campaign_id:int}/pause", status_code=200, summary="Stop the campaign paying, for now")
    async def pause(self, request: Request, campaign_id: FromPath[BigId]) -> CampaignRead:
        return await services.set_status(request.user, campaign_id, "pause")

    @post("/{campaign_id:int}/resume", status_code=200, summary="Let a paused campaign pay again")
    async def resume(self, request: Request, campaign_id: FromPath[BigId]) -> CampaignRead:
        return await services.set_status(request.user, campaign_id, "resume")

    @post("/{campaign_id:int}/end", status_code=200, summary="End the campaign for good")
    async def end(self, request: Request, campaign_id: FromPath[BigId]) -> CampaignRead:
        return await services.set_status(request.user, campaign_id, "end")


ROUTES: list = [CampaignController]
