"""JSON API of fair draws: members list the draws they may enter, enter, withdraw, see
their entry and claim or give up a place; anyone reads a draw and its published result;
operators create, list, read and run the draws of their scope. Thin: one service call each."""

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from marketplace.core.errors import Invalid, NotFound
from marketplace.core.identity import guards
from marketplace.core.web.params import BigId
from marketplace.draws import services
from marketplace.draws.schemas import (
    DrawConsoleRead,
    DrawInput,
    DrawRead,
    DrawResult,
    EntryRead,
    MyDrawRead,
    RunInput,
    draw_fields,
    entry_read,
)
from marketplace.vouchers.schemas import VoucherRead


async def _entry(request: Request, draw_id: int) -> EntryRead:
    entry = await services.my_entry(request.user, draw_id)
    if entry is None:
        await services.get_draw(draw_id, counted=False)  # 404 for a draw that does not exist
        raise NotFound("You have not entered this draw.", code="not_entered")
    return entry_read(draw_id, entry)


class DrawController(Controller):
    """A member's draws."""

    path = "/api/v1/draws"
    tags = ["draws"]
    # Members only, by the app's route check (guards.check_route: the permission table's "member"
    # routes of the API), with no guard of its own: Litestar copies the handler for every guard.

    @get("", summary="Draws taking entries now of offers you may claim, each with your entry if any")
    async def open_draws(self, request: Request) -> list[MyDrawRead]:
        return [
            MyDrawRead(**draw_fields(draw), entry=entry_read(draw["id"], entry) if entry else None)
            for draw, entry in await services.open_draws(request.user)
        ]

    @get("/{draw_id:int}/entry", summary="Your entry in a draw: ticket, weight, state (404 if you did not enter)")
    async def entry(self, request: Request, draw_id: FromPath[BigId]) -> EntryRead:
        return await _entry(request, draw_id)

    @post(
        "/{draw_id:int}/entry",
        status_code=201,
        summary="Enter a draw while it takes entries (one entry per member; 409 if you already entered)",
    )
    async def enter(self, request: Request, draw_id: FromPath[BigId]) -> EntryRead:
        await services.enter(request.user, draw_id)
        return await _entry(request, draw_id)

    @post(
        "/{draw_id:int}/entry/withdraw",
        status_code=200,
        summary="Withdraw your entry while the draw takes entries; you may enter again until it closes",
    )
    async def withdraw(self, request: Request, draw_id: FromPath[BigId]) -> EntryRead:
        await services.withdraw(request.user, draw_id)
        return await _entry(request, draw_id)

    @post(
        "/{draw_id:int}/place/claim",
        status_code=201,
        summary="Claim the voucher of the place the draw offered you, through the normal claim",
    )
    async def claim(self, request: Request, draw_id: FromPath[BigId]) -> VoucherRead:
        return await services.claim_place(request.user, draw_id)

    @post(
        "/{draw_id:int}/place/decline",
        status_code=200,
        summary="Give up the place offered to you: it goes to the next on the waitlist at once",
    )
    async def decline(self, request: Request, draw_id: FromPath[BigId]) -> EntryRead:
        await services.decline_place(request.user, draw_id)
        return await _entry(request, draw_id)


class PublicDrawController(Controller):
    """What anyone may read of a draw: its facts and, once drawn, its published result."""

    path = "/api/v1/draws"
    tags = ["draws"]

    @get("/{draw_id:int}", summary="A draw: window, places, weights, seed fingerprint (the seed once drawn)")
    async def draw(self, draw_id: FromPath[BigId]) -> DrawRead:
        return DrawRead(**draw_fields(await services.get_draw(draw_id)))

    @get(
        "/{draw_id:int}/result",
        summary="The published result: seed hash, seed (once drawn), every ticket and weight, the order",
    )
    async def result(self, draw_id: FromPath[BigId]) -> DrawResult:
        return DrawResult(**await services.published_result(draw_id))


class DrawConsoleController(Controller):
    """Operators' draws, within their scope."""

    path = "/api/v1/console/draws"
    tags = ["draws"]
    guards = [guards.operator]

    @post("", status_code=201, summary="Give a published offer of your scope by draw; its seed is committed now")
    async def create(self, request: Request, data: JSONBody[DrawInput]) -> DrawRead:
        draw_id = await services.create_draw(
            request.user,
            services.DrawCreate(
                offer_id=data.offer_id,
                opens_at=data.opens_at,
                closes_at=data.closes_at,
                places=data.places,
                claim_hours=data.claim_hours,
                weights=dict(data.weights),
            ),
        )
        return DrawRead(**draw_fields(await services.console_draw(request.user, draw_id)))

    @get("", summary="Draws of your scope, newest first, with their entries counted")
    async def all_draws(self, request: Request) -> list[DrawRead]:
        return [DrawRead(**draw_fields(draw)) for draw in await services.list_draws(request.user)]

    @get("/{draw_id:int}", summary="A draw of your scope, with its entries counted by state")
    async def detail(self, request: Request, draw_id: FromPath[BigId]) -> DrawConsoleRead:
        draw = await services.console_draw(request.user, draw_id)
        return DrawConsoleRead(**draw_fields(draw), by_status=draw["by_status"])

    @post(
        "/{draw_id:int}/run",
        status_code=200,
        summary='Close the entries and draw now; cannot be undone, so the body must be {"confirm": true}',
    )
    async def run(self, request: Request, draw_id: FromPath[BigId], data: JSONBody[RunInput]) -> DrawConsoleRead:
        if not data.confirm:
            raise Invalid(
                "Confirm the draw: entries close and the order cannot be changed afterwards.",
                code="confirmation_required",
                field="confirm",
            )
        await services.run_draw(request.user, draw_id)
        draw = await services.console_draw(request.user, draw_id)
        return DrawConsoleRead(**draw_fields(draw), by_status=draw["by_status"])


ROUTES: list = [DrawController, PublicDrawController, DrawConsoleController]
