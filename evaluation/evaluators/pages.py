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


def row_message(error: batches.BatchError) -> str:
    """A batch problem in the viewer's language (the service's message is English)."""
    p = error.params
    messages = {
        "required": lambda: _("%(field)s is required.") % {"field": p.get("field", error.field)},
        "not_integer": lambda: _("%(field)s must be a whole number.") % {"field": error.field},
        "out_of_range": lambda: (
            _("%(field)s must be from 0 to 100.") % {"field": error.field}
            if error.field != "sample_size"
            else _("The sample size is too large.")
        ),
        "sample_too_small": lambda: _("sample_size must be at least 1."),
        "bad_date": lambda: _("visit_date must be a real day written as YYYY-MM-DD, such as 2026-11-03."),
        "future_date": lambda: _("visit_date %(date)s is in the future.") % {"date": p.get("date", "")},
        "unknown_method": lambda: _("method must be one of %(methods)s.") % {"methods": p.get("methods", "")},
        "too_long": lambda: _("note must be at most %(max)s characters.") % {"max": p.get("max", "")},
        "not_text": lambda: _("note must be text."),
        "unknown_field": lambda: _("%(field)s is not a field of a result.") % {"field": error.field},
        "duplicate_row": lambda: (
            _("Repeats row %(first)s (same provider, visit date and method).") % {"first": p.get("first", "")}
        ),
        "unknown_provider": lambda: _("Provider %(provider)s does not exist.") % {"provider": p.get("provider", "")},
        "provider_out_of_scope": lambda: (
            _("Provider %(provider)s is outside the area your organisation evaluates.")
            % {"provider": p.get("provider", "")}
        ),
        "column_count": lambda: (
            _("This line has %(found)s columns; the header has %(expected)s.")
            % {"found": p.get("found", ""), "expected": p.get("expected", "")}
        ),
        "wrong_header": lambda: " ".join(
            [_("The first line must name the columns %(columns)s.") % {"columns": p.get("columns", "")}]
            + ([_("Unknown columns: %(names)s.") % {"names": p["unknown"]}] if p.get("unknown") else [])
            + ([_("Missing columns: %(names)s.") % {"names": p["missing"]}] if p.get("missing") else [])
            + ([_("Repeated columns: %(names)s.") % {"names": p["repeated"]}] if p.get("repeated") else [])
        ),
        "malformed_csv": lambda: _("The file is not valid CSV near line %(line)s.") % {"line": p.get("line", "")},
        "encoding": lambda: _('The file is neither UTF-8 nor GB18030 text; save it as "CSV UTF-8" and try again.'),
        "too_large": lambda: _("The file is larger than %(max_mb)s MB; split it.") % {"max_mb": p.get("max_mb", "")},
        "empty_file": lambda: _("The file is empty."),
        "no_rows": lambda: _("The file has no results."),
        "too_many_rows": lambda: _("A batch holds at most %(max)s results; split it.") % {"max": p.get("max", "")},
        "invalid_batch_id": lambda: _("The batch ID is 1 to 64 characters without spaces or slashes."),
    }
    message = messages.get(error.code)
    return message() if message else error.message


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
            "row_message": row_message,
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
