"""Pages of draws: the draw's public page (entering, the member's place, the 公示 and the
recomputation in the browser), its published result as JSON, the offer page's draw block,
and the console's list, form and 开奖. Thin handlers: read the form, call one service,
render; refusals show at their field (forms.form_error)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from litestar import Request, get, post
from litestar.response import Redirect, Response, Template

from catalog import services as catalog
from marketplace.core import dates
from marketplace.core.errors import DomainError, Invalid
from marketplace.core.federation import services as federation
from marketplace.core.identity import guards
from marketplace.core.web import nav, page_parts
from marketplace.core.web.forms import INT8_MAX, form_error, form_id
from marketplace.core.web.nav import N_
from marketplace.core.web.params import BigId
from marketplace.draws import fairness, services

nav.register("console", "draws", N_("Draws"), "/console/draws", "gift", position=43)

# The form's fields and their labels, for the alert above the form.
LABELS = {
    "offer_id": N_("Offer"),
    "opens_at": N_("Entries open"),
    "closes_at": N_("Entries close"),
    "places": N_("Places"),
    "claim_hours": N_("Hours to claim a place"),
    "weights": N_("Weights of member groups"),
}


# The member site -----------------------------------------------------------------------------


async def _draw_page(request: Request, draw_id: int, error: DomainError | None = None, status: int = 200) -> Template:
    found = await services.notice(draw_id)
    return Template(
        template_name="draws/draw.html",
        status_code=error.status if error else status,
        context={
            **found,
            "mine": await services.my_entry(request.user, draw_id),
            "error": form_error(error) if error else None,
            "done": request.query_params.get("done"),
            "max_weight": fairness.MAX_WEIGHT,
        },
    )


@get("/draws/{draw_id:int}", include_in_schema=False)
async def draw_page(request: Request, draw_id: BigId) -> Template:
    """The draw's page: anyone sees it (the 公示); a member enters or claims here."""
    return await _draw_page(request, draw_id)


@get("/draws/{draw_id:int}/result.json", include_in_schema=False)
async def result_json(draw_id: BigId) -> dict:
    """Everything needed to recompute the draw (no names): `benefits draw verify --file`."""
    return await services.published_result(draw_id)


@post("/draws/{draw_id:int}/enter", guards=[guards.member], include_in_schema=False)
async def enter(request: Request, draw_id: BigId) -> Response:
    try:
        await services.enter(request.user, draw_id)
    except DomainError as error:
        return await _draw_page(request, draw_id, error)
    return Redirect(path=f"/draws/{draw_id}?done=entered")


@post("/draws/{draw_id:int}/withdraw", guards=[guards.member], include_in_schema=False)
async def withdraw(request: Request, draw_id: BigId) -> Response:
    try:
        await services.withdraw(request.user, draw_id)
    except DomainError as error:
        return await _draw_page(request, draw_id, error)
    return Redirect(path=f"/draws/{draw_id}?done=withdrawn")


@post("/draws/{draw_id:int}/claim", guards=[guards.member], include_in_schema=False)
async def claim(request: Request, draw_id: BigId) -> Response:
    try:
        voucher = await services.claim_place(request.user, draw_id)
    except DomainError as error:
        return await _draw_page(request, draw_id, error)
    return Redirect(path=f"/vouchers/{voucher.id}?done=claimed")


@post("/draws/{draw_id:int}/decline", guards=[guards.member], include_in_schema=False)
async def decline(request: Request, draw_id: BigId) -> Response:
    try:
        await services.decline_place(request.user, draw_id)
    except DomainError as error:
        return await _draw_page(request, draw_id, error)
    return Redirect(path=f"/draws/{draw_id}?done=declined")


async def offer_draw(request: Request, detail: dict) -> dict:
    """The offer page's draw block (catalog renders the page; draws are ours)."""
    draw = await services.draw_of_offer(detail["offer"]["id"])
    if draw is None:
        return {}
    entry = await services.my_entry(request.user, draw["id"])
    # A withdrawn entry is no entry: the offer page offers to enter again.
    return {"draw": draw, "draw_entry": entry if entry and entry["status"] != "withdrawn" else None}


