"""JSON API of listings: the provider's offers and the operators' review queue."""

from typing import Annotated

from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody

from catalog import services
from catalog.schemas import (
    OfferInput,
    OfferRead,
    OfferSummary,
    RejectInput,
    ReviewDetail,
    ReviewItem,
)
from marketplace.core.errors import Invalid
from marketplace.core.identity.guards import operator, provider_owner, provider_user
from marketplace.core.web.params import Id

# The upload limit is checked by the service (5 MB, naming the field); the body may be a
# little larger for the multipart envelope.
UPLOAD_BODY_LIMIT = services.MAX_IMAGE_BYTES + 64 * 1024


class ProviderOfferController(Controller):
    path = "/api/v1/provider/offers"
    tags = ["listings"]
    guards = [provider_user]

    @get("/", summary="The provider's offers with their status")
    async def list_offers(self, request: Request) -> list[OfferSummary]:
        return await services.list_provider_offers(request.user)

    @post("/", summary="Create a draft offer", guards=[provider_owner])
    async def create(self, request: Request, data: JSONBody[OfferInput]) -> OfferRead:
        return await services.create_offer(request.user, data)

    @get("/{offer_id:int}", summary="One offer of the provider")
    async def read(self, request: Request, offer_id: Id) -> OfferRead:
        return await services.get_offer(request.user, offer_id)

    @put(
        "/{offer_id:int}",
        summary="Edit a draft, or propose an edit of a live offer for review",
        guards=[provider_owner],
    )
    async def update(self, request: Request, offer_id: Id, data: JSONBody[OfferInput]) -> OfferRead:
        return await services.update_offer(request.user, offer_id, data)

    @delete("/{offer_id:int}", summary="Delete a draft", guards=[provider_owner])
    async def remove(self, request: Request, offer_id: Id) -> None:
        await services.delete_offer(request.user, offer_id)

    @post("/{offer_id:int}/submit", summary="Submit a draft for review", guards=[provider_owner], status_code=200)
    async def submit(self, request: Request, offer_id: Id) -> OfferRead:
        return await services.submit_offer(request.user, offer_id)

    @post(
        "/{offer_id:int}/pause",
        summary="Take a published offer off the shelf",
        status_code=200,
        guards=[provider_owner],
    )
    async def pause(self, request: Request, offer_id: Id) -> OfferRead:
        return await services.pause_offer(request.user, offer_id)

    @post(
        "/{offer_id:int}/resume",
        summary="Put a paused offer back on the shelf",
        status_code=200,
        guards=[provider_owner],
    )
    async def resume(self, request: Request, offer_id: Id) -> OfferRead:
        return await services.resume_offer(request.user, offer_id)

    @post(
        "/{offer_id:int}/image",
        summary="Upload the cover picture of a draft (JPEG, PNG or WebP, ≤ 5 MB)",
        status_code=200,
        guards=[provider_owner],
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )
    async def upload_image(
        self,
        request: Request,
        offer_id: Id,
        data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> OfferRead:
        upload = data.get("image")
        if not isinstance(upload, UploadFile):
            raise Invalid("Choose a picture.", field="image")
        content = await upload.read(services.MAX_IMAGE_BYTES + 1)
        return await services.set_cover_image(request.user, offer_id, content)


class ListingReviewController(Controller):
    path = "/api/v1/console/listings"
    tags = ["listing review"]
    guards = [operator]

    @get("/", summary="Submitted offers and pending revisions in the operator's scope")
    async def queue(self, request: Request) -> list[ReviewItem]:
        return await services.review_queue(request.user)

    @get("/{offer_id:int}", summary="An offer under review, with the changes a revision proposes")
    async def detail(self, request: Request, offer_id: Id) -> ReviewDetail:
        return await services.review_detail(request.user, offer_id)

    @post("/{offer_id:int}/approve", summary="Publish the offer or apply its revision", status_code=200)
    async def approve(self, request: Request, offer_id: Id) -> OfferRead:
        return await services.approve(request.user, offer_id)

    @post("/{offer_id:int}/reject", summary="Send the offer or its revision back with a reason", status_code=200)
    async def reject(self, request: Request, offer_id: Id, data: JSONBody[RejectInput]) -> OfferRead:
        return await services.reject(request.user, offer_id, data.reason)


ROUTES = [ProviderOfferController, ListingReviewController]
