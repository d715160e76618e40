"""Four-eyes approvals in the console and the JSON API: pending money changes of the
operator's scope, approved or rejected by an operator other than the proposer
(rules in marketplace/core/identity/approvals.py; which role may decide in permissions.py)."""

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Response, Template

from marketplace.core.errors import DomainError
from marketplace.core.identity import approvals, guards
from marketplace.core.web import nav, todo
from marketplace.core.web.forms import form_error
from marketplace.core.web.nav import N_
from marketplace.core.web.params import BigId

nav.register("console", "approvals", N_("Approvals"), "/console/approvals", "check", position=41)
todo.register("approvals", N_("Money changes to approve"), "/console/approvals", approvals.waiting_for, position=65)


class Decision(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class ApprovalController(Controller):
    path = "/api/v1/console/approvals"
    tags = ["approvals"]
    guards = [guards.operator]

    @get("/", summary="Money changes of your scope waiting for a second operator")
    async def pending(self, request: Request) -> list[dict]:
        return await approvals.in_scope(request.user)

    @get("/{approval_id:int}", summary="One proposed change and its decision")
    async def one(self, request: Request, approval_id: FromPath[BigId]) -> dict:
        return await approvals.get(request.user, approval_id)

    @post("/{approval_id:int}/approve", status_code=200, summary="Approve and apply a change another operator proposed")
    async def approve(
        self, request: Request, approval_id: FromPath[BigId], data: JSONBody[Decision | None] = None
    ) -> dict:
        return await approvals.decide(request.user, approval_id, True, data.note if data else None)

    @post("/{approval_id:int}/reject", status_code=200, summary="Reject a change another operator proposed")
    async def reject(
        self, request: Request, approval_id: FromPath[BigId], data: JSONBody[Decision | None] = None
    ) -> dict:
        return await approvals.decide(request.user, approval_id, False, data.note if data else None)


async def _page(request: Request, error: DomainError | None = None, status: int = 200) -> Template:
    return Template(
        template_name="console/approvals.html",
        status_code=status,
        context={
            "pending": await approvals.in_scope(request.user),
            "decided": [row for row in await approvals.in_scope(request.user, None, 30) if row["status"] != "pending"],
            "error": form_error(error) if error else None,
        },
    )


@get("/console/approvals", guards=[guards.operator], include_in_schema=False)
async def approvals_page(request: Request) -> Template:
    return await _page(request)


async def _decide(request: Request, approval_id: int, approve: bool) -> Response:
    note = ((await request.form()).get("note") or "")[:500]
    try:
        await approvals.decide(request.user, approval_id, approve, note)
    except DomainError as error:
        if error.status == 404:
            raise
        return await _page(request, error, error.status)
    return Redirect(path="/console/approvals")


@post("/console/approvals/{approval_id:int}/approve", guards=[guards.operator], include_in_schema=False)
async def approve_page(request: Request, approval_id: FromPath[BigId]) -> Response:
    return await _decide(request, approval_id, True)


@post("/console/approvals/{approval_id:int}/reject", guards=[guards.operator], include_in_schema=False)
async def reject_page(request: Request, approval_id: FromPath[BigId]) -> Response:
    return await _decide(request, approval_id, False)


ROUTES = [ApprovalController, approvals_page, approve_page, reject_page]
