"""Security headers on every response; no-store on signed-in answers; no inline script
without the request's nonce in any template."""

import re
from pathlib import Path

import httpx
import pytest

from marketplace.core.web.config import template_dirs
from tests.catalog.test_pages import _web_login

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

HTML = {"accept": "text/html"}


def _assert_hardened(response, path):
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (path, csp)
    assert "object-src 'none'" in csp
    script = re.search(r"script-src ([^;]*)", csp).group(1)
    if not path.startswith("/api/docs"):
        assert "'unsafe-inline'" not in script and "'nonce-" in script, (path, script)
    assert response.headers.get("x-content-type-options") == "nosniff", path
    assert response.headers.get("referrer-policy") == "strict-origin-when-cross-origin", path
    assert response.headers.get("x-frame-options") == "DENY", path


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/", HTML),
        ("/login", HTML),
        ("/search?q=健身", HTML),
        ("/provider/login", HTML),
        ("/console/login", HTML),
        ("/health", {}),
        ("/api/v1/search", {}),
        ("/api/v1/vouchers", {}),
        ("/no/such/page", HTML),
        ("/api/no/such", {}),
        ("/static/app.css", {}),
        ("/api/docs", HTML),
        ("/search?q=%00", HTML),
    ],
)
async def test_every_response_carries_the_security_headers(client, world, path, headers):
    response = await client.get(path, headers=headers)
    _assert_hardened(response, path)
    assert "strict-transport-security" not in response.headers  # plain http: no HSTS


async def test_errors_raised_by_handlers_carry_them_too(client, world):
    response = await client.post("/api/v1/auth/token", content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 400
    _assert_hardened(response, "/api/v1/auth/token")


async def test_hsts_over_https(app, world):
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as https:
        response = await https.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_each_response_has_its_own_nonce(client, world):
    first = (await client.get("/", headers=HTML)).headers["content-security-policy"]
    second = (await client.get("/", headers=HTML)).headers["content-security-policy"]
    assert re.search(r"'nonce-([^']+)'", first).group(1) != re.search(r"'nonce-([^']+)'", second).group(1)


async def test_the_nonce_in_the_header_is_the_one_on_the_page(client, world):
    response = await client.get("/search?q=健身", headers=HTML)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"]).group(1)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)([^>]*)>", response.text)
    assert scripts and all(f'nonce="{nonce}"' in attributes for attributes in scripts), scripts


async def test_signed_in_pages_and_answers_are_not_stored(client, world):
    anonymous = await client.get("/login", headers=HTML)
    assert "no-store" not in anonymous.headers.get("cache-control", "")
    await _web_login(client, "console", world.operators["beijing"])
    for path in ("/console/", f"/console/members/{world.members['chaoyang'][0]}", "/console/listings"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store", path
    from tests.test_errors import bearer

    member = await bearer(client, "member", world.members["chaoyang"][1])
    assert (await client.get("/api/v1/me", headers=member)).headers["cache-control"] == "no-store"
    static = await client.get("/static/app.css")
    assert "no-store" not in static.headers.get("cache-control", "")


_SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)


@pytest.mark.unit
def test_no_template_has_an_inline_script_or_handler_without_the_nonce():
    problems = []
    templates = [path for folder in template_dirs() for path in Path(folder).rglob("*.html")]
    assert len(templates) > 50
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for match in _SCRIPT.finditer(text):
            attributes = match.group(1)
            if "src=" in attributes or "application/json" in attributes:
                continue
            if 'nonce="{{ csp_nonce() }}"' not in attributes:
                problems.append(f"{path}: inline <script{attributes}> without the nonce")
        problems += [f"{path}: on*= handler: {m.group(0)[:80]}" for m in _HANDLER.finditer(text)]
        if "javascript:" in text:
            problems.append(f"{path}: javascript: URL")
    assert not problems, "\n".join(problems)
