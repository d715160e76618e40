"""Evaluator desk pages (templates in evaluation/templates/evaluation/): result batches
with a CSV upload form that lists every problem row by row, and the follow-up samples
with their audited CSV export.

The member data of the export comes through the `member_contacts` dependency, which the
composition root (marketplace/app.py) provides, so this package never reads members.
"""

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from evaluation.evaluators import batches, samples
from evaluation.evaluators.controllers import CSV_BODY_LIMIT, Contacts
from marketplace.core.errors import DomainError
from marketplace.core.identity import guards
from marketplace.core.web.i18n import gettext as _
from marketplace.core.web.nav import N_
from marketplace.core.web.params import Id

EXPORT_HEADERS = (
    N_("Sample"),
    N_("Provider ID"),
    N_("Provider"),
    N_("Redemption"),
    N_("Redeemed at"),
    N_("Drawn at"),
    N_("Consent to contact"),
    N_("Member"),
    N_("Phone"),
)


async def _batches_page(
    request: Request, *, error: str | None = None, row_errors=None, batch_ref: str = "", code: int = 200
) -> Template:
    return Template(
        template_name="evaluation/batches.html",
        status_code=code,
        context={
            "page": await batches.list_batches(request.user),
            "error": error,
            "row_errors": row_errors or [],
            "batch_ref": batch_ref,
            "columns": batches.COLUMNS,
            "methods": batches.METHODS,
            "column_names": batches.COLUMN_NAMES,
            "method_names": batches.METHOD_NAMES,
            "max_rows": batches.MAX_ROWS,
        },
    )


@get("/evaluator/batches", guards=[guards.evaluator], include_in_schema=False)
async def batch_list(request: Request) -> Template:
    return await _batches_page(request)


@post("/evaluator/batches", guards=[guards.evaluator], include_in_schema=False, request_max_body_size=CSV_BODY_LIMIT)
async def batch_upload(request: Request) -> Response:
    form = await request.form()
    batch_ref = str(form.get("batch_id") or "").strip()[:100]
    upload = form.get("file")
    content = await upload.read() if isinstance(upload, UploadFile) else b""
    try:
        batch, _replayed = await batches.submit_csv(request.user, batch_ref, content)
    except batches.BatchRejected as rejected:
        return await _batches_page(
            request,
            error=_("Nothing was applied: fix these rows and upload the file again."),
            row_errors=rejected.row_errors,
            batch_ref=batch_ref,
            code=422,
        )
    except DomainError as error:
        if error.status in (401, 403):
            raise
        return await _batches_page(request, error=error.translated(), batch_ref=batch_ref, code=error.status)
    return Redirect(path=f"/evaluator/batches/{batch.id}")


@get("/evaluator/batches/{batch_id:int}", guards=[guards.evaluator], include_in_schema=False)
async def batch_detail(request: Request, batch_id: FromPath[Id]) -> Template:
    return Template(
        template_name="evaluation/batch_detail.html",
        context={"batch": await batches.get_batch(request.user, batch_id=batch_id)},
    )


@get("/evaluator/samples", guards=[guards.evaluator], include_in_schema=False)
async def sample_list(request: Request) -> Template:
    return Template(
        template_name="evaluation/samples.html", context={"samples": await samples.list_samples(request.user)}
    )


@post("/evaluator/samples/export", guards=[guards.evaluator], include_in_schema=False, status_code=200)
async def sample_export(request: Request, member_contacts: Contacts) -> Response:
    body, _details = await samples.export_samples(
        request.user, member_contacts, [_(label) for label in EXPORT_HEADERS], (_("Consented"), _("Not consented"))
    )
    return Response(
        content=body,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{samples.export_filename()}"',
            "cache-control": "no-store",
        },
    )


ROUTES: list = [batch_list, batch_upload, batch_detail, sample_list, sample_export]