page_parts.register("offer_draw", offer_draw)


# The console ---------------------------------------------------------------------------------


def _moment(form: dict, name: str) -> datetime:
    try:
        local = datetime.strptime((form.get(name) or "").strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        raise Invalid("Enter a date and time.", field=name) from None
    return local.replace(tzinfo=dates.zone()).astimezone(UTC)


def _number(form: dict, name: str, refusal: Callable[[], Invalid]) -> int:
    number = form_id(form.get(name), 10**6)
    if number is None:
        raise refusal()
    return number


def parse_form(form: dict, groups: list[str]) -> services.DrawCreate:
    offer_id = form_id(form.get("offer_id"), INT8_MAX)
    if offer_id is None:
        raise Invalid("Choose the offer the draw gives out.", field="offer_id")
    weights = {}
    for group in groups:
        text = (form.get(f"weight_{group}") or "").strip()
        if not text:
            continue
        weight = form_id(text, fairness.MAX_WEIGHT)
        if weight is None:
            raise Invalid("A weight is a whole number from 1 to 10.", field="weights")
        if weight > 1:
            weights[group] = weight
    return services.DrawCreate(
        offer_id=offer_id,
        opens_at=_moment(form, "opens_at"),
        closes_at=_moment(form, "closes_at"),
        places=_number(form, "places", lambda: Invalid("Enter the number of places, a whole number.", field="places")),
        claim_hours=_number(
            form, "claim_hours", lambda: Invalid("A place is held between 1 hour and 14 days.", field="claim_hours")
        ),
        weights=weights,
    )


async def _console_page(request: Request, error: DomainError | None = None, values: dict | None = None) -> Template:
    now = datetime.now(dates.zone()).replace(second=0, microsecond=0)
    picked_id = form_id((values or {}).get("offer_id"), INT8_MAX)
    return Template(
        template_name="draws/console.html",
        status_code=error.status if error else 200,
        context={
            "draws": await services.list_draws(request.user),
            "groups": sorted(await federation.group_codes()),
            # The offer already chosen (after a refused form), shown chosen above the search.
            "picked": await catalog.offers_to_pick(request.user, ids=[picked_id]) if picked_id else [],
            "error": form_error(error, LABELS) if error else None,
            "values": values
            or {
                "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
                "closes_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
                "claim_hours": "48",
            },
        },
    )


@get("/console/draws", guards=[guards.operator], include_in_schema=False)
async def console(request: Request) -> Template:
    return await _console_page(request)


@post("/console/draws", guards=[guards.operator], include_in_schema=False)
async def create(request: Request) -> Response:
    form = dict(await request.form())
    try:
        data = parse_form(form, sorted(await federation.group_codes()))
        draw_id = await services.create_draw(request.user, data)
    except DomainError as error:
        return await _console_page(request, error, form)
    return Redirect(path=f"/console/draws/{draw_id}?done=created")


@get("/console/draws/{draw_id:int}", guards=[guards.operator], include_in_schema=False)
async def console_draw(request: Request, draw_id: BigId) -> Template:
    return Template(
        template_name="draws/console_draw.html",
        context={"draw": await services.console_draw(request.user, draw_id), "done": request.query_params.get("done")},
    )


@post("/console/draws/{draw_id:int}/run", guards=[guards.operator], include_in_schema=False)
async def run(request: Request, draw_id: BigId) -> Response:
    try:
        await services.run_draw(request.user, draw_id)
    except DomainError as error:
        return Template(
            template_name="draws/console_draw.html",
            status_code=error.status,
            context={"draw": await services.console_draw(request.user, draw_id), "error": form_error(error)},
        )
    return Redirect(path=f"/console/draws/{draw_id}?done=drawn")


ROUTES: list = [
    draw_page,
    result_json,
    enter,
    withdraw,
    claim,
    decline,
    console,
    create,
    console_draw,
    run,
]
