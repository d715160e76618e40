"""Complaint pages: the provider's inbox with an answer form per complaint, and the
operators' mediation (search, filters, past the deadline, closing with a resolution).

Thin handlers: read the form, call one service, render; a refused action re-renders its
page with the reason and the matching status.
"""

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from litestar import Request, get, post
from litestar.response import Redirect, Response, Template

from evaluation.complaints import services as complaints
from marketplace.core.errors import DomainError, Invalid
from marketplace.core.identity import guards
from marketplace.core.web import page_parts, paging, portal_badges, todo
from marketplace.core.web.forms import form_error, form_id
from marketplace.core.web.i18n import gettext as _
from marketplace.core.web.nav import N_, register
from marketplace.core.web.params import BigId

register("provider", "complaints", N_("Complaints"), "/provider/complaints", "alert", position=46)
portal_badges.register("complaints", complaints.count_open)  # new complaints: a badge in the portal's menu
register("console", "complaints", N_("Complaints"), "/console/complaints", "doc", position=47)
todo.register(
    "complaints",
    N_("Complaints past their deadline"),
    "/console/complaints?overdue=1",
    complaints.count_overdue,
    position=30,
)
todo.register(
    "complaints_forwarded",
    N_("Complaints forwarded to you"),
    "/console/complaints?forwarded=me",
    complaints.count_forwarded_to_me,
    position=31,
    nav_key="complaints",
)

# The fields of the complaint page's forms, as their labels say them.
FORWARD_LABELS = {"operator_id": N_("Forward to"), "reason": N_("Why you forward it")}


async def _form(request: Request) -> dict:
    return dict(await request.form())


async def _inbox(
    request: Request, error: DomainError | None = None, *, refused: int | None = None, text: str = ""
) -> Template:
    """The provider's complaints. `refused`: the complaint whose answer was refused, shown again
    with the error at its answer and the text typed (an error of no field shows on top)."""
    inbox = await complaints.inbox(request.user)
    return Template(
        template_name="evaluation/provider_complaints.html",
        status_code=error.status if error else 200,
        context={
            "complaints": inbox,
            "error": form_error(error, {"text": N_("Your answer")}) if error else None,
            "refused_complaint": refused if refused in {c.id for c in inbox if c.status == "open"} else None,
            "text": text,
            # Which offer, which voucher (code masked) and the day of the visit (marketplace.vouchers fills it).
            "vouchers": await page_parts.fill("complaint_vouchers", request, [c.voucher_id for c in inbox]),
        },
    )


@get("/provider/complaints", guards=[guards.provider_user], include_in_schema=False)
async def provider_complaints(request: Request) -> Template:
    return await _inbox(request)


@post("/provider/complaints/{complaint_id:int}/answer", guards=[guards.provider_user], include_in_schema=False)
async def provider_answer(request: Request, complaint_id: BigId) -> Response:
    text = (await _form(request)).get("text") or ""
    try:
        await complaints.answer(request.user, complaint_id, text)
    except DomainError as error:
        return await _inbox(request, error, refused=complaint_id, text=text)
    return Redirect(path="/provider/complaints")


async def _mediation(
    request: Request,
    error: DomainError | None = None,
    *,
    query: Mapping[str, str] | None = None,
    refused: int | None = None,
    resolution: str = "",
) -> Template:
    """Complaint mediation: search by provider, filters by status and past the deadline, paged.
    `refused`: the complaint whose close form was refused, shown again on the list page it was
    sent from (`query`: that page's filters and number) with its error at the resolution field
    and the text typed."""
    query = request.query_params if query is None else query
    q = (query.get("q") or "")[:60]
    complaint_status = paging.one_of(query.get("status"), complaints.COMPLAINT_STATUSES)
    overdue = query.get("overdue") == "1"
    forwarded = query.get("forwarded") == "me"
    page = paging.page_number(query.get("page"))
    found, total = await complaints.complaint_page(
        request.user, q=q, status=complaint_status, overdue=overdue, forwarded_to_me=forwarded, page=page
    )
    on_page = refused in {complaint.id for complaint in found if not complaint.resolution}
    return Template(
        template_name="evaluation/console_complaints.html",
        status_code=error.status if error else 200,
        context={
            "complaints": found,
            "error": form_error(error, {"resolution": N_("Resolution")}) if error else None,
            "refused_complaint": refused if on_page else None,
            "resolution": resolution,
            "q": q,
            "status": complaint_status,
            "overdue": "1" if overdue else "",
            "forwarded": "me" if forwarded else "",
            "pager": paging.Pager.at("/console/complaints", query, total, page),
            **paging.bulk_outcome(request, ("close",)),
        },
    )


