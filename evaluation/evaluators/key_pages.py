"""The console's evaluator keys page and API: administrators issue, rotate and revoke the
API keys of the evaluator organisations of their scope (evaluation/evaluators/keys.py).
A new key is shown once, on the page that issued it, never stored or cached."""

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Response, Template

from evaluation.evaluators import keys as evaluator_keys
from marketplace.core.errors import DomainError
from marketplace.core.identity import guards
from marketplace.core.web.forms import form_error
from marketplace.core.web.nav import N_, register
from marketplace.core.web.params import Id

NO_STORE = {"cache-control": "no-store"}

register("console", "evaluators", N_("Evaluator keys"), "/console/evaluators", "key", position=93)


class KeyRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    rotate: bool = False  # revoke the organisation's other keys at the same moment


class EvaluatorKeyController(Controller):
    path = "/api/v1/console/evaluators"
    tags = ["evaluators"]
    guards = [guards.operator]

    @get("/", summary="Evaluator organisations of your scope and their keys (prefixes only)")
    async def orgs(self, request: Request) -> list[dict]:
        return await evaluator_keys.orgs_in_scope(request.user)

    @post(
        "/{org_id:int}/keys",
        status_code=201,
        summary="Issue a key (shown once in this answer); `rotate` revokes the others",
    )
    async def issue(self, request: Request, org_id: FromPath[Id], data: JSONBody[KeyRequest | None] = None) -> Response:
        issued = await evaluator_keys.issue(request.user, org_id, rotate=bool(data and data.rotate))
        return Response(issued, status_code=201, headers=NO_STORE)

    @post("/keys/{key_id:int}/revoke", status_code=200, summary="Revoke a key")
    async def revoke(self, request: Request, key_id: FromPath[Id]) -> dict:
        return await evaluator_keys.revoke(request.user, key_id)


async def _page(
    request: Request, *, issued: dict | None = None, error: DomainError | None = None, status: int = 200
) -> Template:
    return Template(
        template_name="evaluation/console_evaluators.html",
        status_code=status,
        headers=NO_STORE,
        context={
            "orgs": await evaluator_keys.orgs_in_scope(request.user),
            "issued": issued,
            "error": form_error(error) if error else None,
        },
    )


@get("/console/evaluators", guards=[guards.operator], include_in_schema=False)
async def evaluators_page(request: Request) -> Template:
    return await _page(request)


@post("/console/evaluators/{org_id:int}/keys", guards=[guards.operator], include_in_schema=False)
async def issue_page(request: Request, org_id: FromPath[Id]) -> Response:
    rotate = (await request.form()).get("rotate") == "1"
    try:
        issued = await evaluator_keys.issue(request.user, org_id, rotate=rotate)
    except DomainError as error:
        if error.status in (403, 404):
            raise
        return await _page(request, error=error, status=error.status)
    return await _page(request, issued=issued)


@post("/console/evaluators/keys/{key_id:int}/revoke", guards=[guards.operator], include_in_schema=False)
async def revoke_page(request: Request, key_id: FromPath[Id]) -> Response:
    try:
        await evaluator_keys.revoke(request.user, key_id)
    except DomainError as error:
        if error.status in (403, 404):
            raise
        return await _page(request, error=error, status=error.status)
    return Redirect(path="/console/evaluators")


ROUTES = [EvaluatorKeyController, evaluators_page, issue_page, revoke_page]
