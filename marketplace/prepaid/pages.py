"""Pages of prepaid packages: buying one (the terms shown first), the member's 我的套餐 with
the cooling-off button, the provider's 预付资金 and the console's escrow overview, where an
operator marks what the escrow could not cover of a Stripe refund as resolved (a note, a
confirmation).

Thin handlers: read the form, call one service, render or redirect."""

from litestar import Request, get, post
from litestar.response import Redirect, Response, Template

from marketplace.core.audit.middleware import nothing_changed
from marketplace.core.errors import DomainError, Invalid
from marketplace.core.identity import guards
from marketplace.core.web import nav, todo
from marketplace.core.web.forms import form_error
from marketplace.core.web.nav import N_
from marketplace.core.web.params import BigId
from marketplace.prepaid import services
from marketplace.vouchers.pages import refused_claim

nav.register("provider", "prepaid", N_("Prepaid funds"), "/provider/prepaid", "doc", position=42, owner_only=True)
nav.register("console", "prepaid", N_("Prepaid escrow"), "/console/prepaid", "doc", position=43)
todo.register(
    "uncovered",
    N_("Uncovered refunds to resolve"),
    "/console/prepaid#outside-title",
    services.count_uncovered,
    position=74,
    nav_key="prepaid",
)

DONE = ("refunded",)


@post("/offers/{offer_id:int}/prepaid", guards=[guards.member], include_in_schema=False)
async def buy(request: Request, offer_id: BigId) -> Response:
    """The member read the terms and confirmed: the payment page follows."""
    form = await request.form()
    try:
        payment = await services.purchase(request.user, offer_id, form.get("idempotency_key") or None)
    except DomainError as error:
        return refused_claim(error, offer_id)
    return Redirect(path=f"/payments/{payment.id}")


async def _mine(request: Request, error: DomainError | None = None) -> Template:
    packages = await services.my_packages(request.user)
    done = request.query_params.get("done")
    return Template(
        template_name="prepaid/mine.html",
        status_code=error.status if error else 200,
        context={
            "packages": packages,
            "histories": await services.histories(request.user, [p["id"] for p in packages]),
            "done": done if done in DONE else None,
            "error": error.translated() if error else None,
            "reason_labels": services.REASONS,
        },
    )


@get("/packages", guards=[guards.member], include_in_schema=False)
async def my_packages(request: Request) -> Template:
    return await _mine(request)


@post("/packages/{package_id:int}/take-back", guards=[guards.member], include_in_schema=False)
async def take_back(request: Request, package_id: BigId) -> Response:
    try:
        await services.take_back(request.user, package_id)
    except DomainError as error:
        return await _mine(request, error)
    return Redirect(path="/packages?done=refunded")


@get("/provider/prepaid", guards=[guards.provider_owner], include_in_schema=False)
async def provider_funds(request: Request) -> Template:
    return Template(
        template_name="prepaid/provider.html", context={"funds": await services.provider_balances(request.user)}
    )


async def _console(
    request: Request,
    *,
    status: int = 200,
    resolve_id: int | None = None,
    resolve_note: str = "",
    resolve_error: DomainError | None = None,
    confirm_resolve: dict | None = None,
) -> Template:
    done = request.query_params.get("done")
    return Template(
        template_name="prepaid/console.html",
        status_code=status,
        context={
            "escrow": await services.operator_overview(request.user),
            "reason_labels": services.REASONS,
            "note_length": services.NOTE_LENGTH,
            "resolve_id": resolve_id,
            "resolve_note": resolve_note,
            "resolve_error": form_error(resolve_error) if resolve_error else None,
            "confirm_resolve": confirm_resolve,
            "done": done if done == "resolved" else None,
        },
    )


@get("/console/prepaid", guards=[guards.operator], include_in_schema=False)
async def console_escrow(request: Request) -> Template:
    return await _console(request)


@post("/console/prepaid/outside/{outside_id:int}/resolve", guards=[guards.operator], include_in_schema=False)
async def console_resolve(request: Request, outside_id: BigId) -> Response:
    """An operator marks an uncovered refund as resolved: first a confirmation naming the
    refund and the note, then (confirm=1) the mark, audited."""
    form = dict(await request.form())
    # A textarea sends its line breaks as CRLF: count and keep each as one character, as the
    # browser's maxlength counts them.
    note = (form.get("note") or "").replace("\r\n", "\n").strip()
    try:
        if form.get("confirm") == "1":
            await services.resolve_uncovered(request.user, outside_id, note)
            return Redirect(path="/console/prepaid?done=resolved")
        refund = await services.uncovered_refund(request.user, outside_id)
        if not services.NOTE_LENGTH[0] <= len(note) <= services.NOTE_LENGTH[1]:
            raise Invalid("Explain what was done in 10 to 2,000 characters.", field="note")
    except DomainError as error:
        if error.status in (401, 403, 404):
            raise
        return await _console(
            request, status=error.status, resolve_id=outside_id, resolve_note=note, resolve_error=error
        )
    nothing_changed(request)
    return await _console(
        request, resolve_id=outside_id, resolve_note=note, confirm_resolve={"refund": refund, "note": note}
    )


ROUTES: list = [buy, my_packages, take_back, provider_funds, console_escrow, console_resolve]
