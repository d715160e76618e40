"""Pages of personal data: an operator's member card with the reveal form, the audit log
search; a member's data download and deletion (on /me)."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from marketplace.core.errors import DomainError, Invalid
from marketplace.core.federation import services as federation
from marketplace.core.identity import guards
from marketplace.core.settings import get_settings
from marketplace.core.web import nav, paging
from marketplace.core.web.forms import INT8_MAX, form_error, form_id
from marketplace.core.web.nav import N_
from marketplace.core.web.params import BigId
from marketplace.privacy import audit_words, services

nav.register("console", "audit", N_("Audit log"), "/console/audit", "lock", position=90)


# The fields of the member card's forms, as their labels say them.
CARD_LABELS = {"field": N_("What to see"), "reason": N_("Reason"), "node_id": N_("Transfer to another union")}


async def member_card_page(
    request: Request,
    member_id: int,
    *,
    revealed: dict | None = None,
    error: DomainError | None = None,
    form: str | None = None,
    values: dict | None = None,
    status: int = 200,
) -> Template:
    """The member card. `form`: the form that was sent ("reveal", "transfer", "leave"); its
    error shows in it, at the field it names, with what was typed; on top when that form is
    no longer on the card (the member left, or was erased, meanwhile)."""
    member = await services.member_card(request.user, member_id)
    done = request.query_params.get("done")
    on_card = ({"reveal"} if not member["anonymised"] else set()) | (
        {"transfer", "leave"} if member["status"] == "active" else set()
    )
    return Template(
        template_name="privacy/member.html",
        status_code=status,
        context={
            "member": member,
            "revealed": revealed,
            "error": form_error(error, CARD_LABELS) if error else None,
            "failed_form": form if error and form in on_card else None,
            "values": values or {},
            "done": done if done in ("transfer", "leave") else None,
            "groups": await federation.group_names(),
            # Where the member may be transferred: the other grassroots unions of the operator's scope.
            "unions": [
                n
                for n in await federation.nodes_in_scope(request.user)
                if n.level == "grassroots" and n.id != member["node_id"]
            ],
        },
    )


# Transfer and leaving, from the member card (the rules are federation's) ----------------------------


async def _member_action(request: Request, member_id: int, action) -> Response:
    """Transfer or leave from the member card; refused, the card again with the reason in the
    form that was sent (`action.__name__`) and what was typed."""
    form = dict(await request.form())
    try:
        await action(form)
    except DomainError as error:
        if error.status in (401, 404):  # no card to show: no such member in the operator's scope
            raise
        return await member_card_page(
            request, member_id, error=error, form=action.__name__, values=form, status=error.status
        )
    return Redirect(path=f"/console/members/{member_id}?done={action.__name__}")


@post("/console/members/{member_id:int}/transfer", guards=[guards.operator], include_in_schema=False)
async def member_transfer(request: Request, member_id: BigId) -> Response:
    async def transfer(form):
        node_id = form_id(form.get("node_id"))
        if node_id is None:
            raise Invalid("Choose a union.", field="node_id")
        await federation.transfer_member(request.user, member_id, node_id, form.get("reason"))

    return await _member_action(request, member_id, transfer)


@post("/console/members/{member_id:int}/leave", guards=[guards.operator], include_in_schema=False)
async def member_leave(request: Request, member_id: BigId) -> Response:
    async def leave(form):
        await federation.leave_member(request.user, member_id, form.get("reason"))

    return await _member_action(request, member_id, leave)


@get("/console/members/{member_id:int}", guards=[guards.operator], include_in_schema=False)
async def member_card(request: Request, member_id: BigId) -> Template:
    return await member_card_page(request, member_id)


@post("/console/members/{member_id:int}/reveal", guards=[guards.operator], include_in_schema=False)
async def reveal(request: Request, member_id: BigId) -> Template:
    form = await request.form()
    field, reason = form.get("field") or "", form.get("reason") or ""
    try:
        value = await services.reveal(request.user, member_id, field, reason)
    except DomainError as error:
        return await member_card_page(
            request,
            member_id,
            error=error,
            form="reveal",
            values={"field": field, "reason": reason},
            status=error.status,
        )
    return await member_card_page(request, member_id, revealed={"field": field, "value": value})


def _day(value: str | None, zone: ZoneInfo, *, next_day: bool = False) -> datetime | None:
    """A day picked in the filter (YYYY-MM-DD, the viewer's zone): its first moment, or the next day's."""
    try:
        day = datetime.strptime((value or "").strip(), "%Y-%m-%d")
    except ValueError:
        return None
    return (day + timedelta(days=1 if next_day else 0)).replace(tzinfo=zone)


@get("/console/audit", guards=[guards.operator], include_in_schema=False)
async def audit_log(request: Request) -> Template:
    """The audit log in words: who (name and role), what (a sentence), on what, before and
    after where recorded; filtered by person, kind of action and days, paged."""
    query = request.query_params
    zone = ZoneInfo(get_settings().app.timezone)
    subject = query.get("subject_id") or ""
    action = query.get("action") if query.get("action") in {key for key, _label in audit_words.MENU} else None
    page = paging.page_number(query.get("page"))
    size = 50
    events = await services.search_audit(
        request.user,
        action=action,
        actor_kind="operator" if form_id(query.get("actor_id")) else None,
        actor_id=form_id(query.get("actor_id")),
        subject_kind=query.get("subject_kind") or None,
        subject_id=form_id(subject, INT8_MAX),
        since=_day(query.get("since"), zone),
        until=_day(query.get("until"), zone, next_day=True),
        limit=size + 1,
        offset=(page - 1) * size,
    )
    more = len(events) > size
    events = events[:size]
    return Template(
        template_name="privacy/audit.html",
        context={
            "events": [{**event, **audit_words.describe(event)} for event in events],
            "names": await services.audit_names(events),
            "people": await services.audit_people(request.user),
            "menu": audit_words.MENU,
            "roles": audit_words.ROLES,
            "subjects": audit_words.SUBJECTS,
            "query": dict(query),
            "action": action or "",
            "page": page,
            "more": more,
            "prev_href": paging.Pager.of(request, 0, page).href(page - 1) if page > 1 else None,
            "next_href": paging.Pager.of(request, 0, page).href(page + 1) if more else None,
        },
    )


@get("/me/data.json", guards=[guards.member], include_in_schema=False)
async def my_data(request: Request) -> Response:
    body = json.dumps(await services.my_data(request.user), ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
    )


@get("/me/data", guards=[guards.member], include_in_schema=False)
async def my_data_page(request: Request) -> Template:
    """我的数据: what is kept about the member, in sections with counts, readable on a phone;
    the JSON download (/me/data.json) stays for taking it elsewhere."""
    data = await services.my_data(request.user, action="member.data_view")
    return Template(template_name="privacy/my_data.html", context={"data": data})


@post("/me/deletion", guards=[guards.member], include_in_schema=False)
async def delete_me(request: Request) -> Response:
    try:
        await services.delete_me(request.user, (await request.form()).get("confirmation") or "")
    except DomainError:
        return Redirect(path="/me?deletion=unconfirmed#my-data")
    response = Redirect(path="/login")
    response.delete_cookie("sid_member")
    return response


ROUTES: list = [member_card, reveal, member_transfer, member_leave, audit_log, my_data, my_data_page, delete_me]
