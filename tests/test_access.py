"""Every kind of user is refused where they do not belong, and scope is enforced."""

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.core.identity.tables import AuthSession
from tests.factories import PASSWORD
from tests.test_errors import assert_problem, bearer

pytestmark = pytest.mark.integration


async def tokens(client, world) -> dict[str, dict]:
    return {
        "anonymous": {},
        "member": await bearer(client, "member", world.members["chaoyang"][1]),
        "owner": await bearer(client, "provider", world.providers["chaoyang"]["owner"]),
        "staff": await bearer(client, "provider", world.providers["chaoyang"]["staff"]),
        "operator": await bearer(client, "operator", world.operators["chaoyang"]),
        "evaluator": {"Authorization": f"Bearer {world.evaluator_key}"},
    }


ENDPOINTS = {
    "/api/v1/me": {"member", "owner", "staff", "operator", "evaluator"},
    "/api/v1/provider/me": {"owner", "staff"},
    "/api/v1/evaluator/me": {"evaluator"},
    "/api/v1/federation/nodes/{chaoyang}": {"operator"},
    "/api/v1/federation/nodes/{cy_union}/members": {"operator"},
}


async def test_each_role_is_refused_where_it_does_not_belong(client, world):
    headers_by_role = await tokens(client, world)
    for template, allowed in ENDPOINTS.items():
        path = template.format(**world.nodes)
        for role, headers in headers_by_role.items():
            response = await client.get(path, headers=headers)
            if role in allowed:
                assert response.status_code == 200, (path, role, response.text)
            elif role == "anonymous":
                assert_problem(response, 401, "not_signed_in")
            else:
                assert_problem(response, 403, "wrong_role")


@pytest.mark.parametrize(
    "operator, node, allowed",
    [
        ("chaoyang", "chaoyang", True),
        ("chaoyang", "cy_union", True),
        ("chaoyang", "haidian", False),  # a sibling district
        ("chaoyang", "beijing", False),  # its own parent
        ("beijing", "hd_union", True),
        ("beijing", "shijiazhuang", False),  # one city reaching into another city
        ("shijiazhuang", "beijing", False),
        ("shijiazhuang", "chaoyang", False),
        ("hebei", "sjz_union", True),
        ("national", "sjz_union", True),
    ],
)
async def test_operator_scope_is_their_subtree(client, world, operator, node, allowed):
    headers = await bearer(client, "operator", world.operators[operator])
    for path in (
        f"/api/v1/federation/nodes/{world.nodes[node]}",
        f"/api/v1/federation/nodes/{world.nodes[node]}/members",
    ):
        response = await client.get(path, headers=headers)
        if allowed:
            assert response.status_code == 200, response.text
        else:  # as a node that does not exist (marketplace/core/federation/scope.py)
            assert_problem(response, 404, "node_not_found")


async def test_operator_cannot_add_a_member_outside_their_scope(client, world):
    headers = await bearer(client, "operator", world.operators["shijiazhuang"])
    response = await client.post(
        "/api/v1/federation/members",
        headers=headers,
        json={
            "node_id": world.nodes["cy_union"],
            "name": "赵六",
            "gender": "M",
            "birth_year": 1980,
            "phone": "13712345678",
            "id_number": "110105198001011236",
        },
    )
    problem = assert_problem(response, 404, "node_not_found")
    assert problem["errors"][0]["field"] == "node_id"
    beijing = await bearer(client, "operator", world.operators["beijing"])
    summary = await client.get(f"/api/v1/federation/nodes/{world.nodes['cy_union']}", headers=beijing)
    assert summary.json()["members"] == 1


async def test_members_are_masked_for_operators(client, world):
    headers = await bearer(client, "operator", world.operators["chaoyang"])
    body = (await client.get(f"/api/v1/federation/nodes/{world.nodes['cy_union']}/members", headers=headers)).json()
    [member] = body["items"]
    assert member["name"] == "王*芳"
    phone = world.members["chaoyang"][1]
    assert member["phone"] == phone[:3] + "****" + phone[-4:]
    assert phone not in str(body)


async def test_api_ignores_cookies_and_pages_ignore_bearer_tokens(client, world):
    response = await client.post(
        "/api/v1/auth/token", json={"kind": "operator", "username": world.operators["national"], "password": PASSWORD}
    )
    token = response.json()["token"]
    # A stolen token in a cookie does not authenticate API calls (the API takes bearer only) ...
    client.cookies.set("sid_operator", token)
    assert (await client.get("/api/v1/me")).status_code == 401
    # ... and a bearer token does not open the console (it takes its cookie only).
    page = await client.get("/console/", headers={"Authorization": f"Bearer {token}", "accept": "text/html"})
    assert page.status_code in (302, 303) and page.headers["location"] == "/console/login"


async def test_cookie_of_one_audience_does_not_open_another(client, world):
    client.cookies.clear()
    login = await _web_login(client, "/login", world.members["chaoyang"][1])
    assert login.status_code in (302, 303)
    assert (await client.get("/me", headers={"accept": "text/html"})).status_code == 200
    # The member cookie is scoped to the member site; the console sees nobody signed in.
    member_token = client.cookies.get("sid_member")
    client.cookies.set("sid_operator", member_token)
    console = await client.get("/console/", headers={"accept": "text/html"})
    assert console.status_code in (302, 303)


async def _web_login(client, path: str, username: str, password: str = PASSWORD):
    await client.get(path)  # sets the CSRF cookie
    return await client.post(
        path, data={"username": username, "password": password, "_csrf_token": client.cookies.get("csrftoken")}
    )


