"""Console pages of the roster: CSV import with its per-row report and progress, the
member list of a union (transfer and leaving are on the member card, marketplace.privacy);
and the public activation page.
Thin handlers: read the form, call one service, render."""

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from marketplace.core.errors import DomainError, TooManyRequests
from marketplace.core.federation import activation, services as federation
from marketplace.core.federation.roster import parsing, services as roster
from marketplace.core.identity import guards, services as identity
from marketplace.core.identity.controllers import client_address
from marketplace.core.identity.middleware import WEB_AREAS
from marketplace.core.web import nav, paging
from marketplace.core.web.forms import form_error
from marketplace.core.web.i18n import current_locale, gettext as _
from marketplace.core.web.nav import N_
from marketplace.core.web.pages import signed_in
from marketplace.core.web.params import BigId, Id

UPLOAD_LIMIT = 256 * 1024 * 1024  # a million members is about 60 MB of CSV

nav.register("console", "roster", N_("Roster"), "/console/roster", "doc", position=15)


async def _roster_page(
    request: Request, *, result: roster.ImportRead | None = None, error: dict | None = None, status: int = 200
) -> Template:
    """`error`: {"message", "field"} (marketplace.core.web.forms.form_error); "file" is the upload's."""
    return Template(
        template_name="console/roster.html",
        status_code=status,
        context={
            "imports": await roster.list_imports(request.user),
            "result": result,
            "error": error,
            # The headers a file may use: the template's Chinese ones, or the English column names.
            "columns": list(parsing.COLUMNS)
            if current_locale.get() == "en"
            else [parsing.CHINESE_HEADERS[column] for column in parsing.COLUMNS],
            "sync_max": roster.SYNC_MAX_ROWS,
            "column_names": parsing.COLUMN_NAMES,
            "groups": await federation.group_names(),
        },
    )


@get("/console/roster/template.csv", guards=[guards.operator], include_in_schema=False)
async def roster_template() -> Response:
    """The roster file to fill in, with Chinese headers and an example row."""
    return Response(
        content=parsing.template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": 'attachment; filename="roster-template.csv"; '
            "filename*=UTF-8''%E4%BC%9A%E5%91%98%E5%90%8D%E5%86%8C%E6%A8%A1%E6%9D%BF.csv"
        },
    )


@get("/console/roster", guards=[guards.operator], include_in_schema=False)
async def roster_page(request: Request) -> Template:
    return await _roster_page(request)


@post("/console/roster", guards=[guards.operator], include_in_schema=False, request_max_body_size=UPLOAD_LIMIT)
async def roster_upload(request: Request) -> Response:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return await _roster_page(request, error={"message": _("Choose a CSV file."), "field": "file"}, status=422)
    try:
        result = await roster.start_import(request.user, upload.filename or "roster.csv", await upload.read())
    except DomainError as error:
        if error.status in (401, 403):
            raise
        # A file refused whole (its size, its encoding, too many imports at once): at the file field.
        return await _roster_page(request, error={**form_error(error), "field": "file"}, status=error.status)
    if result.status == "failed":
        return await _roster_page(
            request,
            result=result,
            status=422,
            error={"message": _("Nothing was imported: fix these rows and upload the file again."), "field": None},
        )
    return Redirect(path=f"/console/roster/{result.id}")


@get("/console/roster/{import_id:int}", guards=[guards.operator], include_in_schema=False)
async def roster_detail(request: Request, import_id: BigId) -> Template:
    return Template(
        template_name="console/roster_import.html",
        context={"item": await roster.get_import(request.user, import_id), "column_names": parsing.COLUMN_NAMES},
    )


@get("/console/roster/{import_id:int}/progress", guards=[guards.operator], include_in_schema=False)
async def roster_progress(request: Request, import_id: BigId) -> Template:
    """The progress of one import, polled by HTMX while it runs."""
    return Template(
        template_name="console/_roster_progress.html",
        context={"item": await roster.get_import(request.user, import_id)},
    )


# Members of a union: transfer and leaving ------------------------------------------------------------


