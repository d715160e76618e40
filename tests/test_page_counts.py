"""The layouts' counts (marketplace/core/web/page_counts.py) are counted for a page, and only for
a page: a redirect, JSON or a fragment never pays for them."""

from types import SimpleNamespace

import pytest
from litestar import Response
from litestar.response import Redirect, Template

from marketplace.core.web import page_counts

pytestmark = pytest.mark.unit


@pytest.fixture
def counted(monkeypatch):
    calls: list[str] = []

    async def count(scope) -> int:
        calls.append(scope["path"])
        return 7

    monkeypatch.setitem(page_counts._kinds, "test_kind", (lambda scope: scope["path"].startswith("/page"), count))
    return calls


MEMBER = SimpleNamespace(kind="member", id=1)


async def _request(path: str, answer, user=MEMBER):
    seen = {}

    async def handler(scope, receive, send):
        await page_counts.after_request(answer)
        seen["count"] = page_counts.page_count("test_kind", 0)  # what the template would read

    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "user": user}
    await page_counts.middleware(handler)(scope, None, None)
    return seen["count"]


async def test_a_page_gets_its_count(counted):
    assert await _request("/page", Template(template_name="x.html")) == 7
    assert counted == ["/page"]


@pytest.mark.parametrize("answer", [Response(content={"ok": True}), Redirect(path="/elsewhere")])
async def test_an_answer_that_is_not_a_page_counts_nothing(counted, answer):
    assert await _request("/page", answer) == 0
    assert counted == []


async def test_requests_that_do_not_want_it_or_are_anonymous_count_nothing(counted):
    assert await _request("/api/v1/vouchers", Template(template_name="x.html")) == 0
    assert await _request("/page", Template(template_name="x.html"), user=None) == 0
    assert counted == []
    assert page_counts.page_count("test_kind", 0) == 0  # nothing left behind after a request