async def test_web_forms_require_the_csrf_token(client, world):
    client.cookies.clear()
    await client.get("/console/login")
    response = await client.post("/console/login", data={"username": world.operators["beijing"], "password": PASSWORD})
    assert response.status_code == 403
    ok = await _web_login(client, "/console/login", world.operators["beijing"])
    assert ok.status_code in (302, 303) and ok.headers["location"] == "/console/"


async def test_login_is_throttled_after_repeated_failures(client, world):
    username = world.operators["beijing"]
    for _ in range(5):
        response = await client.post(
            "/api/v1/auth/token", json={"kind": "operator", "username": username, "password": "wrong"}
        )
        assert_problem(response, 401, "invalid_credentials")
    response = await client.post(
        "/api/v1/auth/token", json={"kind": "operator", "username": username, "password": PASSWORD}
    )
    assert_problem(response, 429, "login_throttled")
    assert int(response.headers["retry-after"]) > 0
    # Another account is not affected.
    assert (
        await client.post(
            "/api/v1/auth/token",
            json={"kind": "operator", "username": world.operators["chaoyang"], "password": PASSWORD},
        )
    ).status_code == 201


async def test_unknown_account_and_wrong_password_look_the_same(client, world):
    unknown = await client.post(
        "/api/v1/auth/token", json={"kind": "member", "username": "13000000000", "password": "x"}
    )
    wrong = await client.post(
        "/api/v1/auth/token", json={"kind": "member", "username": world.members["chaoyang"][1], "password": "x"}
    )
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]


async def test_revoked_token_stops_working(client, world):
    headers = await bearer(client, "provider", world.providers["chaoyang"]["owner"])
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert (await client.delete("/api/v1/auth/token", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_idle_operator_session_expires(client, world):
    headers = await bearer(client, "operator", world.operators["beijing"])
    past = datetime.now(UTC) - timedelta(minutes=1)
    await AuthSession.update({AuthSession.expires_at: past}).where(AuthSession.principal_kind == "operator")
    assert_problem(await client.get("/api/v1/me", headers=headers), 401, "not_signed_in")


async def test_operator_sessions_are_short_and_member_sessions_long(client, world):
    await bearer(client, "operator", world.operators["beijing"])
    await bearer(client, "member", world.members["chaoyang"][1])
    rows = {row["principal_kind"]: row for row in await AuthSession.select()}
    operator_ttl = rows["operator"]["expires_at"] - rows["operator"]["created_at"]
    member_ttl = rows["member"]["expires_at"] - rows["member"]["created_at"]
    assert operator_ttl == timedelta(minutes=30)
    assert member_ttl == timedelta(days=30)


async def test_tokens_are_stored_hashed(client, world):
    headers = await bearer(client, "member", world.members["chaoyang"][1])
    token = headers["Authorization"].split()[1]
    stored = [row["token_hash"] for row in await AuthSession.select(AuthSession.token_hash)]
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


async def test_revoked_or_forged_evaluator_key_is_refused(client, world):
    from evaluation.tables import EvaluatorApiKey

    forged = world.evaluator_key[:-4] + "AAAA"
    assert (await client.get("/api/v1/evaluator/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    await EvaluatorApiKey.update({EvaluatorApiKey.revoked_at: datetime.now(UTC)}).where(
        EvaluatorApiKey.org == world.evaluator_org
    )
    response = await client.get("/api/v1/evaluator/me", headers={"Authorization": f"Bearer {world.evaluator_key}"})
    assert response.status_code == 401


async def test_a_wrong_evaluator_key_does_not_lock_out_other_evaluators(client, world):
    """The evaluator desk has no username: its throttle is per key prefix, not shared."""
    client.cookies.clear()
    for attempt in range(6):
        await client.get("/evaluator/login")
        await client.post(
            "/evaluator/login",
            data={
                "username": "",
                "password": f"ek_deadbeef{attempt:04d}_wrong",
                "_csrf_token": client.cookies.get("csrftoken"),
            },
        )
    ok = await _web_login(client, "/evaluator/login", "", world.evaluator_key)
    assert ok.status_code in (302, 303) and ok.headers["location"] == "/evaluator/"


async def test_parallel_guesses_cannot_exceed_the_limit(client, world):
    import asyncio

    username = world.operators["beijing"]
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/auth/token", json={"kind": "operator", "username": username, "password": f"wrong-{i}"})
            for i in range(12)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(401) == 5 and statuses.count(429) == 7


async def test_an_api_key_is_not_a_session_to_revoke(client, world):
    headers = {"Authorization": f"Bearer {world.evaluator_key}"}
    assert_problem(await client.delete("/api/v1/auth/token", headers=headers), 403, "not_a_session")
    assert (await client.get("/api/v1/evaluator/me", headers=headers)).status_code == 200


async def test_member_cookie_lasts_as_long_as_the_session_and_staff_cookies_end_with_the_browser(client, world):
    client.cookies.clear()
    member = await _web_login(client, "/login", world.members["chaoyang"][1])
    assert "Max-Age=2592000" in member.headers["set-cookie"] or "Max-Age=2591999" in member.headers["set-cookie"]
    operator = await _web_login(client, "/console/login", world.operators["beijing"])
    session_cookie = next(c for c in operator.headers.get_list("set-cookie") if c.startswith("sid_operator="))
    assert "Max-Age" not in session_cookie and "expires" not in session_cookie.lower()