async def _members_page(request: Request, node_id: int) -> Template:
    """The member list: search by name, phone or ID number, filters by status and group, paged.
    Light by design: actions on a member live on the member's own page."""
    query = request.query_params
    q = (query.get("q") or "")[:60]
    member_status = paging.one_of(query.get("status"), federation.MEMBER_STATUSES)
    groups = await federation.group_names()
    group = paging.one_of(query.get("group"), groups)
    page = paging.page_number(query.get("page"))
    items, total = await federation.search_members(
        request.user, node_id, q=q, status=member_status, group=group, page=page
    )
    return Template(
        template_name="console/roster_members.html",
        context={
            "node": await federation.get_node(node_id),
            "items": items,
            "pager": paging.Pager.of(request, total, page),
            "q": q,
            "status": member_status,
            "group": group,
            "groups": groups,
        },
    )


@get("/console/nodes/{node_id:int}/members", guards=[guards.operator], include_in_schema=False)
async def member_list(request: Request, node_id: Id) -> Template:
    return await _members_page(request, node_id)


# Activation (public) ----------------------------------------------------------------------------------


def _activate_page(
    error: str | None = None,
    values: dict | None = None,
    status: int = 200,
    *,
    step: str = "details",
    sent: bool = False,
    field: str | None = None,
    code: str = "",
) -> Template:
    from marketplace.core.identity import sms

    return Template(
        template_name="activate.html",
        status_code=status,
        context={
            "error": error,
            "field": field,
            "values": values or {},
            "step": step,
            "sent": sent,
            "phone": (values or {}).get("phone", ""),
            "dev_sms": sms.dev_mode(),
            "resend_seconds": sms.RESEND_SECONDS,
            "next": None,
            "code": "" if field == "code" else code[:6],
        },
    )


def _activate_values(form) -> dict:
    return {key: str(form.get(key) or "")[:100] for key in ("name", "id_number", "phone")}


@get("/activate", include_in_schema=False)
async def activate_page() -> Template:
    return _activate_page()


@post("/activate/send", include_in_schema=False)
async def activate_send(request: Request) -> Response:
    """Step 1: the details match; a code goes to the phone on file."""
    values = _activate_values(await request.form())
    try:
        await activation.start(values["name"], values["id_number"], values["phone"], client_address(request))
    except TooManyRequests as error:
        step = "code" if error.code == "sms_cooldown" else "details"
        return _activate_page(error.translated(), values, 429, step=step)
    except DomainError as error:
        return _activate_page(error.translated(), values, error.status)
    return _activate_page(None, values, step="code", sent=True)


@post("/activate", include_in_schema=False)
async def activate(request: Request) -> Response:
    """Step 2: the code from the text message and the new password."""
    form = await request.form()
    values = _activate_values(form)
    password = str(form.get("password") or "")
    if password != str(form.get("password_again") or ""):
        return _activate_page(
            _("The two passwords differ."),
            values,
            422,
            step="code",
            field="password_again",
            code=str(form.get("code") or ""),
        )
    try:
        member_id = await activation.activate(
            values["name"], values["id_number"], values["phone"], str(form.get("code") or ""), password
        )
    except TooManyRequests as error:
        return _activate_page(error.translated(), values, 429, step="code")
    except DomainError as error:
        if error.code == "weak_password":
            return _activate_page(
                error.translated(),
                values,
                error.status,
                step="code",
                field="password",
                code=str(form.get("code") or ""),
            )
        if error.code == "wrong_code":
            return _activate_page(error.translated(), values, error.status, step="code", field="code")
        return _activate_page(error.translated(), values, error.status)
    # Activated: signed in at once, as after a sign-in.
    token, expires_at = await identity.open_session("member", member_id, "cookie")
    return signed_in("member", token, expires_at, WEB_AREAS["member"][0] + "/")


ROUTES: list = [
    roster_template,
    roster_page,
    roster_upload,
    roster_detail,
    roster_progress,
    member_list,
    activate_page,
    activate_send,
    activate,
]
