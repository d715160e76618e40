from litestar import Controller, Request, get

from marketplace.identity import guards
from providers import services
from providers.schemas import ProviderRead


class ProviderController(Controller):
    path = "/api/v1/provider"
    tags = ["providers"]
    guards = [guards.provider_user]

    @get("/me", summary="The provider the signed-in user works for")
    async def mine(self, request: Request) -> ProviderRead:
        provider = await services.get_provider(request.user.provider_id)
        return ProviderRead(id=provider["id"], name=provider["name"], kind=provider["kind"],
                            status=provider["status"], node_id=provider["node"])
