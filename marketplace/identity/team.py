"""The console's team management, API and pages: administrators add union nodes below
theirs and operator accounts with roles, change roles and switch accounts off."""

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Response, Template

from marketplace.errors import DomainError
from marketplace.federation import services as federation
from marketplace.identity import guards, operators
from marketplace.web import nav
from marketplace.web.nav import N_
from marketplace.web.forms import form_id
from marketplace.web.params import Id

Role = Literal["administrator", "reviewer", "finance", "analyst"]

nav.register("console", "team", N_("Team and unions"), "/console/team", "users", position=92)


class OperatorCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    username: Annotated[str, msgspec.Meta(min_length=3, max_length=64)]
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    node_id: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
    role: Role
    password: Annotated[str, msgspec.Meta(min_length=10, max_length=128)]


class OperatorChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    role: Role | None = None
    active: bool | None = None


class NodeCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    parent_id: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
    level: Literal["province", "city", "district", "grassroots"]
    code: Annotated[str, msgspec.Meta(min_length=2, max_length=32)]
    name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    name_en: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class TeamController(Controller):
    path = "/api/v1/console"
    tags = ["team"]
    guards = [guards.administrator]

    @get("/operators", summary="Operator accounts of your subtree")
    async def operators(self, request: Request) -> list[dict]:
        return await operators.list_operators(request.user)

    @post("/operators", status_code=201, summary="Add an operator account to a node in your scope")
    async def create_operator(self, request: Request, data: JSONBody[OperatorCreate]) -> dict:
        return await operators.create_operator(request.user, data.username, data.display_name, data.node_id,
                                               data.role, data.password)

    @post("/operators/{operator_id:int}", status_code=200, summary="Change an account's role, or switch it off")
    async def change_operator(self, request: Request, operator_id: FromPath[Id],
                              data: JSONBody[OperatorChange]) -> dict:
        return await operators.change_operator(request.user, operator_id, role=data.role, active=data.active)

    @post("/nodes", status_code=201, summary="Add a union node below one in your scope")
    async def create_node(self, request: Request, data: JSONBody[NodeCreate]) -> dict:
        return await operators.create_node(request.user, data.parent_id, data.level, data.code, data.name_zh,
                                           data.name_en)


async def _page(request: Request, error: DomainError | None = None, values: dict | None = None,
                status: int = 200) -> Template:
    return Template(template_name="console/team.html", status_code=status, context={
        "operators": await operators.list_operators(request.user),
        "nodes": await federation.nodes_in_scope(request.user), "error": error, "values": values or {}})


@get("/console/team", guards=[guards.administrator], include_in_schema=False)
async def team(request: Request) -> Template:
    return await _page(request)


def _int(value) -> int:
    return form_id(value) or 0


@post("/console/team/operators", guards=[guards.administrator], include_in_schema=False)
async def add_operator(request: Request) -> Response:
    form = dict(await request.form())
    try:
        await operators.create_operator(request.user, form.get("username", ""), form.get("display_name", ""),
                                        _int(form.get("node_id")), form.get("role", ""), form.get("password", ""))
    except DomainError as error:
        form.pop("password", None)
        return await _page(request, error, form, error.status)
    return Redirect(path="/console/team")


@post("/console/team/operators/{operator_id:int}", guards=[guards.administrator], include_in_schema=False)
async def change(request: Request, operator_id: Id) -> Response:
    form = await request.form()
    try:
        await operators.change_operator(request.user, operator_id, role=form.get("role") or None,
                                        active={"on": True, "off": False}.get(form.get("active") or ""))
    except DomainError as error:
        return await _page(request, error, None, error.status)
    return Redirect(path="/console/team")


@post("/console/team/nodes", guards=[guards.administrator], include_in_schema=False)
async def add_node(request: Request) -> Response:
    form = dict(await request.form())
    try:
        await operators.create_node(request.user, _int(form.get("parent_id")), form.get("level", ""),
                                    form.get("code", ""), form.get("name_zh", ""), form.get("name_en", ""))
    except DomainError as error:
        return await _page(request, error, form, error.status)
    return Redirect(path="/console/team")


CONTROLLERS: list = [TeamController]
ROUTES: list = [team, add_operator, change, add_node]
