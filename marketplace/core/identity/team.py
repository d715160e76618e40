"""The console's team management, API and pages: administrators add union nodes below
theirs and operator accounts with roles, change roles and switch accounts off."""

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Response, Template

from marketplace.core.audit.middleware import nothing_changed
from marketplace.core.errors import DomainError
from marketplace.core.federation import services as federation
from marketplace.core.identity import accounts, guards, operators
from marketplace.core.web import nav
from marketplace.core.web.forms import form_error, form_id
from marketplace.core.web.i18n import gettext as _
from marketplace.core.web.nav import N_
from marketplace.core.web.params import Id

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
        return await operators.create_operator(
            request.user, data.username, data.display_name, data.node_id, data.role, data.password
        )

    @post("/operators/{operator_id:int}", status_code=200, summary="Change an account's role, or switch it off")
    async def change_operator(
        self, request: Request, operator_id: FromPath[Id], data: JSONBody[OperatorChange]
    ) -> dict:
        return await operators.change_operator(request.user, operator_id, role=data.role, active=data.active)

    @post("/nodes", status_code=201, summary="Add a union node below one in your scope")
    async def create_node(self, request: Request, data: JSONBody[NodeCreate]) -> dict:
        return await operators.create_node(
            request.user, data.parent_id, data.level, data.code, data.name_zh, data.name_en
        )


async def _page(
    request: Request, error: DomainError | None = None, values: dict | None = None, status: int = 200
) -> Template:
    rows = await operators.list_operators(request.user)
    # The form that failed shows the error beside its field; when the page has no such form
    # (one's own row has none), the error shows on top with its message.
    others = [row for row in rows if row["id"] != request.user.id]
    on_page = (
        {"operator", "node"}
        | {f"change-{row['id']}" for row in others}
        | {f"reset-{row['id']}" for row in others if row["two_factor"]}
    )
    failed_form = (values or {}).get("form")
    return Template(
        template_name="console/team.html",
        status_code=status,
        context={
            "operators": rows,
            "nodes": await federation.nodes_in_scope(request.user),
            "error": form_error(error) if error else None,
            "failed_form": failed_form if failed_form in on_page else None,
            "values": values or {},
            "done": request.query_params.get("done") == "two_factor_reset",
        },
    )


@get("/console/team", guards=[guards.administrator], include_in_schema=False)
async def team(request: Request) -> Template:
    return await _page(request)


def _int(value) -> int:
    return form_id(value) or 0


@post("/console/team/operators", guards=[guards.administrator], include_in_schema=False)
async def add_operator(request: Request) -> Response:
    form = dict(await request.form())
    try:
        await operators.create_operator(
            request.user,
            form.get("username", ""),
            form.get("display_name", ""),
            _int(form.get("node_id")),
            form.get("role", ""),
            form.get("password", ""),
        )
    except DomainError as error:
        form.pop("password", None)
        return await _page(request, error, form | {"form": "operator"}, error.status)
    return Redirect(path="/console/team")


@post("/console/team/operators/{operator_id:int}", guards=[guards.administrator], include_in_schema=False)
async def change(request: Request, operator_id: Id) -> Response:
    form = await request.form()
    try:
        await operators.change_operator(
            request.user,
            operator_id,
            role=form.get("role") or None,
            active={"on": True, "off": False}.get(form.get("active") or ""),
        )
    except DomainError as error:
        return await _page(
            request, error, {"form": f"change-{operator_id}", "role": form.get("role") or ""}, error.status
        )
    return Redirect(path="/console/team")


@post("/console/team/nodes", guards=[guards.administrator], include_in_schema=False)
async def add_node(request: Request) -> Response:
    form = dict(await request.form())
    try:
        await operators.create_node(
            request.user,
            _int(form.get("parent_id")),
            form.get("level", ""),
            form.get("code", ""),
            form.get("name_zh", ""),
            form.get("name_en", ""),
        )
    except DomainError as error:
        return await _page(request, error, form | {"form": "node"}, error.status)
    return Redirect(path="/console/team")


@post(
    "/console/team/operators/{operator_id:int}/two-factor-reset", guards=[guards.administrator], include_in_schema=False
)
async def two_factor_reset(request: Request, operator_id: Id) -> Response:
    """An operator lost their authenticator: first a confirmation naming them and what
    follows, then (confirm=1) the reset, with the reason for the audit log."""
    form = await request.form()
    reason = form.get("reason") or ""
    try:
        if form.get("confirm") != "1":
            nothing_changed(request)
            reason = await accounts.check_two_factor_reset(request.user, operator_id, reason)
            name = next(
                row["display_name"] for row in await operators.list_operators(request.user) if row["id"] == operator_id
            )
            return Template(
                template_name="console/bulk_confirm.html",
                context={
                    "nav": "team",
                    "kicker": _("Team and unions"),
                    "back": "/console/team",
                    "error": None,
                    "title": _("Reset two-factor sign-in"),
                    "question": _("Reset the two-factor sign-in of %(name)s?") % {"name": name},
                    "lines": [_("Reason: %(reason)s") % {"reason": reason}],
                    "consequences": [
                        _("Their authenticator app and recovery codes stop working, and they are signed out."),
                        _("At their next sign-in, with their password, they must set up two-factor sign-in again."),
                        _("The reset is recorded in the audit log with your name and this reason."),
                    ],
                    "fields": [("reason", reason)],
                    "action": f"/console/team/operators/{operator_id}/two-factor-reset",
                    "confirm_label": _("Reset two-factor sign-in"),
                    "danger": True,
                },
            )
        await accounts.reset_operator_two_factor(request.user, operator_id, reason)
    except DomainError as error:
        return await _page(request, error, {"form": f"reset-{operator_id}", "reason": reason}, error.status)
    return Redirect(path="/console/team?done=two_factor_reset")


ROUTES: list = [TeamController, team, add_operator, change, add_node, two_factor_reset]
