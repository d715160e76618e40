"""JSON API of the providers domain: applications, the operators' review, the owner's portal."""

from typing import Annotated

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from marketplace.core.identity import guards
from marketplace.core.web.params import Id
from providers import services
from providers.schemas import (
    AccountInput,
    ApplicationCreate,
    ApplicationCreated,
    Decision,
    LocationInput,
    LocationRead,
    ProviderDetail,
    ProviderDetailsInput,
    ProviderPage,
    ProviderRead,
    Status,
    UserRead,
)

OWNER = [guards.provider_owner]  # a Controller's own `guards` attribute hides the module in its body


class ProviderController(Controller):
    """The signed-in provider user's own provider; owners manage it, staff read."""

    path = "/api/v1/provider"
    tags = ["providers"]
    guards = [guards.provider_user]

    @get("/me", summary="The provider the signed-in user works for")
    async def mine(self, request: Request) -> ProviderRead:
        provider = await services.own_provider(request.user)
        return ProviderRead(
            id=provider["id"],
            name=provider["name"],
            kind=provider["kind"],
            status=provider["status"],
            node_id=provider["node"],
        )

    @get("/me/profile", summary="Your provider's profile, locations and status history")
    async def profile(self, request: Request) -> ProviderDetail:
        return await services.my_provider(request.user)

    @post(
        "/me/resubmit",
        guards=OWNER,
        status_code=200,
        summary="Correct the application after a request for changes and send it back for review",
    )
    async def resubmit(self, request: Request, data: JSONBody[ProviderDetailsInput]) -> ProviderDetail:
        await services.resubmit(request.user, data)
        return await services.my_provider(request.user)

    @post("/me/locations", guards=OWNER, summary="Add a location")
    async def add_location(self, request: Request, data: JSONBody[LocationInput]) -> LocationRead:
        return await services.add_location(request.user, data)

    @put("/me/locations/{location_id:int}", guards=OWNER, summary="Change a location")
    async def update_location(
        self, request: Request, location_id: FromPath[Id], data: JSONBody[LocationInput]
    ) -> LocationRead:
        return await services.update_location(request.user, location_id, data)

    @delete("/me/locations/{location_id:int}", guards=OWNER, summary="Remove a location (never the last one)")
    async def remove_location(self, request: Request, location_id: FromPath[Id]) -> None:
        await services.remove_location(request.user, location_id)

    @get("/me/users", guards=OWNER, summary="The provider's owner and staff accounts")
    async def users(self, request: Request) -> list[UserRead]:
        return await services.list_users(request.user.provider_id)

    @post("/me/users", guards=OWNER, summary="Add a front-desk staff account")
    async def add_staff(self, request: Request, data: JSONBody[AccountInput]) -> UserRead:
        return await services.add_staff(request.user, data)

    @post("/me/users/{user_id:int}/deactivate", guards=OWNER, status_code=204, summary="Deactivate a staff account")
    async def deactivate_staff(self, request: Request, user_id: FromPath[Id]) -> None:
        await services.deactivate_staff(request.user, user_id)


class ApplicationController(Controller):
    """Anyone may apply to become a provider."""

    path = "/api/v1/providers/applications"
    tags = ["providers"]

    @post("/", summary="Apply to become a provider (status `applied`)", security=[])
    async def apply(self, request: Request, data: JSONBody[ApplicationCreate]) -> ApplicationCreated:
        address = request.client.host if request.client else None
        return ApplicationCreated(id=await services.apply(data, address), status="applied")


class ProviderReviewController(Controller):
    """Operators review and decide on providers serving their subtree."""

    path = "/api/v1/console/providers"
    tags = ["providers"]
    guards = [guards.operator]

    @get("/", summary="Providers in your scope by status (default: applications to review)")
    async def queue(
        self,
        request: Request,
        status: Annotated[Status, QueryParameter()] = "applied",
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> ProviderPage:
        return await services.list_providers(request.user, status, page, page_size)

    @get("/{provider_id:int}", summary="A provider in your scope, with locations and status history")
    async def detail(self, request: Request, provider_id: FromPath[Id]) -> ProviderDetail:
        return await services.provider_detail(request.user, provider_id)

    @post(
        "/{provider_id:int}/decisions",
        status_code=200,
        summary="Approve, reject, request changes, suspend or reinstate a provider",
    )
    async def decide(self, request: Request, provider_id: FromPath[Id], data: JSONBody[Decision]) -> ProviderDetail:
        await services.decide(request.user, provider_id, data.action, data.reason)
        return await services.provider_detail(request.user, provider_id)


ROUTES = [ProviderController, ApplicationController, ProviderReviewController]
