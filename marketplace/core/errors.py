"""Domain errors, and the one place that turns every error into RFC 9457 problem details.

Services raise `NotFound`, `Conflict`, `Forbidden`, `Invalid`, ... with a stable `code`;
they never know about HTTP. The handlers below map those, and Litestar's own errors
(malformed JSON, wrong types, unknown fields, oversized bodies, unknown routes), to
`application/problem+json` bodies. Browser pages get the same status with an HTML page.
"""

import dataclasses
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, cast

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.response.base import ASGIResponse
from litestar.types import ExceptionHandlersMap, Receive, Scope, Send

log = structlog.get_logger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://benefits.example.org/problems/"


class DomainError(Exception):
    """A refusal the person can act on, said in their words.

    `message` is an English msgid, with `%(name)s` placeholders filled from `params`
    (Zulip's `JsonableError.msg_format`): `Invalid("Enter at most %(max)s characters.",
    field="title_zh", params={"max": 100})`. The API's problem body carries it filled in,
    as `detail`; pages show `translated()`, in the viewer's language, next to `field`.
    Babel extracts the msgids of every error class named in `ERROR_KEYWORDS`, and a test
    requires a Chinese translation of each, so keep the message a literal string and
    never name an internal field or code in it.
    """

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        params: dict[str, Any] | None = None,
        **extra: Any,
    ):
        self.message = message
        self.params = dict(params or {})
        self.detail = fill(message, self.params)
        super().__init__(self.detail)
        if code:
            self.code = code
        self.field = field
        self.extra = extra

    def translated(self) -> str:
        """The message in the request's language (the English msgid when it has no translation)."""
        return translate(self.message, self.params)


def fill(message: str, params: Mapping[str, Any]) -> str:
    """`message` with its `%(name)s` placeholders filled from `params`."""
    return message % params if params and "%(" in message else message


def translate(message: str, params: Mapping[str, Any]) -> str:
    """A msgid in the request's language, its placeholders filled: the one way every error
    and every row problem is said to a person."""
    from marketplace.core.web import i18n

    return fill(i18n.gettext(message), params)


@dataclasses.dataclass(frozen=True)
class RowProblem:
    """One problem of a row of an uploaded file or batch (a roster, an evaluator's results):
    like a DomainError, an English msgid with `params`, a stable `code` and the `field`
    (column) it concerns; `row` 0 is the file as a whole. `message` is the msgid filled in
    (English, for the API); pages show `translated()`. Many are reported at once, so it is
    not an exception: the importer raises one error that carries them all.

        RowProblem("Repeats the phone of row %(first)s.", 7, "phone", "duplicate_phone", {"first": 3})
    """

    msgid: str
    row: int
    field: str
    code: str
    params: dict = dataclasses.field(default_factory=dict, compare=False)
    message: str = dataclasses.field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", fill(self.msgid, self.params))

    def translated(self) -> str:
        return translate(self.msgid, self.params)

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "code": self.code, "msgid": self.msgid, "params": self.params}

    @classmethod
    def of(cls, data: dict) -> "RowProblem":
        """From `as_dict` (a problem stored before msgids were kept has only its English message)."""
        msgid = data.get("msgid") or data["message"]
        return cls(msgid, row=data["row"], field=data["field"], code=data["code"], params=data.get("params") or {})


class Invalid(DomainError):
    status = 422
    code = "invalid"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
    which: str  # a throttled sign-in's: "address" or "account" (identity.throttle)

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A backing component (database, Redis, search) is down."""

    status = 503
    code = "dependency_unavailable"


# The names under which services raise domain errors (and report row problems): Babel extracts
# the first argument of each as a msgid (tests/test_i18n.py, and `pybabel extract -k` in marketplace/core/web/babel.cfg).
# A new subclass of DomainError is added here (tests/test_i18n.py checks), unless it takes no
# message (evaluation's BatchRejected takes the batch's row problems, and says why itself).
ERROR_KEYWORDS = (
    "DomainError",
    "Invalid",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "TooManyRequests",
    "Unavailable",
    "PayoutRefused",
    "PayoutUnavailable",
    "BadSignature",
    "InputRejected",
    "InputTooDeep",
    "RowProblem",
    "UploadError",
)


# Stable codes for the framework's own errors, by status.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


# Status → its phrase, the problem's title (HTTPStatus(status) is an enum look-up per answer).
_TITLES = {status.value: status.phrase for status in HTTPStatus}


def problem(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": _TITLES[status],
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def _wants_html(request: Request) -> bool:
    # The scope's path, not `request.url`, which builds a URL for every refused API call.
    return not request.scope["path"].startswith(("/api/", "/health", "/ready")) and (
        "text/html" in request.headers.get("accept", "")
    )


def _respond(request: Request, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    if _wants_html(request):
        if body["status"] == 401:
            return Redirect(path=_login_path(request))
        if body.get("setup") and request.method == "GET":  # a step the account must take first
            return Redirect(path=body["setup"])
        from marketplace.core.web import i18n

        # Unmatched routes never pass through the app's middleware, so the locale of an
        # error page is taken from the request here.
        i18n.current_locale.set(i18n.requested_locale(request.scope))
        return Template(
            template_name="error.html", context={"problem": body}, status_code=body["status"], headers=headers
        )
    return ProblemResponse(msgspec.json.encode(body), body["status"], headers)


class ProblemResponse(Response[bytes]):
    """A problem details answer of the API, its body encoded by `_respond` and sent as two
    ASGI messages with their few headers made directly: Litestar's Response and ASGIResponse
    constructors (header structures, cookies, media type checks) were a large part of what a
    refused claim cost (docs/benchmarks.md, claims, part 4)."""

    def __init__(self, content: bytes, status_code: int, headers: dict[str, str] | None = None):
        # Not Response.__init__: the attributes a Response has, set as they are.
        self.content = content
        self.status_code = status_code
        self.headers = headers or {}
        self.media_type = PROBLEM_MEDIA_TYPE
        self.background = None
        self.cookies = []
        self.encoding = "utf-8"

    def to_asgi_response(self, app: Any, request: Request, **_: Any) -> ASGIResponse:
        headers = [(b"content-type", _PROBLEM_MEDIA_TYPE), (b"content-length", b"%d" % len(self.content))]
        headers += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()]
        status = cast("int", self.status_code)  # set by __init__, never None
        return _ProblemAnswer(self.content, status, headers, head=request.method == "HEAD")


_PROBLEM_MEDIA_TYPE = PROBLEM_MEDIA_TYPE.encode()


class _ProblemAnswer(ASGIResponse):
    """ASGIResponse's sending (start, body) with headers made by `ProblemResponse`."""

    __slots__ = ("_headers",)

    def __init__(self, body: bytes, status: int, headers: list[tuple[bytes, bytes]], head: bool):
        # Not ASGIResponse.__init__: its slots that sending reads.
        self.body = b"" if head else body
        self.status_code = status
        self.is_head_response = head
        self.background = None
        self._headers = headers

    def encode_headers(self) -> list[tuple[bytes, bytes]]:
        return self._headers


