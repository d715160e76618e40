"""Pages of points: the member's balance and history, and the console's grants and
corrections. Thin handlers: read the form, call one service, render."""

from litestar import Request, get, post
from litestar.response import Redirect, Response, Template

from marketplace.core.audit.middleware import nothing_changed
from marketplace.core.errors import DomainError
from marketplace.core.federation import services as federation
from marketplace.core.idempotency import services as idempotency_keys
from marketplace.core.identity import guards
from marketplace.core.web import nav, page_parts
from marketplace.core.web.i18n import gettext as _
from marketplace.core.web.nav import N_
from marketplace.core.web.params import BigId
from marketplace.points import services
from marketplace.points.schemas import BalanceRead, GrantRead
from marketplace.vouchers import services as vouchers

nav.register("console", "points", N_("Points"), "/console/points", "gift", position=40)


@get("/points", guards=[guards.member], include_in_schema=False)
async def my_points(request: Request) -> Template:
    points = await services.my_points(request.user)
    return Template(
        template_name="points/mine.html",
        context={
            "points": points,
            # What each spend or refund was for: the offer of its voucher.
            "offers": await vouchers.offer_titles(request.user, [e.voucher_id for e in points.entries if e.voucher_id]),
        },
    )


async def home_points(request: Request) -> dict:
    """The member's points balance beside the home page's greeting (catalog renders the page)."""
    user = request.user
    if user is None or user.kind != "member":
        return {}
    return {"points_balance": await services.balance_of(user.id)}


page_parts.register("home_member", home_points)


async def _console_page(
    request: Request,
    *,
    error: str | None = None,
    field: str | None = None,
    values: dict | None = None,
    status: int = 200,
    preview: dict | None = None,
) -> Template:
    values = values or {}
    # The member to correct is found by search (name, phone or ID number), never by an internal number.
    member_q = (request.query_params.get("member_q") or values.get("member_q") or "")[:60]
    found: list[dict] = []
    if member_q.strip():
        found, _total = await federation.search_members(
            request.user, request.user.node_id, q=member_q, status="active", page_size=10
        )
    return Template(
        template_name="points/console.html",
        status_code=status,
        context={
            "grants": await services.list_grants(request.user),
            "nodes": await federation.nodes_in_scope(request.user),
            "groups": sorted(await federation.group_codes()),
            "group_names": await federation.group_names(),
            "error": error,
            "field": field,
            "values": values,
            "preview": preview,
            "member_q": member_q,
            "found": found,
        },
    )


@get("/console/points", guards=[guards.operator], include_in_schema=False)
async def console(request: Request) -> Template:
    return await _console_page(request)


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@post("/console/points/grants", guards=[guards.operator], include_in_schema=False)
async def create_grant(request: Request) -> Response:
    form = dict(await request.form())
    node_id, amount = _int(form.get("node_id")), _int(form.get("amount"))
    if node_id is None:
        return await _console_page(request, error=_("Choose a union."), field="node_id", values=form, status=422)
    if amount is None:
        return await _console_page(
            request, error=_("Enter the points per member as a whole number."), field="amount", values=form, status=422
        )
    group = form.get("member_group") or None
    if form.get("confirm") != "1":
        nothing_changed(request)
        # First the preview: "N people, X points in all", with the button that grants.
        try:
            preview = await services.grant_preview(request.user, node_id, group, amount, form.get("reason") or "")
        except DomainError as error:
            return await _console_page(
                request, error=error.translated(), field=error.field, values=form, status=error.status
            )
        return await _console_page(request, values=form, preview=preview)
    try:
        await idempotency_keys.run_once(
            request.user,
            form.get("idempotency_key") or None,
            "points_grant_form",
            None,
            lambda: services.create_grant(request.user, node_id, group, amount, form.get("reason") or ""),
            GrantRead,
        )
    except DomainError as error:
        return await _console_page(
            request, error=error.translated(), field=error.field, values=form, status=error.status
        )
    return Redirect(path="/console/points?granted=1")


@post("/console/points/adjustments", guards=[guards.operator], include_in_schema=False)
async def adjust(request: Request) -> Response:
    form = dict(await request.form())
    member_id, amount = _int(form.get("member_id")), _int(form.get("adjust_amount"))
    if member_id is None or member_id <= 0:
        return await _console_page(
            request, error=_("Find the member and choose them."), field="member_id", values=form, status=422
        )
    if amount is None:
        return await _console_page(
            request,
            error=_("Enter the points as a whole number, negative to take."),
            field="adjust_amount",
            values=form,
            status=422,
        )
    try:
        result = await idempotency_keys.run_once(
            request.user,
            form.get("idempotency_key") or None,
            "points_adjust_form",
            None,
            lambda: services.adjust(request.user, member_id, amount, form.get("adjust_reason") or ""),
            BalanceRead,
        )
    except DomainError as error:
        field = error.field and {"amount": "adjust_amount", "reason": "adjust_reason"}.get(error.field, error.field)
        return await _console_page(request, error=error.translated(), field=field, values=form, status=error.status)
    page = await _console_page(request)
    page.context["adjusted"] = result
    return page


@get("/console/points/grants/{grant_id:int}/progress", guards=[guards.operator], include_in_schema=False)
async def grant_progress(request: Request, grant_id: BigId) -> Template:
    """The progress cell of one grant, polled by HTMX while the grant runs."""
    return Template(
        template_name="points/_grant_progress.html", context={"grant": await services.get_grant(request.user, grant_id)}
    )


ROUTES: list = [my_points, console, create_grant, adjust, grant_progress]
