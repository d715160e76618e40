"""Complaint pages: the provider's inbox with an answer form per complaint, and the
operators' mediation (search, filters, past the deadline, closing with a resolution).

Thin handlers: read the form, call one service, render; a refused action re-renders its
page with the reason and the matching status.
"""

from typing import Annotated

from litestar import Request, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Response, Template

from evaluation.complaints import services as complaints
from marketplace.core.audit.middleware import nothing_changed
from marketplace.core.errors import DomainError
from marketplace.core.identity import guards
from marketplace.core.web import page_parts, paging, portal_badges, todo
from marketplace.core.web.forms import form_error
from marketplace.core.web.i18n import gettext as _
from marketplace.core.web.nav import N_, register

BigId = Annotated[int, PathParameter(gt=0, le=2**63 - 1)]

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


async def _form(request: Request) -> dict:
    return dict(await request.form())


async def _inbox(request: Request, error: str | None = None, status: int = 200) -> Template:
    inbox = await complaints.inbox(request.user)
    return Template(
        template_name="evaluation/provider_complaints.html",
        status_code=status,
        context={
            "complaints": inbox,
            "error": error,
            # Which offer, which voucher (code masked) and the day of the visit (marketplace.vouchers fills it).
            "vouchers": await page_parts.fill("complaint_vouchers", request, [c.voucher_id for c in inbox]),
        },
    )


@get("/provider/complaints", guards=[guards.provider_user], include_in_schema=False)
async def provider_complaints(request: Request) -> Template:
    return await _inbox(request)


@post("/provider/complaints/{complaint_id:int}/answer", guards=[guards.provider_user], include_in_schema=False)
async def provider_answer(request: Request, complaint_id: BigId) -> Response:
    text = ((await _form(request)).get("text") or "").strip()
    if not 2 <= len(text) <= 2000:
        return await _inbox(request, "answer_length", 422)
    try:
        await complaints.answer(request.user, complaint_id, text)
    except DomainError as error:
        return await _inbox(request, error.code, error.status)
    return Redirect(path="/provider/complaints")


async def _mediation(
    request: Request,
    error: DomainError | None = None,
    status: int = 200,
    *,
    refused: int | None = None,
    resolution: str = "",
) -> Template:
    """Complaint mediation: search by provider, filters by status and past the deadline, paged.
    `refused`: the complaint whose close form was refused, shown again with its error at the
    resolution field and the text typed."""
    query = request.query_params
    q = (query.get("q") or "")[:60]
    complaint_status = paging.one_of(query.get("status"), complaints.COMPLAINT_STATUSES)
    overdue = query.get("overdue") == "1"
    page = paging.page_number(query.get("page"))
    found, total = await complaints.complaint_page(
        request.user, q=q, status=complaint_status, overdue=overdue, page=page
    )
    on_page = refused in {complaint.id for complaint in found if not complaint.resolution}
    return Template(
        template_name="evaluation/console_complaints.html",
        status_code=status,
        context={
            "complaints": found,
            "error": form_error(error, {"resolution": N_("Resolution")}) if error else None,
            "refused_complaint": refused if on_page else None,
            "resolution": resolution,
            "q": q,
            "status": complaint_status,
            "overdue": "1" if overdue else "",
            "pager": paging.Pager.of(request, total, page),
            **paging.bulk_outcome(request, ("close",)),
        },
    )


@get("/console/complaints", guards=[guards.operator], include_in_schema=False)
async def console_complaints(request: Request) -> Template:
    return await _mediation(request)


@post("/console/complaints/{complaint_id:int}/close", guards=[guards.operator], include_in_schema=False)
async def console_close(request: Request, complaint_id: BigId) -> Response:
    resolution = (await _form(request)).get("resolution") or ""
    try:
        await complaints.close(request.user, complaint_id, resolution)
    except DomainError as error:
        return await _mediation(request, error, error.status, refused=complaint_id, resolution=resolution)
    back = (await _form(request)).get("back") or "/console/complaints"
    return Redirect(path=back if back.startswith("/console/complaints") else "/console/complaints")


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
        nothing_changed(request)
        chosen = await complaints.in_scope_by_id(request.user, ids)
        chosen = [complaint for complaint in chosen if complaint.status != "closed"]
        return Template(
            template_name="evaluation/console_complaints_bulk.html",
            status_code=422 if error else 200,
            context={
                "back": back,
                "error": error,
                "complaints": chosen,
                "reason": reason,
                "fields": [("action", "close"), ("back", back), ("reason", reason)]
                + [("ids", str(complaint.id)) for complaint in chosen],
            },
        )
    done = failed = 0
    for complaint_id in ids:
        try:
            await complaints.close(request.user, complaint_id, reason)
            done += 1
        except DomainError:
            failed += 1
    return Redirect(path=paging.back_with(back, action, done, failed))


ROUTES: list = [provider_complaints, provider_answer, console_complaints, console_close, console_complaints_bulk]
