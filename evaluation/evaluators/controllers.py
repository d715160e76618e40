"""JSON API of evaluator result batches and follow-up samples (evaluator API keys only).

A batch is applied once: the first submission answers 201, the same batch again 200 with
`Idempotent-Replayed: true` and the same body. A batch with problems answers 422
`invalid_batch` with one entry per problem in `errors` (`row`, `field`, `code`, `message`).
"""

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter, SkipValidation

from evaluation.evaluators import batches, samples
from evaluation.schemas import BatchInput, BatchPage, BatchRead, EvaluatorRead, SampleRead
from marketplace.core.errors import PROBLEM_MEDIA_TYPE, problem
from marketplace.core.identity import guards

CSV_BODY_LIMIT = 8 * 1024 * 1024
API_EXPORT_HEADERS = (
    "sample_id",
    "provider_id",
    "provider_name",
    "redemption_id",
    "redeemed_at",
    "drawn_at",
    "consented",
    "name",
    "phone",
)
# samples.ContactLookup, from the composition root (marketplace/app.py).
Contacts = NamedDependency[SkipValidation[Any]]
BatchRef = Annotated[str, PathParameter(min_length=1, max_length=64)]


def handle_batch_rejected(_: Request, exc: batches.BatchRejected) -> Response:
    errors = [batches.read_problem(error) for error in exc.row_errors]
    body = problem(
        422,
        exc.code,
        exc.detail,
        errors=[
            {"row": e.row, "field": e.field, "code": e.code, "message": e.message} for e in errors[: batches.MAX_ERRORS]
        ],
        errors_total=len(errors),
    )
    return Response(content=body, status_code=422, media_type=PROBLEM_MEDIA_TYPE)


def _answer(batch: BatchRead, replayed: bool) -> Response[BatchRead]:
    return Response(
        content=batch,
        status_code=200 if replayed else 201,
        headers={"Idempotent-Replayed": "true"} if replayed else None,
    )


class EvaluatorBatchController(Controller):
    path = "/api/v1/evaluator"
    tags = ["evaluation"]
    guards = [guards.evaluator]
    exception_handlers = {batches.BatchRejected: handle_batch_rejected}

    @post("/batches", summary="Submit a batch of results (JSON); applied whole and once", status_code=201)
    async def submit(self, request: Request, data: JSONBody[BatchInput]) -> Response[BatchRead]:
        return _answer(*await batches.submit_json(request.user, data))

    @post(
        "/batches/csv",
        summary="Submit a batch of results as a CSV file (UTF-8 or GB18030)",
        description="Either a `text/csv` body with `?batch_id=`, or `multipart/form-data` with the fields "
        "`batch_id` and `file`. Columns: " + ", ".join(batches.COLUMNS) + " (a header line first).",
        status_code=201,
        request_max_body_size=CSV_BODY_LIMIT,
    )
    async def submit_csv(self, request: Request, batch_id: FromQuery[str | None] = None) -> Response[BatchRead]:
        if request.content_type[0] == RequestEncodingType.MULTI_PART:
            form = await request.form()
            upload = form.get("file")
            content = await upload.read() if isinstance(upload, UploadFile) else str(upload or "").encode()
            batch_id = form.get("batch_id") or batch_id
        else:
            content = await request.body()
        return _answer(*await batches.submit_csv(request.user, batch_id, content))

    @get("/batches", summary="The organisation's batches, newest first")
    async def list_batches(
        self, request: Request, page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1
    ) -> BatchPage:
        return await batches.list_batches(request.user, page)

    @get("/batches/{batch_ref:str}", summary="One batch, by the organisation's own batch_id, with its results")
    async def read_batch(self, request: Request, batch_ref: BatchRef) -> BatchRead:
        return await batches.get_batch(request.user, ref=batch_ref)

    @get("/samples", summary="Redemptions drawn for the organisation to follow up (no personal data)")
    async def list_samples(self, request: Request) -> list[SampleRead]:
        return await samples.list_samples(request.user)

    @get(
        "/samples/export",
        summary="The samples as CSV, with name and phone of members who consented (audited)",
        media_type="text/csv",
    )
    async def export_samples(
        self,
        request: Request,
        member_contacts: Contacts,
        reason: Annotated[str | None, QueryParameter(max_length=500)] = None,
    ) -> Response:
        body, _ = await samples.export_samples(
            request.user, member_contacts, API_EXPORT_HEADERS, ("yes", "no"), reason=reason
        )
        return Response(
            content=body,
            media_type="text/csv; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{samples.export_filename()}"',
                "cache-control": "no-store",
            },
        )


class EvaluatorController(Controller):
    path = "/api/v1/evaluator"
    tags = ["evaluation"]
    guards = [guards.evaluator]

    @get("/me", summary="The evaluator organisation this API key belongs to")
    async def me(self, request: Request) -> EvaluatorRead:
        return EvaluatorRead(id=request.user.id, name=request.user.display_name, node_id=request.user.node_id)


ROUTES = [EvaluatorController, EvaluatorBatchController]
