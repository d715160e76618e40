"""Prepaid Guard's pages: the console's providers whose prepaid sales are stopped (why, since
when, lifting one after a confirmation) and an operator's flag (a reason, a confirmation);
the provider owner's lease end date. The provider sees its freezes on its standing page
(evaluation/enforcement/pages.py). Thin: read the form, call freeze.py, render."""

from datetime import date

from litestar import Request, get, post
from litestar.response import Redirect, Response, Template

from evaluation.enforcement import cases, freeze, pages as enforcement_pages
from marketplace.core.audit.middleware import nothing_changed
from marketplace.core.errors import DomainError, Invalid
from marketplace.core.identity import guards
from marketplace.core.web import paging, todo
from marketplace.core.web.forms import form_error, form_id
from marketplace.core.web.nav import N_, register
from marketplace.core.web.params import Id
from providers import services as providers

register("console", "prepaid-freezes", N_("Prepaid sales stopped"), "/console/prepaid-freezes", "lock", position=46)
todo.register(
    "prepaid-freezes",
    N_("Providers with prepaid sales stopped"),
    "/console/prepaid-freezes",
    freeze.count_frozen,
    position=45,
    nav_key="prepaid-freezes",
)


async def _page(
    request: Request,
    *,
    status: int = 200,
    flag_error: DomainError | None = None,
    flag_values: dict | None = None,
    confirm_flag: dict | None = None,
    lift_error: DomainError | None = None,
    lift_id: int | None = None,
    lift_note: str = "",
    confirm_lift: dict | None = None,
) -> Template:
    query = request.query_params
    page = paging.page_number(query.get("page"))
    found, total = await freeze.frozen_page(request.user, page=page)
    flag_values = flag_values or {}
    provider_q = (query.get("provider_q") or flag_values.get("provider_q") or "")[:60]
    return Template(
        template_name="evaluation/console_freezes.html",
        status_code=status,
        context={
            "found": found,
            "reasons": freeze.REASONS,
            "enforcement": freeze.ENFORCEMENT,
            "pager": paging.Pager.of(request, total, page),
            "provider_q": provider_q,
            "provider_choices": await cases.providers_to_pick(request.user, provider_q),
            "flag_error": form_error(flag_error) if flag_error else None,
            "flag_values": flag_values,
            "confirm_flag": confirm_flag,
            "lift_error": form_error(lift_error) if lift_error else None,
            "lift_id": lift_id,
            "lift_note": lift_note,
            "confirm_lift": confirm_lift,
            "done": query.get("done"),
        },
    )


@get("/console/prepaid-freezes", guards=[guards.operator], include_in_schema=False)
async def console_freezes(request: Request) -> Template:
    return await _page(request)


@post("/console/prepaid-freezes", guards=[guards.operator], include_in_schema=False)
async def console_flag(request: Request) -> Response:
    """An operator stops a provider's prepaid sales: first a confirmation naming the provider and
    what happens, then (confirm=1) the freeze."""
    form = dict(await request.form())
    provider_id = form_id(form.get("provider_id"))
    reason = (form.get("reason") or "").strip()
    try:
        if provider_id is None:
            raise Invalid("Find the provider and choose it.", field="provider_id")
        if not 10 <= len(reason) <= 2000:
            raise Invalid("Explain why in 10 to 2,000 characters.", field="reason")
        if form.get("confirm") == "1":
            await freeze.flag(request.user, provider_id, reason)
            return Redirect(path="/console/prepaid-freezes?done=flagged")
        provider = await providers.get_provider(provider_id)
        if provider is None:
            raise Invalid("Find the provider and choose it.", field="provider_id")
    except DomainError as error:
        if error.status in (401, 403):
            raise
        return await _page(request, status=error.status, flag_error=error, flag_values=form)
    nothing_changed(request)
    confirm = {"provider_id": provider_id, "provider_name": provider["name"], "reason": reason}
    return await _page(request, flag_values=form, confirm_flag=confirm)


@post("/console/prepaid-freezes/{freeze_id:int}/lift", guards=[guards.operator], include_in_schema=False)
async def console_lift(request: Request, freeze_id: Id) -> Response:
    """An operator lifts a freeze: first a confirmation, then (confirm=1) sales resume if no
    other freeze holds them."""
    form = dict(await request.form())
    note = (form.get("note") or "").strip()
    try:
        if not 10 <= len(note) <= 2000:
            raise Invalid("Explain why in 10 to 2,000 characters.", field="note")
        if form.get("confirm") == "1":
            await freeze.lift_by_operator(request.user, freeze_id, note)
            return Redirect(path="/console/prepaid-freezes?done=lifted")
    except DomainError as error:
        if error.status in (401, 403):
            raise
        return await _page(request, status=error.status, lift_error=error, lift_id=freeze_id, lift_note=note)
    nothing_changed(request)
    found, _total = await freeze.frozen_page(request.user, page=1, page_size=1000)
    chosen = next((item for item in found if item["freeze"].id == freeze_id), None)
    if chosen is None:
        return Redirect(path="/console/prepaid-freezes")
    others = [item for item in found if item["freeze"].provider_id == chosen["freeze"].provider_id]
    confirm = {"item": chosen, "note": note, "others": len(others) - 1}
    return await _page(request, lift_id=freeze_id, lift_note=note, confirm_lift=confirm)


@post("/provider/lease", guards=[guards.provider_owner], include_in_schema=False)
async def provider_lease(request: Request) -> Response:
    """The owner gives (or clears) the date its lease ends; shown on its standing page."""
    form = dict(await request.form())
    text = (form.get("lease_ends_on") or "").strip()
    try:
        try:
            ends_on = date.fromisoformat(text) if text else None
        except ValueError:
            raise Invalid("Enter a date such as 2027-06-30.", field="lease_ends_on") from None
        await providers.set_lease_end(request.user, ends_on)
    except DomainError as error:
        return await enforcement_pages.standing_page(request, lease_error=error, lease_value=text)
    return Redirect(path="/provider/standing?lease=saved#prepaid")


ROUTES: list = [console_freezes, console_flag, console_lift, provider_lease]