@get("/console/complaints", guards=[guards.operator], include_in_schema=False)
async def console_complaints(request: Request) -> Template:
    return await _mediation(request)


@post("/console/complaints/{complaint_id:int}/close", guards=[guards.operator], include_in_schema=False)
async def console_close(request: Request, complaint_id: BigId) -> Response:
    form = await _form(request)
    resolution = form.get("resolution") or ""
    back = form.get("back") or ""  # the list page the operator was on, or the complaint's own page
    if not back.startswith("/console/complaints"):
        back = "/console/complaints"
    from_its_page = back == f"/console/complaints/{complaint_id}"
    try:
        await complaints.close(request.user, complaint_id, resolution)
    except DomainError as error:
        if from_its_page and error.status != 404:
            return await _complaint_page(request, complaint_id, error, error.status, form="close", values=form)
        on_page = dict(parse_qsl(urlsplit(back).query)) if not from_its_page else {}
        return await _mediation(request, error, query=on_page, refused=complaint_id, resolution=resolution)
    return Redirect(path=f"{back}?done=closed" if from_its_page else back)


async def _complaint_page(
    request: Request,
    complaint_id: int,
    error: DomainError | None = None,
    status: int = 200,
    *,
    form: str = "",
    values=None,
) -> Template:
    """One complaint with its history (filed, answered, each forward, closed), the forward form
    and the close form. `form`: the form that was refused ("forward" or "close"), shown again with
    its error at the field and what was typed."""
    complaint = await complaints.for_operator(request.user, complaint_id)
    done = request.query_params.get("done")
    return Template(
        template_name="evaluation/console_complaint.html",
        status_code=status,
        context={
            "complaint": complaint,
            "history": await complaints.history(request.user, complaint_id),
            "targets": await complaints.forward_targets(request.user, complaint_id),
            "vouchers": await page_parts.fill("complaint_vouchers", request, [complaint.voucher_id]),
            "error": form_error(error, {**FORWARD_LABELS, "resolution": N_("Resolution")}) if error else None,
            "failed_form": form if error else "",
            "values": values or {},
            "done": done if done in ("forwarded", "closed") else None,
        },
    )


@get("/console/complaints/{complaint_id:int}", guards=[guards.operator], include_in_schema=False)
async def console_complaint(request: Request, complaint_id: BigId) -> Template:
    return await _complaint_page(request, complaint_id)


@post("/console/complaints/{complaint_id:int}/forward", guards=[guards.operator], include_in_schema=False)
async def console_forward(request: Request, complaint_id: BigId) -> Response:
    """Forward a complaint to the provider's own union or to a named operator, with a reason;
    back to the complaint, which says to whom it went."""
    form = await _form(request)
    target = form.get("target") or ""
    operator_id = form_id(form.get("operator_id")) if target == "operator" else None
    try:
        if target not in ("node", "operator") or (target == "operator" and operator_id is None):
            raise Invalid("Choose the provider's union or an operator.", field="operator_id")
        await complaints.forward(request.user, complaint_id, operator_id, form.get("reason") or "")
    except DomainError as error:
        if error.status == 404:
            raise
        return await _complaint_page(request, complaint_id, error, error.status, form="forward", values=form)
    return Redirect(path=f"/console/complaints/{complaint_id}?done=forwarded")


@post("/console/complaints/bulk", guards=[guards.operator], include_in_schema=False)
async def console_complaints_bulk(request: Request) -> Response:
    """Close the ticked complaints as handled with one resolution (each member and provider
    reads it): first a confirmation naming each complaint, then (confirm=1) the closings;
    back to the same list page."""
    form = await request.form()
    action, reason, back, ids = paging.bulk_request(form, "/console/complaints")
    error = None
    if action != "close":
        error = _("Choose close as handled.")
    elif not ids:
        error = _("Tick at least one complaint.")
    elif not 2 <= len(reason) <= 2000:
        error = _("Write a resolution of 2 to 2,000 characters.")
    if error or form.get("confirm") != "1":
        chosen = await complaints.in_scope_by_id(request.user, ids)
        chosen = [complaint for complaint in chosen if complaint.status != "closed"]
        return paging.bulk_confirm(
            request,
            "evaluation/console_complaints_bulk.html",
            error=error,
            verb="close",
            back=back,
            reason=reason,
            ids=[complaint.id for complaint in chosen],
            path="/console/complaints/bulk",
            complaints=chosen,
        )
    done, failed = await paging.apply_to_each(
        ids, lambda complaint_id: complaints.close(request.user, complaint_id, reason)
    )
    return Redirect(path=paging.back_with(back, action, done, failed))


ROUTES: list = [
    provider_complaints,
    provider_answer,
    console_complaints,
    console_complaint,
    console_forward,
    console_close,
    console_complaints_bulk,
]