def _login_path(request: Request) -> str:
    """The area's sign-in page; a member who followed a link (a shared offer) comes back to
    it after signing in (the sign-in page checks `next`)."""
    from urllib.parse import quote

    from marketplace.core.identity.middleware import WEB_AREAS, area_of

    path = request.url.path
    login = WEB_AREAS[area_of(path)][0] + "/login"
    if area_of(path) != "member" or request.method != "GET" or path.endswith("/login"):
        return login
    here = path + (f"?{request.url.query}" if request.url.query else "")
    return f"{login}?next={quote(here, safe='/')}"


def _validation_errors(extra: Any) -> list[dict[str, str]]:
    """Litestar reports `[{"message": ..., "key": ..., "source": ...}]`; we name the field."""
    errors = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            errors.append({"field": item.get("key") or "body", "message": str(item.get("message", ""))})
    return errors


def handle_domain_error(request: Request, exc: DomainError) -> Response:
    errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
    body = problem(exc.status, exc.code, exc.detail, errors=errors, **exc.extra)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    return _respond(request, body, headers)


async def answer(scope: Scope, receive: Receive, send: Send, error: DomainError) -> None:
    """Answer `error` from a middleware through `send`, as Litestar answers one a handler
    raised (the same problem details, or page), so that the outer middleware see the answer."""
    request: Request = scope["litestar_app"].request_class(scope=scope, receive=receive, send=send)
    response = handle_domain_error(request, error)
    await response.to_asgi_response(app=None, request=request)(scope, receive, send)


def handle_validation_error(request: Request, exc: ValidationException) -> Response:
    errors = _validation_errors(exc.extra)
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or str(exc.detail)
    return _respond(request, problem(400, "validation_error", detail, errors=errors or None))


def _caused_by_bad_json(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, msgspec.DecodeError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    code = _HTTP_CODES.get(status, "http_error")
    detail = exc.detail if exc.detail else HTTPStatus(status).phrase
    errors = None
    if status == 400 and _caused_by_bad_json(exc):
        code, detail = "malformed_json", f"The request body is not valid JSON ({detail})."
        errors = [{"field": "body", "message": detail}]
    headers = dict(exc.headers or {})
    return _respond(request, problem(status, code, detail, errors=errors), headers)


def handle_undecodable(request: Request, exc: Exception) -> Response:
    """A body that is not UTF-8 or nests too deeply, met while a framework part (the CSRF
    check of a multipart form) read it: the client's fault, never a 500."""
    if isinstance(exc, RecursionError):
        return _respond(
            request,
            problem(
                400,
                "json_too_deep",
                "The request body is nested too deeply.",
                errors=[{"field": "body", "message": "nested too deeply"}],
            ),
        )
    return _respond(
        request,
        problem(
            400, "invalid_input", "The request body is not UTF-8.", errors=[{"field": "body", "message": "not UTF-8"}]
        ),
    )


def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return _respond(request, problem(500, "internal_error", "An unexpected error occurred."))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_exception,
    UnicodeDecodeError: handle_undecodable,
    RecursionError: handle_undecodable,
    Exception: handle_unexpected,
}

__all__ = [
    "ERROR_KEYWORDS",
    "EXCEPTION_HANDLERS",
    "Conflict",
    "DomainError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "RowProblem",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "problem",
]
