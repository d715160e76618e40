"""The permission table (marketplace/core/identity/permissions.py) against the app's route table.

Every route the app serves is declared, and nothing is declared that the app does not
serve. Then every operator and provider route is called as every role of its audience
(operators: administrator, reviewer, finance, analyst; provider users: owner, staff):
a role without the route's permission gets 403 `role_required` before anything runs,
and a role with it never does. Ids in the paths name nothing, so an allowed call ends
in a 404 or a 4xx about its body and changes nothing.
"""

import re

import httpx
import pytest

from marketplace.core.identity import permissions
from marketplace.core.identity.tables import Operator
from tests.factories import PASSWORD, now, password_hash
from tests.test_errors import bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

NOBODY = "2147483000"  # an id that names nothing


def app_routes(app) -> set[str]:
    return {
        permissions.route_key(method, route.path)
        for route in app.routes
        for method in getattr(route, "methods", ())
        if method not in ("OPTIONS", "HEAD")
    }


def test_every_route_is_declared_once_and_nothing_else(app):
    served = app_routes(app)
    undeclared = sorted(served - permissions.ROUTES.keys())
    assert not undeclared, f"declare these routes in marketplace/core/identity/permissions.py: {undeclared}"
    stale = sorted(permissions.ROUTES.keys() - served)
    assert not stale, f"these declared routes are not served: {stale}"
    assert set(permissions.ROUTES.values()) <= permissions.PERMISSIONS.keys()


def test_the_table_matches_its_documentation():
    with open("docs/permissions.md", encoding="utf-8") as handle:
        assert permissions.table_markdown() in handle.read(), "regenerate the table in docs/permissions.md"


@pytest.mark.unit
def test_money_permissions_are_not_held_by_reviewers_or_analysts():
    for permission in (
        "settlements.manage",
        "settlements.pay",
        "payouts.account",
        "points.grant",
        "campaigns.manage",
        "members.manage",
    ):
        roles = permissions.PERMISSIONS[permission][1]
        assert "reviewer" not in roles and "analyst" not in roles, permission
    assert permissions.PERMISSIONS["provider.quality"][1] == {"owner"}


async def _operator(username: str, node_id: int, role: str) -> str:
    await Operator.insert(
        Operator(
            username=username,
            display_name=f"操作员{role}",
            node=node_id,
            role=role,
            password_hash=password_hash(),
            created_at=now(),
        )
    )
    return username


async def _web_session(app, area: str, username: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 50000)), base_url="http://testserver"
    )  # problems as JSON, to read their code
    await http.get(f"/{area}/login")
    response = await http.post(
        f"/{area}/login",
        data={"username": username, "password": PASSWORD, "_csrf_token": http.cookies.get("csrftoken")},
    )
    assert response.status_code in (302, 303), response.text
    return http


def _url(path: str) -> str:
    return re.sub(r"{(\w+):int}", NOBODY, re.sub(r"{(\w+):str}", "nothing", path))


async def _call(http: httpx.AsyncClient, method: str, path: str, headers: dict | None = None) -> httpx.Response:
    url = _url(path)
    if path.startswith("/api/"):
        return await http.request(method, url, headers=headers)
    if method == "GET":
        return await http.get(url)
    return await http.request(method, url, data={"_csrf_token": http.cookies.get("csrftoken")})


def _refused_for_role(response: httpx.Response) -> bool:
    return response.status_code == 403 and response.json().get("code") in ("role_required", "owner_only")


async def test_every_route_answers_each_role_as_the_table_says(client, app, world):
    beijing = world.nodes["beijing"]
    operators = {role: await _operator(f"bj_{role}", beijing, role) for role in permissions.OPERATOR_ROLES}
    providers = {role: world.providers["chaoyang"][role] for role in permissions.PROVIDER_ROLES}
    audiences = {"operator": ("console", operators), "provider": ("provider", providers)}
    routes = sorted(
        {
            (method, route.path)
            for route in app.routes
            for method in getattr(route, "methods", ())
            if method not in ("OPTIONS", "HEAD")
        },
        key=lambda item: ("logout" in item[1], item[1], item[0]),
    )  # sign out last
    checked = 0
    for kind, (area, users) in audiences.items():
        for role, username in users.items():
            api = await bearer(client, kind, username)
            web = await _web_session(app, area, username)
            try:
                for method, path in routes:
                    permission = permissions.permission_of(method, path)
                    audience, holders, _ = permissions.PERMISSIONS[permission]
                    if audience != kind:
                        continue
                    response = await _call(client if path.startswith("/api/") else web, method, path, api)
                    refused = _refused_for_role(response)
                    if role in holders:
                        assert not refused, (role, method, path, response.status_code, response.text[:200])
                        assert response.status_code < 500, (role, method, path, response.text[:300])
                    else:
                        assert refused, (role, method, path, response.status_code, response.text[:200])
                    checked += 1
            finally:
                await web.aclose()
    assert checked > 300


async def test_provider_staff_cannot_read_or_answer_complaints_or_scorecards(client, app, world):
    staff = await bearer(client, "provider", world.providers["chaoyang"]["staff"])
    for method, path in (
        ("GET", "/api/v1/provider/complaints"),
        ("POST", "/api/v1/provider/complaints/1/answer"),
        ("GET", "/api/v1/provider/standing"),
        ("GET", "/api/v1/provider/cases"),
    ):
        response = await client.request(method, path, headers=staff, json={"text": "前台代答"})
        assert response.status_code == 403 and response.json()["code"] == "owner_only", (path, response.text)
    web = await _web_session(app, "provider", world.providers["chaoyang"]["staff"])
    try:
        for path in ("/provider/complaints", "/provider/scorecard"):
            assert (await web.get(path)).status_code == 403, path
        counter = await web.get("/provider/counter")
        assert counter.status_code == 200  # the counter stays theirs
    finally:
        await web.aclose()
    owner = await bearer(client, "provider", world.providers["chaoyang"]["owner"])
    assert (await client.get("/api/v1/provider/complaints", headers=owner)).status_code == 200
