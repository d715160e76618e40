"""Log lines (marketplace/core/logs.py): the request line, written without structlog's
processors, is the text structlog makes of the same fields; every line is one write."""

import contextlib
import io
import json
import logging
import re

import pytest
import structlog

from marketplace.core import logs
from marketplace.core.settings import get_settings

STAMP = re.compile(r'"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"')


class CountedOutput(io.StringIO):
    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.fixture(autouse=True)
def configured_as_the_app_is():
    yield
    logs.configure(json=get_settings().app.log_json)


async def _request(middleware, path: str, status: int) -> None:
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        pass

    scope = {"type": "http", "method": "POST", "path": path, "headers": [], "query_string": b"secret=1"}
    await middleware(app)(scope, receive, send)


async def test_the_request_line_is_structlogs_text_of_the_same_fields_in_one_write():
    out = CountedOutput()
    with contextlib.redirect_stdout(out):
        logs.configure(json=True)
        await _request(logs.request_log_middleware, '/api/v1/offers/7/claims"é\\\t%s', 409)
        ours = out.getvalue()
        fields = json.loads(ours)
        structlog.get_logger("http").info(
            "request", method="POST", path=fields["path"], status=fields["status"], ms=fields["ms"]
        )
    theirs = out.getvalue()[len(ours) :]
    assert ours.endswith("\n") and ours.count("\n") == 1
    assert STAMP.search(ours) and STAMP.search(theirs)
    assert STAMP.sub("T", ours) == STAMP.sub("T", theirs)
    assert list(fields) == ["method", "path", "status", "ms", "event", "level", "timestamp"]
    assert fields["path"] == '/api/v1/offers/7/claims"é\\\t%s' and fields["status"] == 409
    assert "secret" not in ours  # never the query string
    assert out.writes == 2  # a line and its newline together, for both


async def test_no_request_line_above_info_and_a_readable_one_in_development():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        logs.configure(json=True, level=logging.WARNING)
        await _request(logs.request_log_middleware, "/quiet", 200)
        assert out.getvalue() == ""
        logs.configure(json=False)
        await _request(logs.request_log_middleware, "/readable", 404)
    line = out.getvalue()
    assert "request" in line and "/readable" in line and "404" in line and not line.startswith("{")
