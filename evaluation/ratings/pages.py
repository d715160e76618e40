"""Reviews on pages: the owner's review list with a public reply form (provider portal,
/provider/reviews), and the ratings part of the member's offer and provider pages, which
belong to catalog and are filled through marketplace.core.web.page_parts.

Thin handlers: read the form, call one service, render; a refused reply re-renders the
list with the message at the reply field and the matching status.
"""

from litestar import Request, get, post
from litestar.response import Redirect, Response, Template

from evaluation.ratings import reviews
from marketplace.core.errors import DomainError
from marketplace.core.identity import guards
from marketplace.core.web import page_parts
from marketplace.core.web.forms import form_error
from marketplace.core.web.nav import N_, register
from marketplace.core.web.params import BigId

register("provider", "reviews", N_("Reviews"), "/provider/reviews", "doc", position=45, owner_only=True)


def _page_number(request: Request) -> int:
    text = request.query_params.get("page") or "1"
    return min(int(text), 10_000) if text.isascii() and text.isdigit() and 0 < len(text) < 6 else 1


async def _reviews_page(
    request: Request,
    *,
    error: DomainError | None = None,
    rating_id: int | None = None,
    text: str = "",
    status: int = 200,
) -> Template:
    unanswered = request.query_params.get("show") == "unanswered"
    found = await reviews.provider_reviews(request.user, unanswered=unanswered, page=_page_number(request))
    return Template(
        template_name="evaluation/provider_reviews.html",
        status_code=status,
        context={
            **found,
            "unanswered_only": unanswered,
            "error": form_error(error) if error else None,
            "error_rating": rating_id,
            "typed": text,
        },
    )


@get("/provider/reviews", guards=[guards.provider_owner], include_in_schema=False)
async def provider_reviews(request: Request) -> Template:
    return await _reviews_page(request)


@post("/provider/reviews/{rating_id:int}/reply", guards=[guards.provider_owner], include_in_schema=False)
async def provider_reply(request: Request, rating_id: BigId) -> Response:
    text = (await request.form()).get("reply") or ""
    try:
        await reviews.reply(request.user, rating_id, text)
    except DomainError as error:
        return await _reviews_page(request, error=error, rating_id=rating_id, text=text, status=error.status)
    return Redirect(path=f"/provider/reviews?replied={rating_id}#review-{rating_id}")


# The member's offer and provider pages (catalog/search) ------------------------------------------------


async def offer_reviews(request: Request, detail: dict) -> dict:
    return {"reviews": await reviews.for_offer(detail["offer"]["id"])}


async def provider_reviews_part(request: Request, detail: dict) -> dict:
    return {"reviews": await reviews.for_provider(detail["provider"]["id"])}


page_parts.register("offer_reviews", offer_reviews)
page_parts.register("provider_reviews", provider_reviews_part)

ROUTES: list = [provider_reviews, provider_reply]
