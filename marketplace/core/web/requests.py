"""The request-parsing layer: the one place hostile input is refused.

`CheckedRequest` is the app's request class (marketplace/app.py): its `form()` and `json()`,
which every page and every API body goes through (Litestar's `data` parameter reads
`json()`), pass each key and text through `marketplace.core.web.forms.check_text`; a body that
is not UTF-8 or nests too deeply is refused there too, with a 4xx naming the field, never
a 500. `query_guard_middleware` does the same for query strings.
"""

import math
from typing import Any
from urllib.parse import unquote_to_bytes

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, InternalServerException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.serialization import decode_json
from litestar.types import ASGIApp, Empty, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from marketplace.core.web import forms
from marketplace.core.web.forms import InputRejected, InputTooDeep


def _not_utf8(field: str) -> InputRejected:
    return InputRejected(
        "This field contains control characters or text that is not UTF-8; remove them and try again.", field=field
    )


class CheckedRequest(Request):
    _checked_form: FormMultiDict | None = None

    @property
    def content_length(self) -> int | None:
        """Litestar's, read from the raw headers: Litestar builds the request's whole
        `Headers` mapping for this one header (docs/benchmarks.md, claims, part 5)."""
        if self._content_length is not Empty:
            return self._content_length
        length = None
        for name, value in self.scope["headers"]:
            if name.lower() == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    raise ClientException(f"Invalid content-length: {value.decode('latin-1')!r}") from None
                break
        self._content_length = length
        return length

    async def body(self) -> bytes:
        """Litestar's `body()`, with the same limits and errors, read in a loop instead of
        through its `stream()` async generator (which asyncio registers and finalises for
        every request that reads a body, an empty one included)."""
        if self._body is Empty:
            if (body := self._connection_state.body) is not Empty:
                self._body = body
            else:
                self._body = self._connection_state.body = await self._read_body()
        return self._body

    async def _read_body(self) -> bytes:
        if not self.is_connected:
            raise InternalServerException("stream consumed")
        announced = self.content_length
        limit = self.route_handler.resolve_request_max_body_size() or math.inf
        if announced is not None and announced > limit:
            raise RequestEntityTooLarge
        chunks: list[bytes] = []
        received = 0
        while True:
            event = await self.receive()
            if event["type"] == "http.request":
                if chunk := event["body"]:
                    # The limit on the bytes received, as Litestar: a decompressing
                    # middleware may make more of them than the content length said.
                    received += len(chunk)
                    if received > limit:
                        raise RequestEntityTooLarge
                    chunks.append(chunk)
                if not event.get("more_body", False):
                    break
            elif event["type"] == "http.disconnect":
                raise InternalServerException("client disconnected prematurely")
        self.is_connected = False
        return b"".join(chunks)

    async def unchecked_form(self) -> FormMultiDict:
        """The form as sent, leniently decoded and unchecked. Only for the CSRF middleware's
        `_csrf_token` (marketplace/core/web/csrf.py) and for showing a refused form again
        (`forms.posted_form`); never to act on."""
        return await super().form()

    async def form(self) -> FormMultiDict:
        if self._checked_form is not None:
            return self._checked_form
        content_type, _ = self.content_type
        if content_type == RequestEncodingType.URL_ENCODED:
            # Decoded strictly here, even when the CSRF middleware already read it leniently.
            grouped: dict[str, list[str]] = {}
            for name, value in forms.decode_form_pairs(await self.body()):
                grouped.setdefault(name, []).append(value)
            ScopeState.from_scope(self.scope).form = {
                name: values if len(values) > 1 else values[0] for name, values in grouped.items()
            }
            self._form = Empty
        try:
            form = await super().form()
        except UnicodeDecodeError:
            raise _not_utf8("form") from None
        forms.check_form(form.multi_items())
        self._checked_form = form
        return form

    async def json(self) -> Any:
        state = ScopeState.from_scope(self.scope)
        if state.json is Empty:
            body = await self.body()
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                raise _not_utf8("body") from None
            try:
                document = decode_json(body or b"null", type_decoders=self.route_handler.resolve_type_decoders())
            except RecursionError:
                raise InputTooDeep(
                    "The JSON body is nested more than %(max)s levels deep.",
                    field="body",
                    params={"max": forms.MAX_JSON_DEPTH},
                ) from None
            forms.check_json(document)
            state.json = document
        return await super().json()


def query_guard_middleware(app: ASGIApp) -> ASGIApp:
    """Refuses a query string whose values are not UTF-8 or hold control characters."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            for chunk in scope["query_string"].split(b"&"):
                raw_name, _, raw_value = chunk.partition(b"=")
                try:
                    name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8")
                    value = unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
                except UnicodeDecodeError:
                    raise _not_utf8("query") from None
                forms.check_text("query", name)
                forms.check_text(name[:64], value)
        await app(scope, receive, send)

    return middleware
